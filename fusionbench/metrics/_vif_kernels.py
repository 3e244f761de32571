"""Compiled kernels (numba) behind :mod:`fusionbench.metrics.visual_fidelity`.

Two jobs, on stacks of uint8 or float64 images (float64 arithmetic throughout):

- separable 'valid' filtering with a symmetric 1-D window ``w`` (the VIF Gaussians), optionally
  forming the 5 products A*A, B*B, F*F, A*F, B*F of the three images on the fly and keeping only
  every ``step``-th output row and column;
- the ``vifp_mscale`` clean-up rules that turn local means, variances and covariances into the
  gain ``g``, distortion variance ``sv_sq`` and reference variance ``sigma1_sq``.

Rounding is pinned down so that results do not depend on the CPU's vector width: every output is
``sum_k w[k] * x[k]`` accumulated in k order with one fused multiply-add per tap, rows first, then
columns (this is also what OpenBLAS does for the banded-matrix products this module replaced:
the two agree bit for bit). The rules are evaluated without fused multiply-adds, i.e. with the
same rounding as the numpy expressions in the reference code.

The filtering streams over the input rows: each row is filtered along the row (for every map)
into a ring buffer of ``len(w)`` rows, and each output row is the column filter of the ring, so
the working set stays in the CPU cache and the full-size product maps are never formed.

Compiled functions are cached on disk by numba (``cache=True``); the first call in a fresh
environment compiles them (a few seconds).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

#: No fast-math anywhere: the only fused multiply-adds are the explicit :func:`_fma` calls.
_JIT = {"cache": True, "boundscheck": False, "nogil": True}

EPS = 1e-10
#: Number of filtered maps VIF needs: means of A, B, F and moments AA, BB, FF, AF, BF.
N_MAPS = 8
#: Number of per-pixel VIF terms: (g, sv_sq, sigma1_sq) for source A, then for source B.
N_TERMS = 6


@intrinsic
def _fma(typingctx, x, y, z):  # noqa: ARG001 (numba's intrinsic signature)
    """``x * y + z`` with one rounding (LLVM ``llvm.fma``; vectorised like any other op)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):  # noqa: ARG001
        return builder.fma(*args)

    return sig, codegen


@numba.njit(inline="always", **_JIT)
def _correlate_along_row(out: np.ndarray, src: np.ndarray, w: np.ndarray) -> None:
    """``out[c] = sum_k w[k] * src[c + k]`` in k order; taps are added 4 per sweep."""
    n = w.shape[0]
    width = out.shape[0]
    w0 = w[0]
    for c in range(width):
        out[c] = w0 * src[c]
    k = 1
    while k + 4 <= n:
        w1, w2, w3, w4 = w[k], w[k + 1], w[k + 2], w[k + 3]
        s1 = src[k:k + width]
        s2 = src[k + 1:k + 1 + width]
        s3 = src[k + 2:k + 2 + width]
        s4 = src[k + 3:k + 3 + width]
        for c in range(width):
            t = out[c]
            t = _fma(w1, s1[c], t)
            t = _fma(w2, s2[c], t)
            t = _fma(w3, s3[c], t)
            t = _fma(w4, s4[c], t)
            out[c] = t
        k += 4
    while k < n:
        wk = w[k]
        sk = src[k:k + width]
        for c in range(width):
            out[c] = _fma(wk, sk[c], out[c])
        k += 1


@numba.njit(inline="always", **_JIT)
def _correlate_across_ring(out: np.ndarray, ring: np.ndarray, m: int, first: int,
                           w: np.ndarray) -> None:
    """``out[c] = sum_k w[k] * ring[(first + k) % n, m, c]`` in k order (a column filter)."""
    n = w.shape[0]
    width = out.shape[0]
    w0 = w[0]
    s0 = ring[first % n, m]
    for c in range(width):
        out[c] = w0 * s0[c]
    k = 1
    while k + 4 <= n:
        w1, w2, w3, w4 = w[k], w[k + 1], w[k + 2], w[k + 3]
        s1 = ring[(first + k) % n, m]
        s2 = ring[(first + k + 1) % n, m]
        s3 = ring[(first + k + 2) % n, m]
        s4 = ring[(first + k + 3) % n, m]
        for c in range(width):
            t = out[c]
            t = _fma(w1, s1[c], t)
            t = _fma(w2, s2[c], t)
            t = _fma(w3, s3[c], t)
            t = _fma(w4, s4[c], t)
            out[c] = t
        k += 4
    while k < n:
        wk = w[k]
        sk = ring[(first + k) % n, m]
        for c in range(width):
            out[c] = _fma(wk, sk[c], out[c])
        k += 1


@numba.njit(inline="always", **_JIT)
def _push_row(ring: np.ndarray, row: int, src: np.ndarray, w: np.ndarray, products: bool,
              saturate: bool, scratch: np.ndarray) -> None:
    """Row-filter input row ``row`` of every map into its ring slot.

    With ``products`` the maps are (A, B, F, A*A, B*B, F*F, A*F, B*F) of ``src`` = (A, B, F),
    the products optionally saturated at 255 (MATLAB uint8 arithmetic); otherwise the maps are
    ``src``'s own.
    """
    slot = ring[row % w.shape[0]]
    if not products:
        for m in range(src.shape[0]):
            _correlate_along_row(slot[m], src[m, row], w)
        return
    ra, rb, rf = src[0, row], src[1, row], src[2, row]
    for c in range(ra.shape[0]):
        x, y, z = np.float64(ra[c]), np.float64(rb[c]), np.float64(rf[c])
        scratch[0, c] = x
        scratch[1, c] = y
        scratch[2, c] = z
        xx, yy, zz, xz, yz = x * x, y * y, z * z, x * z, y * z
        if saturate:
            xx, yy, zz = min(xx, 255.0), min(yy, 255.0), min(zz, 255.0)
            xz, yz = min(xz, 255.0), min(yz, 255.0)
        scratch[3, c] = xx
        scratch[4, c] = yy
        scratch[5, c] = zz
        scratch[6, c] = xz
        scratch[7, c] = yz
    for m in range(N_MAPS):
        _correlate_along_row(slot[m], scratch[m], w)


@numba.njit(**_JIT)
def filter_stack(src: np.ndarray, w: np.ndarray, products: bool, saturate: bool, step: int,
                 out: np.ndarray) -> None:
    """Separable 'valid' filter of the maps of ``src`` (k, H, W) into ``out``.

    ``out`` has shape (k or 8, ceil((H - n + 1) / step), ceil((W - n + 1) / step)) with
    n = len(w); with ``products`` it receives the 8 VIF maps of ``src`` = (A, B, F).
    """
    n = w.shape[0]
    height, width = src.shape[1], src.shape[2]
    out_w = width - n + 1
    n_maps = out.shape[0]
    ring = np.empty((n, n_maps, out_w))
    scratch = np.empty((N_MAPS, width))
    full_row = np.empty(out_w)
    for row in range(height):
        _push_row(ring, row, src, w, products, saturate, scratch)
        first = row - n + 1
        if first < 0 or first % step:
            continue
        for m in range(n_maps):
            if step == 1:
                _correlate_across_ring(out[m, first], ring, m, first, w)
            else:
                _correlate_across_ring(full_row, ring, m, first, w)
                dest = out[m, first // step]
                for c in range(dest.shape[0]):
                    dest[c] = full_row[c * step]


@numba.njit(**_JIT)
def apply_vifp_rules(maps: np.ndarray, terms: np.ndarray) -> None:
    """VIF terms of one row (or any 1-D run) of pixels from their filtered maps.

    ``maps`` (8, k): mu_A, mu_B, mu_F, E[AA], E[BB], E[FF], E[AF], E[BF]; ``terms`` (6, k):
    g, sv_sq, sigma1_sq of A, then of B. The rules, in the order of the reference
    ``vifp_mscale.m`` (the order matters where several fire)::

        sigma1_sq < 0 -> 0;  g = sigma12 / (sigma1_sq + eps);  sv_sq = sigma2_sq - g * sigma12
        sigma1_sq < eps -> g = 0, sv_sq = sigma2_sq, sigma1_sq = 0
        sigma2_sq < eps -> g = 0, sv_sq = 0
        g < 0 -> sv_sq = sigma2_sq, g = 0
        sv_sq <= eps -> sv_sq = eps

    with sigma2_sq (of F) clipped at 0 first.
    """
    for c in range(maps.shape[1]):
        mu_f = maps[2, c]
        s2 = maps[5, c] - mu_f * mu_f
        if s2 < 0.0:
            s2 = 0.0
        for ref in range(2):
            mu_r = maps[ref, c]
            s1 = maps[3 + ref, c] - mu_r * mu_r
            s12 = maps[6 + ref, c] - mu_r * mu_f
            if s1 < 0.0:
                s1 = 0.0
            g = s12 / (s1 + EPS)
            sv = s2 - g * s12
            if s1 < EPS:
                g = 0.0
                sv = s2
                s1 = 0.0
            if s2 < EPS:
                g = 0.0
                sv = 0.0
            if g < 0.0:
                sv = s2
                g = 0.0
            if sv <= EPS:
                sv = EPS
            terms[3 * ref, c] = g
            terms[3 * ref + 1, c] = sv
            terms[3 * ref + 2, c] = s1


@numba.njit(**_JIT)
def apply_vifp_rules_2d(maps: np.ndarray, terms: np.ndarray) -> None:
    """:func:`apply_vifp_rules` on (8, H, W) maps into (6, H, W) terms, row by row."""
    for i in range(maps.shape[1]):
        apply_vifp_rules(maps[:, i], terms[:, i])


@numba.njit(**_JIT)
def vif_terms(imgs: np.ndarray, w: np.ndarray, saturate: bool, terms: np.ndarray) -> None:
    """Filter the 8 VIF maps of ``imgs`` (A, B, F) and apply the vifp rules, one row at a time.

    ``terms`` has shape (6, H - n + 1, W - n + 1); equal to :func:`filter_stack` with
    ``products`` followed by :func:`apply_vifp_rules_2d`, without the full-size maps.
    """
    n = w.shape[0]
    height, width = imgs.shape[1], imgs.shape[2]
    out_w = width - n + 1
    ring = np.empty((n, N_MAPS, out_w))
    scratch = np.empty((N_MAPS, width))
    maps_row = np.empty((N_MAPS, out_w))
    for row in range(height):
        _push_row(ring, row, imgs, w, True, saturate, scratch)
        first = row - n + 1
        if first < 0:
            continue
        for m in range(N_MAPS):
            _correlate_across_ring(maps_row[m], ring, m, first, w)
        apply_vifp_rules(maps_row, terms[:, first])


@numba.njit(**_JIT)
def vif_log_arguments(g: np.ndarray, sv_sq: np.ndarray, sigma1_sq: np.ndarray,
                      sigma_nsq: float, num: np.ndarray, den: np.ndarray) -> None:
    """``num = 1 + g^2 sigma1_sq / (sv_sq + sigma_nsq)`` and ``den = 1 + sigma1_sq / sigma_nsq``
    over 1-D arrays (numpy's vectorised ``log10`` is then taken in place; it is faster than a
    scalar ``log10`` here)."""
    for i in range(g.shape[0]):
        s1 = sigma1_sq[i]
        num[i] = g[i] * g[i] * s1 / (sv_sq[i] + sigma_nsq) + 1.0
        den[i] = s1 / sigma_nsq + 1.0
