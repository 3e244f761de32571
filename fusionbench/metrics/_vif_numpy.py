"""numpy formulation of :mod:`fusionbench.metrics._vif_kernels`, used when numba is missing or
cannot compile (see :func:`fusionbench.metrics._compiled.vif_kernels`).

Every function has the name, arguments and outputs of its compiled counterpart. The filters
add the taps in the same order but with a rounding per multiplication (numpy has no fused
multiply-add), so they differ from the compiled ones in the last bits (~1e-16 relative); the
vifp rules, the logarithm arguments and the Octave-order direct filters are the same operations
in the same order as the compiled kernels, so they give the same bits on the same input.

>>> w = np.array([0.25, 0.5, 0.25])
>>> out = np.empty((1, 1, 2))
>>> filter_stack(np.arange(12.0).reshape(1, 3, 4), w, False, False, 1, out, filter_taps(3, 1))
>>> out.tolist()
[[[5.0, 6.0]]]
"""

from __future__ import annotations

import numpy as np

EPS = 1e-10


def filter_taps(n: int, step: int) -> np.ndarray:
    """Unused here (the compiled kernels' tap table), kept for the same call."""
    k = np.arange(n + 1)
    return np.stack([k % step, k // step, k, 0 * k]).astype(np.int64)


def _products(src: np.ndarray, saturate: bool) -> np.ndarray:
    """(A, B, F, A*A, B*B, F*F, A*F, B*F) of ``src`` (3, H, W), products optionally saturated
    at 255."""
    a, b, f = src.astype(np.float64)
    out = np.stack([a, b, f, a * a, b * b, f * f, a * f, b * f])
    if saturate:
        np.minimum(out[3:], 255.0, out=out[3:])
    return out


def _correlate_valid(x: np.ndarray, w: np.ndarray, axis: int, step: int) -> np.ndarray:
    """``sum_k w[k] x[i * step + k]`` along ``axis`` (k in order), 'valid' outputs only."""
    n = w.shape[0]
    count = len(range(0, x.shape[axis] - n + 1, step))
    x = np.moveaxis(x, axis, -1)
    acc = w[0] * x[..., 0:(count - 1) * step + 1:step]
    for k in range(1, n):
        acc = acc + w[k] * x[..., k:k + (count - 1) * step + 1:step]
    return np.moveaxis(acc, -1, axis)


def filter_stack(src: np.ndarray, w: np.ndarray, products: bool, saturate: bool, step: int,
                 out: np.ndarray, taps: np.ndarray) -> None:  # noqa: ARG001 (same call)
    """Separable 'valid' filter of the maps of ``src`` into ``out`` (rows first, then
    columns; every ``step``-th output), of its 8 VIF maps with ``products``."""
    maps = _products(src, saturate) if products else src.astype(np.float64)
    rows = _correlate_valid(maps, w, 2, step)
    out[...] = _correlate_valid(rows, w, 1, step)


def _rules(maps: np.ndarray) -> np.ndarray:
    """The vifp rules of ``vifp_mscale.m`` on (8, ...) maps: (6, ...) terms."""
    mu_a, mu_b, mu_f, e_aa, e_bb, e_ff, e_af, e_bf = maps
    s2 = e_ff - mu_f * mu_f
    s2 = np.where(s2 < 0, 0.0, s2)
    out = []
    for mu_r, e_rr, e_rf in ((mu_a, e_aa, e_af), (mu_b, e_bb, e_bf)):
        s1 = e_rr - mu_r * mu_r
        s12 = e_rf - mu_r * mu_f
        s1 = np.where(s1 < 0, 0.0, s1)
        g = s12 / (s1 + EPS)
        sv = s2 - g * s12
        low1 = s1 < EPS
        g, sv, s1 = np.where(low1, 0.0, g), np.where(low1, s2, sv), np.where(low1, 0.0, s1)
        low2 = s2 < EPS
        g, sv = np.where(low2, 0.0, g), np.where(low2, 0.0, sv)
        neg = g < 0
        sv, g = np.where(neg, s2, sv), np.where(neg, 0.0, g)
        sv = np.where(sv <= EPS, EPS, sv)
        out += [g, sv, s1]
    return np.stack(out)


def apply_vifp_rules_2d(maps: np.ndarray, terms: np.ndarray) -> None:
    """The vifp rules on (8, H, W) maps into (6, H, W) terms."""
    terms[...] = _rules(maps)


def _log_arguments(g, sv_sq, sigma1_sq, sigma_nsq: float) -> tuple[np.ndarray, np.ndarray]:
    return g * g * sigma1_sq / (sv_sq + sigma_nsq) + 1.0, sigma1_sq / sigma_nsq + 1.0


def vif_log_arguments(g_a: np.ndarray, sv_a: np.ndarray, s1_a: np.ndarray, g_b: np.ndarray,
                      sv_b: np.ndarray, s1_b: np.ndarray, sigma_nsq: float,
                      out: np.ndarray) -> None:
    """Arguments of VIF's logarithms for sources A and B into ``out`` (4, N)."""
    out[0], out[1] = _log_arguments(g_a, sv_a, s1_a, sigma_nsq)
    out[2], out[3] = _log_arguments(g_b, sv_b, s1_b, sigma_nsq)


def row_state(imgs: np.ndarray, n: int) -> tuple[dict]:  # noqa: ARG001 (same call)
    """State for :func:`vif_log_argument_rows`: a dict that keeps the whole scale's terms."""
    return ({},)


def vif_log_argument_rows(imgs: np.ndarray, w: np.ndarray, saturate: bool, sigma_nsq: float,
                          start: int, args: np.ndarray, state: dict) -> None:
    """The logarithm arguments of output rows ``start, start + 1, ...`` into ``args``
    (4, k, W'); the whole scale is computed on the first call and kept in ``state``."""
    if "args" not in state:
        n = w.shape[0]
        shape = (8, imgs.shape[1] - n + 1, imgs.shape[2] - n + 1)
        maps = np.empty(shape)
        filter_stack(imgs, w, True, saturate, 1, maps, filter_taps(n, 1))
        terms = _rules(maps)
        full = np.empty((4,) + shape[1:])
        full[0], full[1] = _log_arguments(terms[0], terms[1], terms[2], sigma_nsq)
        full[2], full[3] = _log_arguments(terms[3], terms[4], terms[5], sigma_nsq)
        state["args"] = full
    args[...] = state["args"][:, start:start + args.shape[1]]


def near_zero_moments(maps: np.ndarray, limit: float, zero: np.ndarray, out: np.ndarray) -> None:
    """Whether any of the 5 (co)variances of the VIF maps has magnitude below ``limit``, not
    counting those whose windows ``zero`` (3, H, W: of A, B, F) says are all zeros."""
    a, b, f = maps[0], maps[1], maps[2]
    z_a, z_b, z_f = zero
    out[...] = (((np.abs(maps[3] - a * a) < limit) & ~z_a)
                | ((np.abs(maps[4] - b * b) < limit) & ~z_b)
                | ((np.abs(maps[5] - f * f) < limit) & ~z_f)
                | ((np.abs(maps[6] - a * f) < limit) & ~(z_a | z_f))
                | ((np.abs(maps[7] - b * f) < limit) & ~(z_b | z_f)))


def interleaved_products(imgs: np.ndarray, saturate: bool, row0: int, out: np.ndarray) -> None:
    """The 8 VIF maps of rows ``row0, row0 + 1, ...`` of ``imgs`` side by side (R, W, 8)."""
    rows = imgs[:, row0:row0 + out.shape[0]].astype(np.float64)
    out[...] = np.moveaxis(_products(rows, saturate), 0, -1)


def direct_filter_pixels(x: np.ndarray, w2: np.ndarray, order: np.ndarray, rr: np.ndarray,
                         cc: np.ndarray, flat: np.ndarray, out: np.ndarray) -> None:  # noqa: ARG001
    """Octave-order direct filtering of the interleaved maps ``x`` (R, W, k) at pixels
    ``(rr, cc)`` into ``out`` (P, k): ``acc = acc + w * x`` from 0, one window offset of
    ``order`` at a time (the constant windows ``flat`` need no special case here)."""
    acc = np.zeros((rr.shape[0], x.shape[2]))
    for ro, co in order:
        acc = acc + w2[ro, co] * x[rr + ro, cc + co]
    out[...] = acc


def direct_filter_grid(stack: np.ndarray, w2: np.ndarray, order: np.ndarray, step: int,
                       out: np.ndarray) -> None:
    """Octave-order direct filtering at every ``step``-th output row and column."""
    rows, cols = out.shape[1], out.shape[2]
    acc = np.zeros(out.shape)
    for ro, co in order:
        acc = acc + w2[ro, co] * stack[:, ro:ro + (rows - 1) * step + 1:step,
                                       co:co + (cols - 1) * step + 1:step]
    out[...] = acc
