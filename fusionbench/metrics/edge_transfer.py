"""Edge-transfer metrics built on Sobel responses: Petrovic's Nabf (fusion artefacts, in the
modified form of B. K. Shreyamsha Kumar, as Tang's ``analysis_nabf.m`` computes it).

(Qabf, the Xydeas-Petrovic edge preservation, is :func:`fusionbench.metrics.vifb_quality.vifb_qabf`:
one implementation for every convention that reports it.)

Inputs are 2-D float64 arrays of one size, on the scale the convention passes them (Nabf's
threshold ``Td = 2`` on the Sobel strength makes the scale matter).

>>> import numpy as np
>>> x = np.zeros((8, 8)); x[:, 4:] = 200.0
>>> nabf(x, x, x)  # F adds no edge stronger than both sources': no artefacts
0.0
"""

from __future__ import annotations

import math

import numpy as np

# Parameters of analysis_nabf.m (Petrovic's metrics).
_TD, _WT_MIN, _LG = 2.0, 0.001, 1.5
_NRG, _KG, _SIGMA_G = 0.9999, 19.0, 0.5
_NRA, _KA, _SIGMA_A = 0.9995, 22.0, 0.5


def sobel_kumar(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``sobel_fn.m``: vertical and horizontal Sobel responses /8 of ``x`` mirrored by one
    pixel without repeating the border (``per_extn_im_fn.m``), each 3 x 3 window summed as
    MATLAB's ``sum(sum(window .* kernel))`` does (columns top to bottom, then the columns).

    >>> gv, gh = sobel_kumar(np.tile(np.arange(4.0), (4, 1)))
    >>> gv[1].tolist(), gh[1].tolist()
    ([0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0])
    """
    e = np.pad(x, 1, mode="reflect")
    m, n = x.shape

    def win(dr: int, dc: int) -> np.ndarray:
        return e[dr:dr + m, dc:dc + n]

    # vtemp = [-1 0 1; -2 0 2; -1 0 1]/8 and htemp = [-1 -2 -1; 0 0 0; 1 2 1]/8, column-major.
    v = [[-0.125, -0.25, -0.125], [0.0, 0.0, 0.0], [0.125, 0.25, 0.125]]  # v[col][row]
    h = [[-0.125, 0.0, 0.125], [-0.25, 0.0, 0.25], [-0.125, 0.0, 0.125]]
    out = []
    for kernel in (v, h):
        cols = []
        for c in range(3):
            s = win(0, c) * kernel[c][0]
            s = s + win(1, c) * kernel[c][1]
            s = s + win(2, c) * kernel[c][2]
            cols.append(s)
        out.append((cols[0] + cols[1]) + cols[2])
    return out[0], out[1]


def _relative_strength(g_s: np.ndarray, g_f: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(g_s > g_f, g_f / g_s, g_s / g_f)
    rel[(g_s == 0) | (g_f == 0)] = 0.0
    return rel


def _angle(gv: np.ndarray, gh: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.arctan(gv / gh)
    angle[(gv == 0) & (gh == 0)] = 0.0
    return angle


def nabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Modified fusion artefacts N_abf (lower is better): over the pixels where F's edge is
    stronger than both sources', the weighted loss ``(1 - Q_AF) w_A + (1 - Q_BF) w_B``, over the
    sum of all weights. Weights: ``g^1.5`` where the source strength g >= 2, else 0.001.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 256, (2, 16, 16)).astype(float)
    >>> 0.0 <= nabf((a + b) / 2, a, b) <= 1.0
    True
    """
    gv_a, gh_a = sobel_kumar(a)
    gv_b, gh_b = sobel_kumar(b)
    gv_f, gh_f = sobel_kumar(f)
    g_a = np.sqrt(gh_a ** 2 + gv_a ** 2)
    g_b = np.sqrt(gh_b ** 2 + gv_b ** 2)
    g_f = np.sqrt(gh_f ** 2 + gv_f ** 2)
    a_f = _angle(gv_f, gh_f)

    def preservation(g_s: np.ndarray, a_s: np.ndarray) -> np.ndarray:
        rel_g = _relative_strength(g_s, g_f)
        rel_a = np.abs(np.abs(a_s - a_f) - math.pi / 2) * 2 / math.pi
        q_g = _NRG / (1 + np.exp(-_KG * (rel_g - _SIGMA_G)))
        q_a = _NRA / (1 + np.exp(-_KA * (rel_a - _SIGMA_A)))
        return np.sqrt(q_g * q_a)

    q_af = preservation(g_a, _angle(gv_a, gh_a))
    q_bf = preservation(g_b, _angle(gv_b, gh_b))
    w_a = np.where(g_a >= _TD, g_a ** _LG, _WT_MIN)
    w_b = np.where(g_b >= _TD, g_b ** _LG, _WT_MIN)
    w_sum = float(np.sum(w_a + w_b))
    artefact = (g_f > g_a) & (g_f > g_b)
    loss = np.where(artefact, (1 - q_af) * w_a + (1 - q_bf) * w_b, 0.0)
    return float(np.sum(loss)) / w_sum
