"""Output paths: what a method's authors did to the fused image before scoring it.

Some papers did not score the network's output as it is: CLF-Net's test script, for example,
stretched each fused image to its own min..max, rounded it to 8 bits and saved it as a JPEG
(Pillow's default quality, 75), and the paper's numbers were computed on those files. A method
card reproduces such a path with a ``postprocess`` list of steps, applied in order to the gray
float ``(H, W)`` image on ``[0, 1]`` that the method returns::

    postprocess = ["minmax", "jpeg:75"]

Steps:

* ``minmax``: stretch to the image's own min..max, i.e. ``(x - min) / (max - min)``; a constant
  image is returned unchanged.
* ``uint8``: round to 8 bits, ``floor(255 x + 0.5) / 255`` (what saving to an 8-bit file does).
* ``jpeg[:Q]``: round to 8 bits, encode as a gray baseline JPEG of quality ``Q`` (default 75)
  with Pillow, decode it back.

>>> import numpy as np
>>> steps = parse_steps(["minmax", "jpeg:75"])
>>> [s.spec for s in steps]
['minmax', 'jpeg:75']
>>> out = apply_steps(steps, np.linspace(0.2, 0.6, 64 * 64).reshape(64, 64))
>>> round(float(out.min()), 2), round(float(out.max()), 2), out.dtype
(0.0, 1.0, dtype('float64'))
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fusionbench.errors import MethodError

#: Pillow's default JPEG quality (what ``Image.save("x.jpg")`` uses).
DEFAULT_JPEG_QUALITY = 75


def minmax_stretch(image: np.ndarray) -> np.ndarray:
    """``(x - min) / (max - min)`` per image; a constant image is returned unchanged.

    >>> minmax_stretch(np.array([[0.25, 0.5], [0.75, 0.5]])).tolist()
    [[0.0, 0.5], [1.0, 0.5]]
    """
    x = np.asarray(image, dtype=np.float64)
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return x.copy()
    return (x - lo) / (hi - lo)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """``[0, 1]`` float -> ``uint8`` by ``floor(255 x + 0.5)`` (values outside are clipped).

    >>> to_uint8(np.array([0.0, 0.5, 1.0, 1.2])).tolist()
    [0, 128, 255, 255]
    """
    return np.floor(np.clip(np.asarray(image, dtype=np.float64), 0.0, 1.0) * 255.0 + 0.5).astype(
        np.uint8
    )


def quantise_uint8(image: np.ndarray) -> np.ndarray:
    """The image as an 8-bit file holds it, back on ``[0, 1]``.

    >>> quantise_uint8(np.array([0.0, 0.5001])).tolist()
    [0.0, 0.5019607843137255]
    """
    return to_uint8(image).astype(np.float64) / 255.0


def jpeg_round_trip(image: np.ndarray, quality: int = DEFAULT_JPEG_QUALITY) -> np.ndarray:
    """Encode the gray image as an 8-bit JPEG of ``quality`` with Pillow and decode it back.

    >>> x = np.tile(np.linspace(0, 1, 32), (32, 1))
    >>> y = jpeg_round_trip(x, 75)
    >>> y.shape, bool(np.abs(y - x).max() < 0.1), bool((y != quantise_uint8(x)).any())
    ((32, 32), True, True)
    """
    from PIL import Image

    if not 1 <= quality <= 95:
        raise ValueError(f"JPEG quality must be 1..95 (Pillow's range), got {quality}")
    pixels = to_uint8(image)
    if pixels.ndim != 2:
        raise ValueError(f"jpeg_round_trip needs a 2-D gray image, got shape {pixels.shape}")
    buffer = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("L"), dtype=np.float64) / 255.0


@dataclass(frozen=True)
class Step:
    """One parsed post-processing step: its card spelling and the function it applies."""

    spec: str
    function: Callable[[np.ndarray], np.ndarray]

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return self.function(image)


def _parse_one(spec: str) -> Step:
    name, _, arg = spec.strip().lower().partition(":")
    if name == "minmax" and not arg:
        return Step("minmax", minmax_stretch)
    if name == "uint8" and not arg:
        return Step("uint8", quantise_uint8)
    if name == "jpeg":
        try:
            quality = int(arg) if arg else DEFAULT_JPEG_QUALITY
        except ValueError:
            raise ValueError(f"JPEG quality must be an integer: {spec!r}") from None
        if not 1 <= quality <= 95:
            raise ValueError(f"JPEG quality must be 1..95: {spec!r}")
        return Step(f"jpeg:{quality}", lambda x: jpeg_round_trip(x, quality))
    raise ValueError(f"unknown post-processing step {spec!r} (known: minmax, uint8, jpeg[:Q])")


def parse_steps(specs: Sequence[str] | None) -> list[Step]:
    """Parse a card's ``postprocess`` list (``None`` or empty: no steps).

    >>> parse_steps(["JPEG"])[0].spec
    'jpeg:75'
    >>> parse_steps(["blur"])
    Traceback (most recent call last):
    ...
    ValueError: unknown post-processing step 'blur' (known: minmax, uint8, jpeg[:Q])
    """
    if specs is None:
        return []
    if isinstance(specs, str) or not all(isinstance(s, str) for s in specs):
        raise ValueError(f"postprocess must be a list of step names, got {specs!r}")
    return [_parse_one(s) for s in specs]


def apply_steps(steps: Sequence[Step], image: np.ndarray) -> np.ndarray:
    """Apply ``steps`` in order to a gray float image (no steps: the image unchanged)."""
    out = image
    for step in steps:
        out = step(out)
    return out


class PostprocessedFuser:
    """A fusion callable whose gray output goes through ``steps``; other attributes (``device``,
    ``weights``, ...) are those of the wrapped callable.

    >>> fuse = PostprocessedFuser(lambda a, b: (a + b) / 4, parse_steps(["minmax"]))
    >>> fuse(np.zeros((2, 2)), np.eye(2)).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    >>> fuse.postprocess
    ['minmax']
    """

    def __init__(self, fuse: Callable[..., Any], steps: Sequence[Step], name: str = "") -> None:
        self._fuse = fuse
        self._steps = list(steps)
        self._name = name
        self.postprocess = [s.spec for s in self._steps]

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out = np.asarray(self._fuse(a, b))
        if out.ndim != 2:
            raise MethodError(
                f"method {self._name or '?'}: post-processing {self.postprocess} needs a gray "
                f"(H, W) output, got shape {out.shape}"
            )
        return apply_steps(self._steps, out)

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._fuse, attr)
