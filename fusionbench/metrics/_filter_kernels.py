"""Compiled (numba) 'valid' separable filtering with a symmetric window, with the rounding of
``scipy.ndimage.correlate1d`` (used by :mod:`fusionbench.metrics.structural`).

For a symmetric window scipy adds, at each output, the centre tap ``x[c] * w[h]`` and then the
pairs ``(x[c - j] + x[c + j]) * w[h - j]`` from the outermost (j = h) inwards; this kernel does
the same operations in the same order (no fused multiply-adds), along the rows first and then
along the columns, and computes only the 'valid' outputs. The result is the same bit for bit
as ``correlate1d`` along axis 0 and then axis 1, cropped (see the tests), several times faster.

>>> import numpy as np
>>> out = np.empty((1, 2))
>>> correlate_valid(np.arange(12.0).reshape(3, 4), np.array([0.25, 0.5, 0.25]), out)
>>> out.tolist()
[[5.0, 6.0]]
"""

from __future__ import annotations

import numba
import numpy as np

_JIT = {"cache": True, "boundscheck": False, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def correlate_valid(x: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    """'valid' correlation of the 2-D ``x`` with the symmetric odd-length ``w`` along axis 0,
    then axis 1, into ``out`` (H - n + 1, W - n + 1)."""
    n = w.shape[0]
    h = n // 2
    rows, cols = out.shape
    width = x.shape[1]
    tmp = np.empty(width)
    centre = w[h]
    for r in range(rows):
        c_row = x[r + h]
        for c in range(width):
            tmp[c] = c_row[c] * centre
        for j in range(h, 0, -1):
            up, down, wj = x[r + h - j], x[r + h + j], w[h - j]
            for c in range(width):
                tmp[c] += (up[c] + down[c]) * wj
        o = out[r]
        for c in range(cols):
            o[c] = tmp[c + h] * centre
        for j in range(h, 0, -1):
            wj = w[h - j]
            for c in range(cols):
                o[c] += (tmp[c + h - j] + tmp[c + h + j]) * wj
