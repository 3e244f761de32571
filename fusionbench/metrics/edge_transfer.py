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
    """Q^{SF}(n, m) * g_S(n, m): edge strength and orientation preservation, weighted (1-D).

    Relative strength min/max as in the widely used Qabf code, except that where the two
    strengths are exactly equal it takes the strength itself (not 1): the original's quirk.
    Sigmoids Tg / (1 + exp(kg (rel - Dg))), kg = -15, Dg = 0.5, and Ta / (1 + exp(ka (1 -
    |a_s - a_f| / (pi/2) - Da))), ka = -22, Da = 0.8 (the kernels form the exponents and the
    product around numpy's ``exp``)."""
    kernels = edge_kernels()
    g_s, a_s = (x.ravel() for x in src)
    g_f, a_f = (x.ravel() for x in fused)
    arg_g, arg_a = np.empty(g_s.size), np.empty(g_s.size)
    kernels.qabf_exp_arguments(g_s, a_s, g_f, a_f, arg_g, arg_a)
    np.exp(arg_g, out=arg_g)
    np.exp(arg_a, out=arg_a)
    kernels.qabf_weighted_preservation(g_s, arg_g, arg_a, arg_g)
    return arg_g


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

# Parameters of analysis_nabf.m (Petrovic's metrics); the sigmoids' are in the kernels' module.
_TD, _WT_MIN, _LG = 2.0, 0.001, 1.5


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


def nabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Modified fusion artefacts N_abf (lower is better): over the pixels where F's edge is
    stronger than both sources', the weighted loss ``(1 - Q_AF) w_A + (1 - Q_BF) w_B``, over the
    sum of all weights. Weights: ``g^1.5`` where the source strength g >= 2, else 0.001.

    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.integers(0, 256, (2, 16, 16)).astype(float)
    >>> 0.0 <= nabf((a + b) / 2, a, b) <= 1.0
    True
    """
    kernels = edge_kernels()
    edges = [[x.ravel() for x in _sobel_kumar_strength(img)] for img in (a, b, f)]
    (_, _, g_a), (_, _, g_b), (_, _, g_f) = edges
    index = np.empty(g_a.size, np.int64)
    weights = []
    for g in (g_a, g_b):  # g^1.5 where g >= Td (numpy's pow, on those pixels only), else 0.001
        w = np.empty(g.size)
        strong = index[:kernels.strong_pixels(g, _TD, _WT_MIN, w, index)]
        if strong.size:
            w[strong] = g[strong] ** _LG
        weights.append(w)
    w_a, w_b = weights
    w_sum = float(np.sum(w_a + w_b))
    # The loss is 0 off the artefact pixels, so the preservation terms (every arctan, exp and
    # sqrt of the original's whole-image expressions) are evaluated only on them; each pixel's
    # operations are the same elementwise ones, and the loss map summed is the same array.
    artefacts = index[:kernels.artefact_pixels(g_a, g_b, g_f, index)]
    values = np.empty((11, artefacts.size))  # gv, gh, g of A, B, F; w_A, w_B
    kernels.gather_rows(artefacts, (*edges[0], *edges[1], *edges[2], w_a, w_b), values)
    angles = np.empty((3, artefacts.size))
    kernels.nabf_angle_ratios(values, angles)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.arctan(angles, out=angles)
    exps = np.empty((4, artefacts.size))
    kernels.nabf_exp_arguments(values, angles, exps)
    np.exp(exps, out=exps)
    loss = np.zeros(g_a.size)
    losses = np.empty(artefacts.size)
    kernels.nabf_losses(exps, values[9], values[10], losses)
    loss[artefacts] = losses
    return float(np.sum(loss)) / w_sum
