"""Compiled kernels (numba) behind :mod:`fusionbench.metrics.edge_transfer`: the Sobel responses
of Qabf and Nabf in one pass per pixel, with the additions of the numpy formulations
(:mod:`fusionbench.metrics._edge_numpy`) in the same order and no fused multiply-adds, so the
results are the same bits (signed zeros included: Nabf's angle ``atan(gv / gh)`` tells
``gh = -0`` from ``+0``).

>>> import numpy as np
>>> x = np.pad(np.tile(np.arange(4.0), (4, 1)), 1, mode="reflect")
>>> gv, gh, g = (np.empty((4, 4)) for _ in range(3))
>>> sobel_kumar_padded(x, gv, gh, g)
>>> gv[1].tolist(), g[1].tolist()
([0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0])
"""

from __future__ import annotations

import numba
import numpy as np

#: No fast-math: every product and sum is rounded as numpy rounds it.
_JIT = {"cache": True, "boundscheck": False, "nogil": True, "error_model": "numpy"}


@numba.njit(**_JIT)
def sobel_matlab_padded(p: np.ndarray, hx: np.ndarray, hy: np.ndarray, g: np.ndarray,
                        ratio: np.ndarray) -> None:
    """From the zero-padded image ``p`` (H + 2, W + 2): ``sx, sy`` = MATLAB ``conv2(x, h,
    'same')`` with the 3 x 3 kernels ``hx``, ``hy`` (``acc = acc + h * x`` from 0, kernel
    elements column by column, zero elements skipped: :func:`~fusionbench.metrics.matlab_ops.
    conv2_same`), then ``g = sqrt(sx * sx + sy * sy)`` and ``ratio = sy / sx`` (``inf`` where
    ``sx == 0``, whose ``arctan`` is pi/2)."""
    rows, cols = g.shape
    for i in range(rows):
        for j in range(cols):
            sx = 0.0
            sy = 0.0
            for col in range(3):
                for row in range(3):
                    v = p[i + 2 - row, j + 2 - col]
                    if hx[row, col] != 0.0:
                        sx = sx + hx[row, col] * v
                    if hy[row, col] != 0.0:
                        sy = sy + hy[row, col] * v
            g[i, j] = np.sqrt(sx * sx + sy * sy)
            ratio[i, j] = np.inf if sx == 0.0 else sy / sx


@numba.njit(**_JIT)
def sobel_kumar_padded(e: np.ndarray, gv: np.ndarray, gh: np.ndarray, g: np.ndarray) -> None:
    """From the mirrored image ``e`` (H + 2, W + 2): ``sobel_fn.m``'s vertical and horizontal
    responses ``gv``, ``gh`` (each 3 x 3 window times the kernel /8, summed down each column,
    then ``(col0 + col1) + col2``) and ``g = sqrt(gh^2 + gv^2)``."""
    rows, cols = g.shape
    # one output array per loop: LLVM vectorises such a loop (not one writing three arrays)
    for i in range(rows):
        # vtemp = [-1 0 1; -2 0 2; -1 0 1] / 8
        for j in range(cols):
            v0 = e[i, j] * -0.125
            v0 = v0 + e[i + 1, j] * -0.25
            v0 = v0 + e[i + 2, j] * -0.125
            v1 = e[i, j + 1] * 0.0
            v1 = v1 + e[i + 1, j + 1] * 0.0
            v1 = v1 + e[i + 2, j + 1] * 0.0
            v2 = e[i, j + 2] * 0.125
            v2 = v2 + e[i + 1, j + 2] * 0.25
            v2 = v2 + e[i + 2, j + 2] * 0.125
            gv[i, j] = (v0 + v1) + v2
        # htemp = [-1 -2 -1; 0 0 0; 1 2 1] / 8
        for j in range(cols):
            h0 = e[i, j] * -0.125
            h0 = h0 + e[i + 1, j] * 0.0
            h0 = h0 + e[i + 2, j] * 0.125
            h1 = e[i, j + 1] * -0.25
            h1 = h1 + e[i + 1, j + 1] * 0.0
            h1 = h1 + e[i + 2, j + 1] * 0.25
            h2 = e[i, j + 2] * -0.125
            h2 = h2 + e[i + 1, j + 2] * 0.0
            h2 = h2 + e[i + 2, j + 2] * 0.125
            gh[i, j] = (h0 + h1) + h2
        for j in range(cols):
            x = gv[i, j]
            y = gh[i, j]
            g[i, j] = np.sqrt(y * y + x * x)
