"""numpy formulation of :mod:`fusionbench.metrics._edge_kernels`, used when numba is missing or
cannot compile (see :func:`fusionbench.metrics._compiled.edge_kernels`): same names, arguments
and outputs, the same operations in the same order (the same bits).

>>> x = np.pad(np.tile(np.arange(4.0), (4, 1)), 1, mode="reflect")
>>> gv, gh, g = (np.empty((4, 4)) for _ in range(3))
>>> sobel_kumar_padded(x, gv, gh, g)
>>> gv[1].tolist(), g[1].tolist()
([0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0])
"""

from __future__ import annotations

import numpy as np


def _conv2_padded(p: np.ndarray, h: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """MATLAB ``conv2(x, h, 'same')`` from the zero-padded ``p``: ``out += h * x`` one kernel
    element at a time, column by column, zero elements skipped."""
    out = np.zeros((rows, cols))
    for col in range(3):
        for row in range(3):
            weight = float(h[row, col])
            if weight != 0.0:
                out += weight * p[2 - row:2 - row + rows, 2 - col:2 - col + cols]
    return out


def sobel_matlab_padded(p: np.ndarray, hx: np.ndarray, hy: np.ndarray, g: np.ndarray,
                        ratio: np.ndarray) -> None:
    """``g = sqrt(sx^2 + sy^2)`` and ``ratio = sy / sx`` (``inf`` where ``sx == 0``) of the
    MATLAB-order Sobel responses of the zero-padded image ``p``."""
    sx = _conv2_padded(p, hx, *g.shape)
    sy = _conv2_padded(p, hy, *g.shape)
    g[...] = np.sqrt(sx * sx + sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio[...] = np.where(sx == 0, np.inf, sy / sx)


def sobel_kumar_padded(e: np.ndarray, gv: np.ndarray, gh: np.ndarray, g: np.ndarray) -> None:
    """``sobel_fn.m``'s responses ``gv``, ``gh`` of the mirrored image ``e`` and
    ``g = sqrt(gh^2 + gv^2)``."""
    m, n = g.shape

    def win(dr: int, dc: int) -> np.ndarray:
        return e[dr:dr + m, dc:dc + n]

    # vtemp = [-1 0 1; -2 0 2; -1 0 1]/8 and htemp = [-1 -2 -1; 0 0 0; 1 2 1]/8, column-major.
    v = [[-0.125, -0.25, -0.125], [0.0, 0.0, 0.0], [0.125, 0.25, 0.125]]  # v[col][row]
    h = [[-0.125, 0.0, 0.125], [-0.25, 0.0, 0.25], [-0.125, 0.0, 0.125]]
    for kernel, out in ((v, gv), (h, gh)):
        cols = []
        for c in range(3):
            s = win(0, c) * kernel[c][0]
            s = s + win(1, c) * kernel[c][1]
            s = s + win(2, c) * kernel[c][2]
            cols.append(s)
        out[...] = (cols[0] + cols[1]) + cols[2]
    g[...] = np.sqrt(gh * gh + gv * gv)
