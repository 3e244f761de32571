"""Reading and writing images losslessly, with clear errors for odd files.

Everything fusionbench reads becomes ``uint8``: a gray image is ``(H, W)``, a colour image
``(H, W, 3)``. Odd files are normalised on purpose and the rule is stated here:

* 16-bit gray (``I;16``) and 32-bit (``I``/``F``) images are scaled linearly from their
  full type range to 0..255 and rounded (a 16-bit value ``v`` becomes ``round(v / 257)``).
* RGBA / LA images lose their alpha channel (it is never composited over a background).
* Palette (``P``) images are expanded through their palette.
* Colour images whose three channels are equal are returned as they are (3 channels); the
  caller decides whether they are gray (see :func:`fusionbench.colour.is_gray_rgb`).

>>> import numpy as np, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.png")
>>> write_image(path, np.zeros((2, 3), np.uint8))
>>> read_image(path).shape
(2, 3)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from fusionbench.atomic import atomic_file
from fusionbench.errors import ImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".pgm", ".ppm")
#: Pillow decoders allowed to open a file. Pillow picks a decoder from the file's content, not
#: its name: without this list a ``.png`` holding PostScript would be handed to Ghostscript.
SAFE_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "GIF", "PPM")


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
        arr = np.asarray(img).astype(np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max(initial=0) <= 65535 else 2**32 - 1
        return np.clip(np.rint(arr * 255.0 / top), 0, 255).astype(np.uint8)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        if not np.all(np.isfinite(arr)):
            raise ImageError(path, "float image contains NaN or infinite values")
        scale = 255.0 if arr.max(initial=0) <= 1.0 else 1.0
        return np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8)
    raise ImageError(path, f"unsupported image mode {mode!r}")


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as ``uint8`` (``(H, W)`` gray or ``(H, W, 3)`` colour).

    Raises :class:`ImageError` naming the file when it is missing, empty, corrupt or of a
    mode that cannot be interpreted.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageError(path, "file not found")
    if path.stat().st_size == 0:
        raise ImageError(path, "file is empty")
    try:
        with Image.open(path, formats=SAFE_FORMATS) as img:
            img.load()
            arr = _to_uint8(img, path)
    except ImageError:
        raise
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
