"""Pixel-wise fusion rules: average, maximum and max-abs (largest deviation from the mean).

>>> import numpy as np
>>> a = np.array([[0.1, 0.9]] * 8 * 4).reshape(8, 8)
>>> b = 1.0 - a
>>> float(average_fuse(a, b).mean()), float(maximum_fuse(a, b).min())
(0.5, 0.9)
"""

from __future__ import annotations

import numpy as np

from ._common import check_pair


def average_fuse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixel-wise mean ``(a + b) / 2``."""
    x, y = check_pair(a, b, "average")
    return 0.5 * (x + y)


def maximum_fuse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixel-wise maximum ``max(a, b)``."""
    x, y = check_pair(a, b, "maximum")
    return np.maximum(x, y)


def max_abs_fuse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per pixel, the source whose value lies farther from its own image mean.

    Each source is compared as ``|x - mean(x)|`` (a zero-mean version of it), so a dark object on a
    bright background counts as salient as a bright one on a dark background; the chosen pixel is
    the original value, not the zero-mean one. Ties go to ``a``.

    >>> a = np.zeros((8, 8)); a[0, 0] = 1.0     # a: one bright pixel
    >>> b = np.full((8, 8), 0.5); b[0, 1] = 0.0  # b: one dark pixel
    >>> out = max_abs_fuse(a, b)
    >>> float(out[0, 0]), float(out[0, 1]), float(out[4, 4])
    (1.0, 0.0, 0.0)
    """
    x, y = check_pair(a, b, "max-abs")
    dx = np.abs(x - x.mean())
    dy = np.abs(y - y.mean())
    return np.where(dx >= dy, x, y)
