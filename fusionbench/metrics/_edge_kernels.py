"""Compiled kernels (numba) behind :mod:`fusionbench.metrics.edge_transfer`: the Sobel responses
of Qabf and Nabf in one pass per pixel, and Qabf's per-pixel preservation arithmetic around its
two ``exp`` (which numpy takes: its vectorised ``exp`` may differ from libm's in the last bit),
with the operations of the numpy formulations (:mod:`fusionbench.metrics._edge_numpy`) in the
same order and no fused multiply-adds, so the results are the same bits (signed zeros
included: Nabf's angle ``atan(gv / gh)`` tells ``gh = -0`` from ``+0``). Each loop writes one
output array (LLVM vectorises such a loop, not one writing two).

>>> import numpy as np
>>> x = np.pad(np.tile(np.arange(4.0), (4, 1)), 1, mode="reflect")
>>> gv, gh, g = (np.empty((4, 4)) for _ in range(3))
>>> sobel_kumar_padded(x, gv, gh, g)
>>> gv[1].tolist(), g[1].tolist()
([0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0])
"""

from __future__ import annotations

import math

import numba
import numpy as np

from fusionbench.metrics._edge_numpy import (
    NABF_KA,
    NABF_KG,
    NABF_NRA,
    NABF_NRG,
    NABF_SIGMA_A,
    NABF_SIGMA_G,
    QABF_ANGLE_OFFSET,
    QABF_ANGLE_SCALE,
    QABF_TG_TA,
)

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


@numba.njit(**_JIT)
def qabf_exp_arguments(g_s: np.ndarray, a_s: np.ndarray, g_f: np.ndarray, a_f: np.ndarray,
                       arg_g: np.ndarray, arg_a: np.ndarray) -> None:
    """Qabf's sigmoid exponents per pixel of a source's and F's strength ``g`` and angle ``a``
    (1-D): ``arg_g = kg (rel - Dg)`` with ``rel = min / max`` of the strengths (F's strength
    where the two are equal, the original's quirk) and ``arg_a = ka (1 - |a_s - a_f| / (pi/2)
    - Da)``; kg = -15, Dg = 0.5, ka = -22."""
    for i in range(g_s.shape[0]):
        s, f = g_s[i], g_f[i]
        rel = min(s, f) / max(s, f)
        if s == f:
            rel = f
        arg_g[i] = (rel - 0.5) * -15.0
    for i in range(a_s.shape[0]):
        arg_a[i] = (abs(a_s[i] - a_f[i]) * QABF_ANGLE_SCALE + QABF_ANGLE_OFFSET) * -22.0


@numba.njit(**_JIT)
def qabf_weighted_preservation(g_s: np.ndarray, exp_g: np.ndarray, exp_a: np.ndarray,
                               out: np.ndarray) -> None:
    """``out = Tg Ta g_s / ((exp_a + 1) (exp_g + 1))`` (1-D): the preservation Q^{SF} weighted
    by the source's strength, from the exponentials of :func:`qabf_exp_arguments`."""
    for i in range(g_s.shape[0]):
        out[i] = QABF_TG_TA * g_s[i] / ((exp_a[i] + 1.0) * (exp_g[i] + 1.0))


@numba.njit(**_JIT)
def strong_pixels(g: np.ndarray, threshold: float, weak: float, w: np.ndarray,
                  index: np.ndarray) -> int:
    """Nabf's weights before the strong pixels' power: ``w = weak`` (1-D), and the indices of
    the pixels with ``g >= threshold`` into ``index``; returns their number."""
    w[:] = weak
    count = 0
    for i in range(g.shape[0]):  # branch-free: the test is unpredictable
        index[count] = i
        count += g[i] >= threshold
    return count


@numba.njit(**_JIT)
def artefact_pixels(g_a: np.ndarray, g_b: np.ndarray, g_f: np.ndarray,
                    index: np.ndarray) -> int:
    """The indices of the pixels where F's strength exceeds both sources' (``g_f > g_a`` and
    ``g_f > g_b``, 1-D) into ``index``; returns their number."""
    count = 0
    for i in range(g_f.shape[0]):  # branch-free: the test is unpredictable
        index[count] = i
        f = g_f[i]
        count += (f > g_a[i]) & (f > g_b[i])
    return count


@numba.njit(**_JIT)
def gather_rows(index: np.ndarray, arrays: tuple, out: np.ndarray) -> None:
    """``out[k] = arrays[k][index]`` (1-D arrays)."""
    for k in range(len(arrays)):  # a tuple of one array type: indexed at run time
        x, o = arrays[k], out[k]
        for p in range(index.shape[0]):
            o[p] = x[index[p]]


@numba.njit(**_JIT)
def nabf_angle_ratios(values: np.ndarray, out: np.ndarray) -> None:
    """``out[s] = gv / gh`` of the (gv, gh) of A, B, F in ``values`` rows (0, 1), (3, 4),
    (6, 7) (see :func:`nabf_exp_arguments`), to be turned into angles by ``arctan``."""
    for s in range(3):
        gv, gh, o = values[3 * s], values[3 * s + 1], out[s]
        for p in range(o.shape[0]):
            o[p] = gv[p] / gh[p]


@numba.njit(**_JIT)
def nabf_exp_arguments(values: np.ndarray, angles: np.ndarray, out: np.ndarray) -> None:
    """The exponents of Nabf's four sigmoids at the artefact pixels: ``-kg (rel_g - sigma_g)``
    and ``-ka (rel_a - sigma_a)`` of A, then of B, into ``out`` (4, n).

    ``values`` rows 0-8 (of n columns): gv, gh, g of A, B, F; ``angles`` (3, n):
    ``arctan(gv / gh)`` (set here to 0 where gv = gh = 0). ``rel_g``: min / max of the source's
    and F's strengths (0 where one is 0); ``rel_a = ||a_s - a_f| - pi/2| * 2 / pi``.
    """
    for s in range(3):
        gv, gh, a = values[3 * s], values[3 * s + 1], angles[s]
        for p in range(a.shape[0]):
            if gv[p] == 0 and gh[p] == 0:
                a[p] = 0.0
    g_f, a_f = values[8], angles[2]
    half_pi = math.pi / 2
    for s in range(2):
        g_s, a_s, e_g, e_a = values[3 * s + 2], angles[s], out[2 * s], out[2 * s + 1]
        for p in range(g_s.shape[0]):
            gs, gf = g_s[p], g_f[p]
            rel = gf / gs if gs > gf else gs / gf
            if gs == 0 or gf == 0:
                rel = 0.0
            e_g[p] = -NABF_KG * (rel - NABF_SIGMA_G)
        for p in range(g_s.shape[0]):
            rel = abs(abs(a_s[p] - a_f[p]) - half_pi) * 2 / math.pi
            e_a[p] = -NABF_KA * (rel - NABF_SIGMA_A)


@numba.njit(**_JIT)
def nabf_losses(exps: np.ndarray, w_a: np.ndarray, w_b: np.ndarray, out: np.ndarray) -> None:
    """Nabf's loss ``(1 - Q_AF) w_A + (1 - Q_BF) w_B`` at the artefact pixels, from the
    exponentials of :func:`nabf_exp_arguments`: ``Q = sqrt(q_g q_a)``, ``q = N / (1 + e)``."""
    for p in range(out.shape[0]):
        q_af = np.sqrt((NABF_NRG / (1 + exps[0, p])) * (NABF_NRA / (1 + exps[1, p])))
        q_bf = np.sqrt((NABF_NRG / (1 + exps[2, p])) * (NABF_NRA / (1 + exps[3, p])))
        out[p] = (1 - q_af) * w_a[p] + (1 - q_bf) * w_b[p]
