"""Applying a gray fusion callable to real image pairs: the colour rule and output checks.

Methods fuse 2-D gray float images on [0, 1]. The rule for colour, stated once:

* gray inputs (and 3-channel images with R=G=B) stay gray: the fused image is gray;
* one colour source (a visible image, a pseudo-colour PET/SPECT image) is fused on its
  luminance Y (full-range BT.601 YCbCr) and the fused Y gets that source's Cb/Cr back;
* two colour sources (multi-focus) are fused on Y and their chroma is blended per pixel,
  each weighted by its distance from neutral, ``|C - 128|`` (the more saturated wins);
* metrics always see gray (each profile applies its own gray conversion).

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


def fuse_images(fuse: FuseFn, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Fuse two uint8 images with a gray fusion callable; returns uint8 gray or RGB.

    Raises :class:`MethodError` when the method returns the wrong shape, NaN or infinity.
    """
    if a.shape[:2] != b.shape[:2]:
        raise MethodError(f"source sizes differ: {a.shape[1]}x{a.shape[0]} vs "
                          f"{b.shape[1]}x{b.shape[0]}")
    y_a, chroma_a = _luma_and_chroma(a)
    y_b, chroma_b = _luma_and_chroma(b)
    fused = np.asarray(fuse(y_a / 255.0, y_b / 255.0), dtype=np.float64)
    if fused.shape != y_a.shape:
        raise MethodError(f"method returned shape {fused.shape}, expected {y_a.shape}")
    bad = ~np.isfinite(fused)
    if bad.any():
        raise MethodError(f"method returned {int(bad.sum())} NaN/inf pixels")
    y = np.clip(fused, 0.0, 1.0) * 255.0
    if chroma_a is None and chroma_b is None:
        return np.rint(y).astype(np.uint8)
    if chroma_a is not None and chroma_b is not None:
        chroma = _blend_chroma(chroma_a, chroma_b)
    else:
        chroma = chroma_a if chroma_a is not None else chroma_b
    rgb = ycbcr_to_rgb(np.concatenate([y[..., None], chroma], axis=-1))
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
