"""Reading and writing images losslessly, with clear errors for odd files.

Everything fusionbench reads becomes ``uint8``: a gray image is ``(H, W)``, a colour image
``(H, W, 3)``. Odd files are normalised on purpose and the rule is stated here:

* 16-bit gray images (``I;16``, and 32-bit ``I`` images whose values all lie in 0..65535) are
  scaled from their *real* bit depth, because sensors store 10-, 12- or 14-bit data in 16-bit
  files: the depth is the smallest of 8, 10, 12, 14 and 16 bits that holds the image's maximum
  (a maximum of 4095 means 12-bit data), and a value ``v`` becomes
  ``round(v * 255 / (2**depth - 1))``. A 12-bit image holding 0..4095 thus reads as 0..255,
  not as 0..16 (an almost black image); full 16-bit data (maximum above 16383) is divided by
  257. See :func:`detected_bit_depth`.
* 32-bit integer images with negative values or values above 65535 are refused: no rule can
  tell which range they use.
* Float images (``F``) on 0..1 are multiplied by 255, those on 0..255 are taken as they are
  (both rounded); any other range, NaN or infinity is refused with the range found.
* RGBA / LA images lose their alpha channel (it is never composited over a background).
* Palette (``P``) images are expanded through their palette.
* Colour images whose three channels are equal are returned as they are (3 channels); the
  caller decides whether they are gray (see :func:`fusionbench.colour.is_gray_rgb`).
* Decompression bombs: a file whose header announces more than :data:`MAX_PIXELS` pixels
  (64 Mpx, e.g. 8192 x 8192; ``$FUSIONBENCH_MAX_PIXELS`` changes it) is refused before it is
  decoded.

>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.png")
>>> write_image(path, np.zeros((2, 3), np.uint8))
>>> read_image(path).shape
(2, 3)
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from fusionbench.atomic import atomic_file
from fusionbench.errors import ImageError, UsageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".pgm", ".ppm")
#: Pillow decoders allowed to open a file. Pillow picks a decoder from the file's content, not
#: its name: without this list a ``.png`` holding PostScript would be handed to Ghostscript.
SAFE_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "GIF", "PPM")
#: Most pixels an image may announce before it is decoded (a guard against decompression bombs).
MAX_PIXELS = 1 << 26
MAX_PIXELS_ENV = "FUSIONBENCH_MAX_PIXELS"
#: Bit depths a 16-bit container is assumed to hold, smallest first.
BIT_DEPTHS = (8, 10, 12, 14, 16)


def max_pixels() -> int:
    """The decompression-bomb limit: ``$FUSIONBENCH_MAX_PIXELS`` or :data:`MAX_PIXELS`."""
    value = os.environ.get(MAX_PIXELS_ENV, "").strip()
    try:
        return int(value) if value else MAX_PIXELS
    except ValueError:
        raise UsageError(f"${MAX_PIXELS_ENV} must be a whole number of pixels, got "
                         f"{value!r}") from None


def detected_bit_depth(image: np.ndarray) -> int:
    """The real bit depth of 16-bit data: the smallest of :data:`BIT_DEPTHS` holding its maximum.

    >>> detected_bit_depth(np.array([0, 4095])), detected_bit_depth(np.array([0, 4096]))
    (12, 14)
    >>> detected_bit_depth(np.array([3, 200])), detected_bit_depth(np.array([65535]))
    (8, 16)
    """
    top = int(image.max(initial=0))
    return next(depth for depth in BIT_DEPTHS if top < (1 << depth))


def _scale_16bit(arr: np.ndarray) -> np.ndarray:
    full = float((1 << detected_bit_depth(arr)) - 1)
    return np.clip(np.rint(arr.astype(np.float64) * (255.0 / full)), 0, 255).astype(np.uint8)


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has an image suffix fusionbench can read.

    >>> is_image_file(Path("a.PNG")), is_image_file(Path("a.txt"))
    (True, False)
    """
    return path.suffix.lower() in IMAGE_SUFFIXES


def _to_uint8(img: Image.Image, path: Path) -> np.ndarray:
    mode = img.mode
    if mode == "P" or mode == "PA":
        img = img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
        mode = img.mode
    if mode in ("1", "L"):
        return np.asarray(img.convert("L"), dtype=np.uint8)
    if mode == "LA":
        return np.asarray(img.getchannel("L"), dtype=np.uint8)
    if mode in ("RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        return np.asarray(img.convert("RGB"), dtype=np.uint8)
    if mode.startswith("I;16") or mode == "I":
        arr = np.asarray(img).astype(np.int64)
        low, high = int(arr.min(initial=0)), int(arr.max(initial=0))
        if low < 0 or high > 65535:
            raise ImageError(path, f"32-bit integer image with values {low}..{high}: only "
                                   "0..65535 (16-bit data) can be read; convert it to 8 or "
                                   "16 bits")
        return _scale_16bit(arr)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ImageError(path, "float image contains NaN or infinite values")
        low, high = float(arr.min(initial=0.0)), float(arr.max(initial=0.0))
        if low < 0.0 or high > 255.0:
            raise ImageError(path, f"float image with values {low:g}..{high:g}: only 0..1 or "
                                   "0..255 can be read")
        scale = 255.0 if high <= 1.0 else 1.0
        return np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8)
    raise ImageError(path, f"unsupported image mode {mode!r}")


def _check_pixel_count(img: Image.Image, path: Path) -> None:
    width, height = img.size
    limit = max_pixels()
    if width * height > limit:
        raise ImageError(path, f"announces {width}x{height} = {width * height} pixels, more "
                               f"than the limit of {limit} (a decompression bomb?); set "
                               f"${MAX_PIXELS_ENV} to raise the limit if the file is genuine")


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``uint8`` (``(H, W)`` gray or ``(H, W, 3)`` colour).

    Raises :class:`ImageError` naming the file when it is missing, empty, corrupt, larger
    than :func:`max_pixels` or of a mode or value range that cannot be interpreted.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(path, "file not found")
    if path.stat().st_size == 0:
        raise ImageError(path, "file is empty")
    try:
        with Image.open(path, formats=SAFE_FORMATS) as img:
            _check_pixel_count(img, path)
            img.load()
            arr = _to_uint8(img, path)
    except ImageError:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageError(path, f"refused as a possible decompression bomb ({exc})") from exc
    except MemoryError as exc:
        raise ImageError(path, "not enough memory to decode this image") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise ImageError(path, f"cannot decode image ({exc})") from exc
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise ImageError(path, f"unexpected image shape {arr.shape}")
    return np.ascontiguousarray(arr)


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write ``image`` losslessly (PNG) and atomically: a reader never sees half a file.

    ``image`` must be ``uint8`` gray ``(H, W)`` or colour ``(H, W, 3)``.
    """
    path = Path(path)
    if image.dtype != np.uint8 or image.ndim not in (2, 3):
        raise ImageError(path, f"can only write uint8 (H,W) or (H,W,3), got {image.dtype} "
                               f"{image.shape}")
    with atomic_file(path) as fh:
        Image.fromarray(image).save(fh, format="PNG")
