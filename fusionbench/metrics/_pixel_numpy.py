"""numpy formulation of :mod:`fusionbench.metrics._pixel_kernels`, used when numba is missing
or cannot compile (see :func:`fusionbench.metrics._compiled.pixel_kernels`).

Same names, arguments and outputs; the histograms are the same counts, the sums are numpy's
pairwise sums of the same terms (they differ from the compiled row sums in the last bits).

>>> img = np.array([[0, 10, 30], [0, 10, 30]], np.uint8)
>>> squared_neighbour_difference_sums(img, 1.0)
(0.0, 1000.0)
"""

from __future__ import annotations

import numpy as np


def gradient_magnitude_sum(f: np.ndarray) -> float:
    """Sum of ``sqrt((gx^2 + gy^2) / 2)`` with MATLAB ``gradient`` of ``f`` (H, W >= 2)."""
    gy, gx = np.gradient(f.astype(np.float64))
    return float(np.sqrt((gx * gx + gy * gy) / 2.0).sum())


def squared_neighbour_difference_sums(f: np.ndarray, scale: float) -> tuple[float, float]:
    """With ``x = f / scale``: sums of squared vertical and horizontal neighbour differences."""
    x = f.astype(np.float64) / scale
    return float((np.diff(x, axis=0) ** 2).sum()), float((np.diff(x, axis=1) ** 2).sum())


def squared_deviation_sum(f: np.ndarray, mean: float, saturate: bool) -> float:
    """Sum of ``(f - mean)^2``; with ``saturate`` MATLAB's ``uint8(F - mean).^2``."""
    d = f.astype(np.float64) - mean
    if saturate:
        d = np.clip(np.floor(d + 0.5), 0.0, 255.0)
        return float(np.minimum(d * d, 255.0).sum())
    return float((d * d).sum())


def joint_histogram(x: np.ndarray, y: np.ndarray, top: int, counts: np.ndarray) -> None:
    """``counts[256 * min(x, top) + min(y, top)] += 1`` over the pixels of two uint8 images."""
    index = 256 * np.minimum(x.ravel(), top).astype(np.int64) + np.minimum(y.ravel(), top)
    counts += np.bincount(index, minlength=65536)


def histogram(x: np.ndarray, counts: np.ndarray) -> None:
    """``counts[x] += 1`` over the pixels of a uint8 image."""
    counts += np.bincount(x.ravel(), minlength=256)
