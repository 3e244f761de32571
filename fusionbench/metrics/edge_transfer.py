"""Edge-transfer metrics built on Sobel responses: the Xydeas-Petrovic edge preservation Qabf
(one implementation for every convention that reports it) and Petrovic's Nabf (fusion
artefacts, in the modified form of B. K. Shreyamsha Kumar, as Tang's ``analysis_nabf.m``
computes it).

Inputs are 2-D float64 arrays of one size, on the scale the convention passes them (Qabf's
exact-equality tests and Nabf's threshold ``Td = 2`` on the Sobel strength make it matter).

>>> import numpy as np
>>> x = np.zeros((8, 8)); x[:, 4:] = 200.0
>>> nabf(x, x, x)  # F adds no edge stronger than both sources': no artefacts
0.0
>>> round(qabf(x, x, x), 9)  # F = A = B: Tg Ta / (1 + exp(-4.4)), the angle sigmoid at 0
0.975332768
"""

from __future__ import annotations

import math

import numpy as np

from fusionbench.metrics._compiled import edge_kernels
from fusionbench.metrics._undefined import undefined
from fusionbench.metrics.matlab_ops import SOBEL_X, SOBEL_Y

# ----------------------------------------------------------------------------------------- Qabf


def sobel_strength_angle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Qabf's per-image edges: Sobel strength and angle atan(Sy/Sx) (pi/2 where Sx = 0), by
    MATLAB ``conv2`` 'same' in MATLAB's order of additions (it decides the ties Qabf tests on
    non-integer data, :mod:`~fusionbench.metrics.matlab_ops`).

    >>> g, angle = sobel_strength_angle(np.zeros((3, 3)))
    >>> float(g.max()), float(angle[1, 1])
    (0.0, 1.5707963267948966)
    """
    x = np.asarray(x, dtype=np.float64)
    g, ratio = np.empty(x.shape), np.empty(x.shape)
    edge_kernels().sobel_matlab_padded(np.pad(x, 1), SOBEL_X, SOBEL_Y, g, ratio)
    return g, np.arctan(ratio, out=ratio)  # arctan(inf) is pi/2: the angle where Sx = 0


Edges = tuple[np.ndarray, np.ndarray]


def _edge_preservation(src: Edges, fused: Edges) -> np.ndarray:
    """Q^{SF}(n, m) * g_S(n, m): edge strength and orientation preservation, weighted."""
    g_s, a_s = src
    g_f, a_f = fused
    # Relative strength min/max as in the widely used Qabf code, except that where the two
    # strengths are exactly equal it takes the strength itself (not 1): the original's quirk.
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.minimum(g_s, g_f)
        rel /= np.maximum(g_s, g_f)
    equal = g_s == g_f
    rel[equal] = g_f[equal]
    # Tg / (1 + exp(kg (rel - Dg))), kg = -15, Dg = 0.5
    rel -= 0.5
    rel *= -15.0
    q_g = np.exp(rel, out=rel)
    q_g += 1.0
    # Ta / (1 + exp(ka (1 - |a_s - a_f| / (pi/2) - Da))), ka = -22, Da = 0.8
    orient = np.subtract(a_s, a_f)
    np.abs(orient, out=orient)
    orient *= -1.0 / (np.pi / 2)
    orient += 1.0 - 0.8
    orient *= -22.0
    q_a = np.exp(orient, out=orient)
    q_a += 1.0
    q_a *= q_g
    return (0.9994 * 0.9879) * g_s / q_a


def qabf_from_edges(f: Edges, a: Edges, b: Edges) -> float:
    """:func:`qabf` from the three images' :func:`sobel_strength_angle` (computed once each
    when several metrics or fused images share a source)."""
    den = float(np.sum(a[0]) + np.sum(b[0]))
    if den == 0.0:
        return undefined("Qabf", "both sources have no edges (zero Sobel response)")
    value = float(np.sum(_edge_preservation(a, f)) + np.sum(_edge_preservation(b, f))) / den
    if not np.isfinite(value):
        return undefined("Qabf", "the formula is undefined for these images")
    return value


def qabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Xydeas-Petrovic Qabf (``analysis_Qabf.m``, VIFB ``metricsQabf``, CDDFuse ``Evaluator.Qabf``):
    3x3 Sobel ('same', zero padded), edge-strength weights (L = 1), Tg 0.9994, kg -15, Dg 0.5,
    Ta 0.9879, ka -22, Da 0.8; 0..1, higher is better. NaN (with a warning) when neither
    source has an edge.

    >>> x = np.zeros((8, 8)); x[:, 4:] = 200.0
    >>> round(qabf(x, x, np.zeros((8, 8))), 6)  # B has no edges: only A's weights count
    0.975333
    >>> qabf(np.zeros((8, 8)), x, x) < 1e-4  # F lost every edge (sigmoids: not exactly 0)
    True
    """
    return qabf_from_edges(*(sobel_strength_angle(np.asarray(v, dtype=np.float64))
                             for v in (f, a, b)))


# ----------------------------------------------------------------------------------------- Nabf

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
    gv, gh, _ = _sobel_kumar_strength(x)
    return gv, gh


def _sobel_kumar_strength(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`sobel_kumar` and the strength ``sqrt(gh^2 + gv^2)``, in one compiled pass."""
    x = np.asarray(x, dtype=np.float64)
    gv, gh, g = (np.empty(x.shape) for _ in range(3))
    edge_kernels().sobel_kumar_padded(np.pad(x, 1, mode="reflect"), gv, gh, g)
    return gv, gh, g


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
    gv_a, gh_a, g_a = _sobel_kumar_strength(a)
    gv_b, gh_b, g_b = _sobel_kumar_strength(b)
    gv_f, gh_f, g_f = _sobel_kumar_strength(f)
    w_a = np.where(g_a >= _TD, g_a ** _LG, _WT_MIN)
    w_b = np.where(g_b >= _TD, g_b ** _LG, _WT_MIN)
    w_sum = float(np.sum(w_a + w_b))
    # The loss is 0 off the artefact pixels, so the preservation terms (every arctan, exp and
    # sqrt of the original's whole-image expressions) are evaluated only on them; each pixel's
    # operations are the same elementwise ones, and the loss map summed is the same array.
    artefacts = np.flatnonzero((g_f > g_a) & (g_f > g_b))

    def at(m: np.ndarray) -> np.ndarray:
        return m.ravel()[artefacts]

    g_f = at(g_f)
    a_f = _angle(at(gv_f), at(gh_f))

    def preservation(g_s: np.ndarray, a_s: np.ndarray) -> np.ndarray:
        rel_g = _relative_strength(g_s, g_f)
        rel_a = np.abs(np.abs(a_s - a_f) - math.pi / 2) * 2 / math.pi
        q_g = _NRG / (1 + np.exp(-_KG * (rel_g - _SIGMA_G)))
        q_a = _NRA / (1 + np.exp(-_KA * (rel_a - _SIGMA_A)))
        return np.sqrt(q_g * q_a)

    q_af = preservation(at(g_a), _angle(at(gv_a), at(gh_a)))
    q_bf = preservation(at(g_b), _angle(at(gv_b), at(gh_b)))
    loss = np.zeros(g_a.size)
    loss[artefacts] = (1 - q_af) * at(w_a) + (1 - q_bf) * at(w_b)
    return float(np.sum(loss)) / w_sum
