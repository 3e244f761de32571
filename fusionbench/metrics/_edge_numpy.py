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

import math

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


#: Qabf's constants, rounded once here for both formulations: the orientation's scale
#: ``-1 / (pi / 2)`` and offset ``1 - Da`` (Da = 0.8), and Tg * Ta (0.9994 * 0.9879).
QABF_ANGLE_SCALE = -1.0 / (np.pi / 2)
QABF_ANGLE_OFFSET = 1.0 - 0.8
QABF_TG_TA = 0.9994 * 0.9879
#: Nabf's sigmoid parameters (``analysis_nabf.m``, Petrovic's metrics).
NABF_NRG, NABF_KG, NABF_SIGMA_G = 0.9999, 19.0, 0.5
NABF_NRA, NABF_KA, NABF_SIGMA_A = 0.9995, 22.0, 0.5


def qabf_exp_arguments(g_s: np.ndarray, a_s: np.ndarray, g_f: np.ndarray, a_f: np.ndarray,
                       arg_g: np.ndarray, arg_a: np.ndarray) -> None:
    """Qabf's sigmoid exponents ``kg (rel - Dg)`` and ``ka (1 - |a_s - a_f| / (pi/2) - Da)``
    (``rel``: min / max of the strengths, F's strength where they are equal)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        np.divide(np.minimum(g_s, g_f), np.maximum(g_s, g_f), out=arg_g)
    equal = g_s == g_f
    arg_g[equal] = g_f[equal]
    arg_g -= 0.5
    arg_g *= -15.0
    np.subtract(a_s, a_f, out=arg_a)
    np.abs(arg_a, out=arg_a)
    arg_a *= QABF_ANGLE_SCALE
    arg_a += QABF_ANGLE_OFFSET
    arg_a *= -22.0


def qabf_weighted_preservation(g_s: np.ndarray, exp_g: np.ndarray, exp_a: np.ndarray,
                               out: np.ndarray) -> None:
    """``out = Tg Ta g_s / ((exp_a + 1) (exp_g + 1))``."""
    np.divide(QABF_TG_TA * g_s, (exp_a + 1.0) * (exp_g + 1.0), out=out)


def strong_pixels(g: np.ndarray, threshold: float, weak: float, w: np.ndarray,
                  index: np.ndarray) -> int:
    """Nabf's weights before the strong pixels' power: ``w = weak`` (1-D), and the indices of
    the pixels with ``g >= threshold`` into ``index``; returns their number."""
    w.fill(weak)
    strong = np.flatnonzero(g >= threshold)
    index[:strong.size] = strong
    return strong.size


def artefact_pixels(g_a: np.ndarray, g_b: np.ndarray, g_f: np.ndarray,
                    index: np.ndarray) -> int:
    """The indices of the pixels where F's strength exceeds both sources' (``g_f > g_a`` and
    ``g_f > g_b``, 1-D) into ``index``; returns their number."""
    found = np.flatnonzero((g_f > g_a) & (g_f > g_b))
    index[:found.size] = found
    return found.size


def gather_rows(index: np.ndarray, arrays: tuple[np.ndarray, ...], out: np.ndarray) -> None:
    """``out[k] = arrays[k][index]`` (1-D arrays)."""
    for k, x in enumerate(arrays):
        np.take(x, index, out=out[k])


def nabf_angle_ratios(values: np.ndarray, out: np.ndarray) -> None:
    """``out[s] = gv / gh`` of the (gv, gh) of A, B, F in ``values`` rows (0, 1), (3, 4),
    (6, 7) (see :func:`nabf_exp_arguments`), to be turned into angles by ``arctan``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in range(3):
            np.divide(values[3 * s], values[3 * s + 1], out=out[s])


def nabf_exp_arguments(values: np.ndarray, angles: np.ndarray, out: np.ndarray) -> None:
    """The exponents of Nabf's four sigmoids at the artefact pixels (its kernel's docstring
    says which)."""
    for s in range(3):
        angles[s][(values[3 * s] == 0) & (values[3 * s + 1] == 0)] = 0.0
    g_f, a_f = values[8], angles[2]
    for s in range(2):
        g_s = values[3 * s + 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            rel_g = np.where(g_s > g_f, g_f / g_s, g_s / g_f)
        rel_g[(g_s == 0) | (g_f == 0)] = 0.0
        rel_a = np.abs(np.abs(angles[s] - a_f) - math.pi / 2) * 2 / math.pi
        out[2 * s] = -NABF_KG * (rel_g - NABF_SIGMA_G)
        out[2 * s + 1] = -NABF_KA * (rel_a - NABF_SIGMA_A)


def nabf_losses(exps: np.ndarray, w_a: np.ndarray, w_b: np.ndarray, out: np.ndarray) -> None:
    """Nabf's loss ``(1 - Q_AF) w_A + (1 - Q_BF) w_B`` at the artefact pixels, from the
    exponentials of :func:`nabf_exp_arguments`: ``Q = sqrt(q_g q_a)``, ``q = N / (1 + e)``."""
    q = []
    for s in range(2):
        q_g = NABF_NRG / (1 + exps[2 * s])
        q_a = NABF_NRA / (1 + exps[2 * s + 1])
        q.append(np.sqrt(q_g * q_a))
    out[...] = (1 - q[0]) * w_a + (1 - q[1]) * w_b
