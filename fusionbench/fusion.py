"""Applying a gray fusion callable to real image pairs: the colour rule and output checks.

Methods fuse 2-D gray float images on [0, 1]. The rule for colour, stated once:

* gray inputs (and 3-channel images with R=G=B) stay gray: the fused image is gray;
* one colour source (a visible image, a pseudo-colour PET/SPECT image) is fused on its
  luminance Y (full-range BT.601 YCbCr) and the fused Y gets that source's Cb/Cr back;
* two colour sources (multi-focus) are fused on Y and their chroma is blended per pixel,
  each weighted by its distance from neutral, ``|C - 128|`` (the more saturated wins);
* metrics always see gray (each profile applies its own gray conversion).

The output contract of a fusion callable ``fuse(a, b)``, checked on every call by
:func:`check_output`: it returns a float array of the inputs' shape ``(H, W)`` on [0, 1]. Small
overshoots of filters (values in [-0.5, 1.5]) are clipped to [0, 1]; anything else is a
:class:`~fusionbench.errors.MethodError` naming the method, never a clipped image: an integer
or boolean array (e.g. ``uint8`` 0..255), floats above 1.5 (a 0..255 image), NaN or infinity,
or another shape (a colour ``(H, W, 3)`` result included: callables fuse luminance, and the
colour rule above is applied around them).

>>> import numpy as np
>>> a = np.zeros((4, 4), np.uint8); b = np.full((4, 4), 200, np.uint8)
>>> fuse_images(lambda x, y: (x + y) / 2, a, b)[0, 0]
np.uint8(100)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fusionbench.colour import is_gray_rgb, rgb_to_ycbcr, ycbcr_to_rgb
from fusionbench.errors import MethodError

FuseFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
#: Output values a fusion callable may return and still be clipped to [0, 1].
OUTPUT_TOLERANCE = (-0.5, 1.5)


def method_label(fuse: Callable[..., object]) -> str:
    """A name for a fusion callable in messages when the caller gives none.

    >>> def my_fuse(a, b): return a
    >>> method_label(my_fuse)
    'my_fuse'
    """
    return str(getattr(fuse, "__name__", None) or type(fuse).__name__)


def check_output(output: object, shape: tuple[int, ...], method: str) -> np.ndarray:
    """A fusion callable's output as float64 on [0, 1], or a :class:`MethodError` naming it.

    >>> check_output(np.full((2, 2), 1.2), (2, 2), "m").max()
    np.float64(1.0)
    >>> check_output(np.full((2, 2), 200.0), (2, 2), "m")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fusionbench.errors.MethodError: method 'm' returned values up to 200 (a 0..255 image?); ...
    """
    expect = f"expected a float array of shape {shape} on [0, 1]"
    try:
        arr = np.asarray(output)
    except Exception as exc:  # an object numpy cannot convert
        raise MethodError(f"method {method!r} returned {type(output).__name__} that is not an "
                          f"array ({exc}); {expect}") from exc
    if arr.dtype == bool or np.issubdtype(arr.dtype, np.integer):
        raise MethodError(f"method {method!r} returned an integer array ({arr.dtype}); a "
                          "fusion callable returns floats on [0, 1] (divide 0..255 data by "
                          "255)")
    if not np.issubdtype(arr.dtype, np.floating):
        raise MethodError(f"method {method!r} returned {type(output).__name__} of dtype "
                          f"{arr.dtype}; {expect}")
    if arr.shape != shape:
        raise MethodError(f"method {method!r} returned shape {arr.shape}, {expect}")
    arr = arr.astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise MethodError(f"method {method!r} returned {int(bad.sum())} NaN/inf pixels")
    low, high = float(arr.min()), float(arr.max())
    if high > OUTPUT_TOLERANCE[1]:
        raise MethodError(f"method {method!r} returned values up to {high:g} (a 0..255 "
                          "image?); a fusion callable returns floats on [0, 1]")
    if low < OUTPUT_TOLERANCE[0]:
        raise MethodError(f"method {method!r} returned values down to {low:g}; a fusion "
                          "callable returns floats on [0, 1]")
    return np.clip(arr, 0.0, 1.0)


def _luma_and_chroma(image: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Y on 0..255 (float) and the CbCr planes, or ``None`` for a gray image."""
    if image.ndim == 2:
        return image.astype(np.float64), None
    if is_gray_rgb(image):
        return image[..., 0].astype(np.float64), None
    ycc = rgb_to_ycbcr(image)
    return ycc[..., 0], ycc[..., 1:]


def _blend_chroma(c_a: np.ndarray, c_b: np.ndarray) -> np.ndarray:
    w_a, w_b = np.abs(c_a - 128.0), np.abs(c_b - 128.0)
    total = w_a + w_b
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, (c_a * w_a + c_b * w_b) / safe, 128.0)


def fuse_images(fuse: FuseFn, a: np.ndarray, b: np.ndarray, *,
                name: str | None = None) -> np.ndarray:
    """Fuse two uint8 images with a gray fusion callable; returns uint8 gray or RGB.

    Raises :class:`MethodError` naming the method (``name``, else the callable's name) when
    its output breaks the contract (see :func:`check_output`).
    """
    if a.shape[:2] != b.shape[:2]:
        raise MethodError(f"source sizes differ: {a.shape[1]}x{a.shape[0]} vs "
                          f"{b.shape[1]}x{b.shape[0]}")
    y_a, chroma_a = _luma_and_chroma(a)
    y_b, chroma_b = _luma_and_chroma(b)
    fused = check_output(fuse(y_a / 255.0, y_b / 255.0), y_a.shape, name or method_label(fuse))
    y = fused * 255.0
    if chroma_a is None and chroma_b is None:
        return np.rint(y).astype(np.uint8)
    if chroma_a is not None and chroma_b is not None:
        chroma = _blend_chroma(chroma_a, chroma_b)
    else:
        chroma = chroma_a if chroma_a is not None else chroma_b
    rgb = ycbcr_to_rgb(np.concatenate([y[..., None], chroma], axis=-1))
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
