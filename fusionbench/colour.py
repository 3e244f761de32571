"""Colour conversions used by fusion and by the metric profiles.

* :func:`rgb2gray_matlab` reproduces MATLAB ``rgb2gray`` on uint8 input exactly (weights
  0.298936021293775, 0.587043074451121, 0.114020904255103, rounded half away from zero).
* :func:`rgb_to_ycbcr` / :func:`ycbcr_to_rgb` are the full-range (JPEG, BT.601) transform in
  float, used to fuse a colour image on its luminance and give the colour back.

>>> import numpy as np
>>> rgb2gray_matlab(np.array([[[255, 0, 0]]], np.uint8))
array([[76]], dtype=uint8)
"""

from __future__ import annotations

import numpy as np

MATLAB_GRAY_WEIGHTS = (0.298936021293775, 0.587043074451121, 0.114020904255103)


def is_gray_rgb(image: np.ndarray) -> bool:
    """True for a 3-channel image whose channels are all equal.

    >>> is_gray_rgb(np.zeros((2, 2, 3), np.uint8))
    True
    """
    return (
        image.ndim == 3
        and image.shape[2] == 3
        and bool(np.array_equal(image[..., 0], image[..., 1]))
        and bool(np.array_equal(image[..., 0], image[..., 2]))
    )


def rgb2gray_matlab(image: np.ndarray) -> np.ndarray:
    """MATLAB ``rgb2gray`` of a uint8 image (gray input is returned unchanged)."""
    if image.ndim == 2:
        return image
    rgb = image[..., :3].astype(np.float64)
    w_r, w_g, w_b = MATLAB_GRAY_WEIGHTS
    y = w_r * rgb[..., 0] + w_g * rgb[..., 1] + w_b * rgb[..., 2]
    # Rounding half away from zero == floor(y + 0.5) for y >= 0.
    return np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """Full-range YCbCr (float, 0..255) of an RGB array on 0..255.

    >>> ycc = rgb_to_ycbcr(np.array([[[10.0, 200.0, 30.0]]]))
    >>> np.allclose(ycbcr_to_rgb(ycc), [[[10, 200, 30]]])
    True
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128.0 - 0.168735892 * r - 0.331264108 * g + 0.5 * b
    cr = 128.0 + 0.5 * r - 0.418687589 * g - 0.081312411 * b
    return np.stack([y, cb, cr], axis=-1)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr` (float, not clipped)."""
    ycc = np.asarray(ycc, dtype=np.float64)
    y, cb, cr = ycc[..., 0], ycc[..., 1] - 128.0, ycc[..., 2] - 128.0
    r = y + 1.402 * cr
    g = y - 0.344136286 * cb - 0.714136286 * cr
    b = y + 1.772 * cb
    return np.stack([r, g, b], axis=-1)
