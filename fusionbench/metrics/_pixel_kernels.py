"""Compiled (numba) per-pixel kernels behind :mod:`~fusionbench.metrics.spatial` and
:mod:`~fusionbench.metrics.histogram`.

Each kernel does in one pass, without full-size temporaries, what the numpy formulation does in
several: a histogram, or the sum of a per-pixel quantity. Sums run along each row (8 interleaved
partial sums, in a fixed order) and then over the row totals in order; with at most a few
thousand terms per level the rounding stays near 1e-15 relative (numpy's pairwise sums differ
from these in the last bits only; the tests compare them). Inputs may be ``uint8`` or float64;
arithmetic is float64 without fast-math.

>>> import numpy as np
>>> img = np.array([[0, 10, 30], [0, 10, 30]], np.uint8)
>>> squared_neighbour_difference_sums(img, 1.0)  # vertical, horizontal
(0.0, 1000.0)
>>> counts = np.zeros(256, np.int64)
>>> histogram(img, counts)
>>> int(counts[0]), int(counts[10])
(2, 2)
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = {"cache": True, "boundscheck": False, "nogil": True, "error_model": "numpy"}


@numba.njit(inline="always", **_JIT)
def _row_sum(values: np.ndarray) -> float:
    """Sum of a row in a fixed order: 8 interleaved partial sums (so that the additions overlap
    in the CPU), then those 8 in order."""
    partial = np.zeros(8)
    n = values.shape[0]
    head = n - n % 8
    for i in range(0, head, 8):
        for j in range(8):
            partial[j] += values[i + j]
    for i in range(head, n):
        partial[i - head] += values[i]
    total = 0.0
    for j in range(8):
        total += partial[j]
    return total


@numba.njit(inline="always", **_JIT)
def _magnitude(gx: float, gy: float) -> float:
    return np.sqrt((gx * gx + gy * gy) / 2.0)


@numba.njit(**_JIT)
def gradient_magnitude_sum(f: np.ndarray) -> float:
    """Sum over the pixels of ``sqrt((gx^2 + gy^2) / 2)`` with MATLAB ``gradient`` (central
    differences inside, one-sided on the border) of ``f`` (H, W), H and W at least 2."""
    height, width = f.shape
    last = width - 1
    values = np.empty(width)
    total = 0.0
    for r in range(height):
        up = r - 1 if r > 0 else 0
        down = r + 1 if r < height - 1 else height - 1
        row, above, below = f[r], f[up], f[down]
        y_div = 2.0 if 0 < r < height - 1 else 1.0
        for c in range(1, last):
            gx = (np.float64(row[c + 1]) - np.float64(row[c - 1])) / 2.0
            gy = (np.float64(below[c]) - np.float64(above[c])) / y_div
            values[c] = _magnitude(gx, gy)
        values[0] = _magnitude(np.float64(row[1]) - np.float64(row[0]),
                               (np.float64(below[0]) - np.float64(above[0])) / y_div)
        values[last] = _magnitude(np.float64(row[last]) - np.float64(row[last - 1]),
                                  (np.float64(below[last]) - np.float64(above[last])) / y_div)
        total += _row_sum(values)
    return total


@numba.njit(**_JIT)
def squared_neighbour_difference_sums(f: np.ndarray, scale: float) -> tuple[float, float]:
    """With ``x = f / scale``: sums of ``(x[1:] - x[:-1])^2`` (vertical neighbours) and of
    ``(x[:, 1:] - x[:, :-1])^2`` (horizontal neighbours)."""
    height, width = f.shape
    values = np.empty(width)
    vertical = 0.0
    horizontal = 0.0
    for r in range(height):
        row = f[r]
        for c in range(width - 1):
            d = np.float64(row[c + 1]) / scale - np.float64(row[c]) / scale
            values[c] = d * d
        horizontal += _row_sum(values[:width - 1])
        if r + 1 < height:
            below = f[r + 1]
            for c in range(width):
                d = np.float64(below[c]) / scale - np.float64(row[c]) / scale
                values[c] = d * d
            vertical += _row_sum(values)
    return vertical, horizontal


@numba.njit(**_JIT)
def squared_deviation_sum(f: np.ndarray, mean: float, saturate: bool) -> float:
    """Sum of ``(f - mean)^2`` over the pixels of ``f``; with ``saturate``, MATLAB's
    ``uint8(F - mean).^2`` on a uint8 image instead: ``min(clip(floor(f - mean + 0.5), 0,
    255)^2, 255)`` (rounding half away from zero, negatives to 0, saturating square)."""
    values = np.empty(f.shape[1])
    total = 0.0
    for r in range(f.shape[0]):
        row = f[r]
        for c in range(row.shape[0]):
            d = np.float64(row[c]) - mean
            if saturate:
                d = min(max(np.floor(d + 0.5), 0.0), 255.0)
                values[c] = min(d * d, 255.0)
            else:
                values[c] = d * d
        total += _row_sum(values)
    return total


@numba.njit(**_JIT)
def joint_histogram(x: np.ndarray, y: np.ndarray, top: int, counts: np.ndarray) -> None:
    """``counts[256 * min(x, top) + min(y, top)] += 1`` over the pixels of two uint8 images
    (``counts`` has 65536 zeroed bins; ``top`` = 255 for the plain histogram)."""
    fx, fy = x.ravel(), y.ravel()
    for i in range(fx.shape[0]):
        counts[256 * min(np.int64(fx[i]), top) + min(np.int64(fy[i]), top)] += 1


@numba.njit(**_JIT)
def histogram(x: np.ndarray, counts: np.ndarray) -> None:
    """``counts[x] += 1`` over the pixels of a uint8 image (``counts``: 256 zeroed bins)."""
    flat = x.ravel()
    for i in range(flat.shape[0]):
        counts[flat[i]] += 1
