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
into a ring buffer of ``len(w)`` (+ 1) rows, and output rows are column filters of the ring,
two at a time where they share input rows, so the working set stays in the CPU cache and the
full-size product maps are never formed. The VIF kernels go on to the vifp rules and the
arguments of its logarithms row by row (the caller takes the logarithms with numpy, whose
``log10`` is vectorised).

Compiled functions are cached on disk by numba (``cache=True``); the first call in a fresh
environment compiles them (~13 s in all, see :mod:`fusionbench.metrics.warmup`).

>>> import numpy as np
>>> w = np.array([0.25, 0.5, 0.25])
>>> src = np.arange(12.0).reshape(1, 3, 4)
>>> out = np.empty((1, 1, 2))
>>> filter_stack(src, w, False, False, 1, out, filter_taps(3, 1))
>>> out.tolist()  # the 3x3 window around (1, 1) and (1, 2)
[[[5.0, 6.0]]]
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

#: No fast-math anywhere: the only fused multiply-adds are the explicit :func:`_fma` calls.
_JIT = {"cache": True, "boundscheck": False, "nogil": True, "error_model": "numpy"}

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


@numba.njit(**_JIT)
def _correlate(out: np.ndarray, rows: np.ndarray, tap_row: np.ndarray, tap_col: np.ndarray,
               w: np.ndarray) -> None:
    """``out[c] = sum_k w[k] * rows[tap_row[k], tap_col[k] + c]`` in k order, taps added 4 per
    sweep; every tap reads a contiguous run of one row of ``rows`` (2-D).

    A row filter reads the phases of one image row (``rows[p, i] = src[i * step + p]``, tap k
    at row k % step, column k // step); a column filter reads the ring of row-filtered rows.
    """
    n = w.shape[0]
    width = out.shape[0]
    s0 = rows[tap_row[0], tap_col[0]:]
    w0 = w[0]
    for c in range(width):
        out[c] = w0 * s0[c]
    k = 1
    while k + 4 <= n:
        w1, w2, w3, w4 = w[k], w[k + 1], w[k + 2], w[k + 3]
        s1 = rows[tap_row[k], tap_col[k]:]
        s2 = rows[tap_row[k + 1], tap_col[k + 1]:]
        s3 = rows[tap_row[k + 2], tap_col[k + 2]:]
        s4 = rows[tap_row[k + 3], tap_col[k + 3]:]
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
        sk = rows[tap_row[k], tap_col[k]:]
        for c in range(width):
            out[c] = _fma(wk, sk[c], out[c])
        k += 1


@numba.njit(**_JIT)
def _column_filter(out: np.ndarray, ring: np.ndarray, m: int, first: int, w: np.ndarray,
                   taps: np.ndarray) -> None:
    """``out[c] = sum_k w[k] * ring[m, (first + k) % slots, c]``: the column filter of map
    ``m`` for the output row whose window starts at input row ``first`` (``taps``: see
    :func:`filter_taps`; its rows 2 and 3 are overwritten)."""
    slots = ring.shape[1]
    for k in range(w.shape[0]):
        taps[2, k] = (first + k) % slots
        taps[3, k] = 0
    _correlate(out, ring[m], taps[2], taps[3], w)


@numba.njit(**_JIT)
def _column_filter_pair(out0: np.ndarray, out1: np.ndarray, ring: np.ndarray, m: int,
                        first: int, w: np.ndarray, taps: np.ndarray) -> None:
    """:func:`_column_filter` of the output rows whose windows start at ``first`` and
    ``first + 1`` (same rounding), sharing the loads of their common input rows; the ring needs
    n + 1 slots."""
    n = w.shape[0]
    slots = ring.shape[1]
    for k in range(n + 1):
        taps[2, k] = (first + k) % slots
    rows = ring[m]
    s0, s1 = rows[taps[2, 0]], rows[taps[2, 1]]
    w0 = w[0]
    for c in range(out0.shape[0]):
        out0[c] = w0 * s0[c]
        out1[c] = w0 * s1[c]
    k = 1
    while k + 4 <= n:
        w1, w2, w3, w4 = w[k], w[k + 1], w[k + 2], w[k + 3]
        r1, r2, r3 = rows[taps[2, k]], rows[taps[2, k + 1]], rows[taps[2, k + 2]]
        r4, r5 = rows[taps[2, k + 3]], rows[taps[2, k + 4]]
        for c in range(out0.shape[0]):
            x2, x3, x4 = r2[c], r3[c], r4[c]
            t = _fma(w1, r1[c], out0[c])
            u = _fma(w1, x2, out1[c])
            t = _fma(w2, x2, t)
            u = _fma(w2, x3, u)
            t = _fma(w3, x3, t)
            u = _fma(w3, x4, u)
            out0[c] = _fma(w4, x4, t)
            out1[c] = _fma(w4, r5[c], u)
        k += 4
    while k < n:
        wk = w[k]
        r1, r2 = rows[taps[2, k]], rows[taps[2, k + 1]]
        for c in range(out0.shape[0]):
            out0[c] = _fma(wk, r1[c], out0[c])
            out1[c] = _fma(wk, r2[c], out1[c])
        k += 1


def filter_taps(n: int, step: int) -> np.ndarray:
    """(4, n + 1) tap table: rows 0-1 say where row-filter tap k reads in a row split into
    ``step`` phases (phase k % step, offset k // step); rows 2-3 are scratch for the column
    filters."""
    k = np.arange(n + 1)
    return np.stack([k % step, k // step, k, 0 * k]).astype(np.int64)


@numba.njit(**_JIT)
def _split_phases(dest: np.ndarray, src: np.ndarray) -> None:
    """``dest[p, i] = src[i * step + p]`` for the ``step = dest.shape[0]`` phases."""
    step = dest.shape[0]
    for p in range(step):
        phase = dest[p]
        for i in range(len(range(p, src.shape[0], step))):
            phase[i] = src[i * step + p]


@numba.njit(**_JIT)
def _push_row(ring: np.ndarray, row: int, src: np.ndarray, w: np.ndarray, products: bool,
              saturate: bool, scratch: np.ndarray, taps: np.ndarray) -> None:
    """Row-filter input row ``row`` of every map into its slot of ``ring`` (maps, slots, W').

    With ``products`` the maps are (A, B, F, A*A, B*B, F*F, A*F, B*F) of ``src`` = (A, B, F),
    the products optionally saturated at 255 (MATLAB uint8 arithmetic); otherwise the maps are
    ``src``'s own. ``scratch`` (8, step, ceil(W / step)) holds the row's maps split into phases.
    """
    slot = row % ring.shape[1]
    if not products:
        for m in range(src.shape[0]):
            _split_phases(scratch[m], src[m, row])
            _correlate(ring[m, slot], scratch[m], taps[0], taps[1], w)
        return
    ra, rb, rf = src[0, row], src[1, row], src[2, row]
    for c in range(ra.shape[0]):
        x, y, z = np.float64(ra[c]), np.float64(rb[c]), np.float64(rf[c])
        xx, yy, zz, xz, yz = x * x, y * y, z * z, x * z, y * z
        if saturate:
            xx, yy, zz = min(xx, 255.0), min(yy, 255.0), min(zz, 255.0)
            xz, yz = min(xz, 255.0), min(yz, 255.0)
        scratch[0, 0, c] = x
        scratch[1, 0, c] = y
        scratch[2, 0, c] = z
        scratch[3, 0, c] = xx
        scratch[4, 0, c] = yy
        scratch[5, 0, c] = zz
        scratch[6, 0, c] = xz
        scratch[7, 0, c] = yz
    for m in range(N_MAPS):
        _correlate(ring[m, slot], scratch[m], taps[0], taps[1], w)


@numba.njit(**_JIT)
def filter_stack(src: np.ndarray, w: np.ndarray, products: bool, saturate: bool, step: int,
                 out: np.ndarray, taps: np.ndarray) -> None:
    """Separable 'valid' filter of the maps of ``src`` (k, H, W) into ``out``.

    ``out`` has shape (k or 8, ceil((H - n + 1) / step), ceil((W - n + 1) / step)) with
    n = len(w): only every ``step``-th row and column is computed. With ``products`` (then
    ``step`` must be 1) it receives the 8 VIF maps of ``src`` = (A, B, F). ``taps``:
    :func:`filter_taps` ``(n, step)``.
    """
    n = w.shape[0]
    height, width = src.shape[1], src.shape[2]
    n_maps, out_w = out.shape[0], out.shape[2]
    ring = np.empty((n_maps, n, out_w))
    scratch = np.empty((N_MAPS if products else n_maps, step, (width + step - 1) // step))
    for row in range(height):
        _push_row(ring, row, src, w, products, saturate, scratch, taps)
        first = row - n + 1
        if first >= 0 and first % step == 0:
            for m in range(n_maps):
                _column_filter(out[m, first // step], ring, m, first, w, taps)


@numba.njit(**_JIT)
def apply_vifp_rules(maps: np.ndarray, i: int, terms: np.ndarray, j: int,
                     s2: np.ndarray) -> None:
    """VIF terms of row ``j`` of ``terms`` (6, H', W) from row ``i`` of ``maps`` (8, H, W).

    ``maps``: mu_A, mu_B, mu_F, E[AA], E[BB], E[FF], E[AF], E[BF]; ``terms``: g, sv_sq,
    sigma1_sq of A, then of B; ``s2`` is scratch of length W. The rules, in the order of the
    reference ``vifp_mscale.m`` (the order matters where several fire)::

        sigma1_sq < 0 -> 0;  g = sigma12 / (sigma1_sq + eps);  sv_sq = sigma2_sq - g * sigma12
        sigma1_sq < eps -> g = 0, sv_sq = sigma2_sq, sigma1_sq = 0
        sigma2_sq < eps -> g = 0, sv_sq = 0
        g < 0 -> sv_sq = sigma2_sq, g = 0
        sv_sq <= eps -> sv_sq = eps

    with sigma2_sq (of F) clipped at 0 first.
    """
    mu_f, e_ff = maps[2, i], maps[5, i]
    for c in range(s2.shape[0]):
        v = e_ff[c] - mu_f[c] * mu_f[c]
        s2[c] = 0.0 if v < 0.0 else v
    for ref in range(2):
        mu_r, e_rr, e_rf = maps[ref, i], maps[3 + ref, i], maps[6 + ref, i]
        g_out, sv_out, s1_out = terms[3 * ref, j], terms[3 * ref + 1, j], terms[3 * ref + 2, j]
        for c in range(s2.shape[0]):
            sigma2_sq = s2[c]
            s1 = e_rr[c] - mu_r[c] * mu_r[c]
            s12 = e_rf[c] - mu_r[c] * mu_f[c]
            if s1 < 0.0:
                s1 = 0.0
            g = s12 / (s1 + EPS)
            sv = sigma2_sq - g * s12
            if s1 < EPS:
                g = 0.0
                sv = sigma2_sq
                s1 = 0.0
            if sigma2_sq < EPS:
                g = 0.0
                sv = 0.0
            if g < 0.0:
                sv = sigma2_sq
                g = 0.0
            if sv <= EPS:
                sv = EPS
            g_out[c] = g
            sv_out[c] = sv
            s1_out[c] = s1


@numba.njit(**_JIT)
def apply_vifp_rules_2d(maps: np.ndarray, terms: np.ndarray) -> None:
    """:func:`apply_vifp_rules` on (8, H, W) maps into (6, H, W) terms, row by row."""
    s2 = np.empty(maps.shape[2])
    for i in range(maps.shape[1]):
        apply_vifp_rules(maps, i, terms, i, s2)


def row_state(imgs: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """Work arrays for :func:`vif_log_argument_rows` on ``imgs`` (3, H, W) with an n-tap window:
    (ring, scratch, maps_rows, s2, terms_rows, taps)."""
    width = imgs.shape[2]
    out_w = width - n + 1
    return (np.empty((N_MAPS, n + 1, out_w)), np.empty((N_MAPS, 1, width)),
            np.empty((N_MAPS, 2, out_w)), np.empty(out_w), np.empty((N_TERMS, 2, out_w)),
            filter_taps(n, 1))


@numba.njit(**_JIT)
def _filtered_rows(imgs: np.ndarray, w: np.ndarray, saturate: bool, ring: np.ndarray,
                   scratch: np.ndarray, maps_rows: np.ndarray, taps: np.ndarray,
                   out_row: int, count: int) -> None:
    """The 8 filtered VIF maps of output row ``out_row`` into ``maps_rows[:, 0]``, and with
    ``count`` = 2 of the next row into ``maps_rows[:, 1]``.

    Pushes the input rows they need into ``ring`` (n + 1 slots): output rows must be asked for
    in order, starting at 0, with the same ``ring``.
    """
    n = w.shape[0]
    if out_row == 0:
        for row in range(n - 1):
            _push_row(ring, row, imgs, w, True, saturate, scratch, taps)
    for row in range(out_row + n - 1, out_row + n - 1 + count):
        _push_row(ring, row, imgs, w, True, saturate, scratch, taps)
    for m in range(N_MAPS):
        if count == 2:
            _column_filter_pair(maps_rows[m, 0], maps_rows[m, 1], ring, m, out_row, w, taps)
        else:
            _column_filter(maps_rows[m, 0], ring, m, out_row, w, taps)


@numba.njit(**_JIT)
def vif_log_argument_rows(imgs: np.ndarray, w: np.ndarray, saturate: bool, sigma_nsq: float,
                          start: int, args: np.ndarray, ring: np.ndarray, scratch: np.ndarray,
                          maps_rows: np.ndarray, s2: np.ndarray, terms_rows: np.ndarray,
                          taps: np.ndarray) -> None:
    """:func:`vif_log_arguments` of output rows ``start, start + 1, ...`` (as many as ``args``
    (4, k, W') holds), computed from the images without storing the terms.

    Strips must come in order from row 0 with one :func:`row_state`, so that a caller can take
    the logarithms of one cache-sized strip at a time.
    """
    rows = args.shape[1]
    for j in range(0, rows, 2):
        count = min(2, rows - j)
        _filtered_rows(imgs, w, saturate, ring, scratch, maps_rows, taps, start + j, count)
        for i in range(count):
            apply_vifp_rules(maps_rows, i, terms_rows, i, s2)
            _log_arguments(terms_rows[0, i], terms_rows[1, i], terms_rows[2, i], sigma_nsq,
                           args[0, j + i], args[1, j + i])
            _log_arguments(terms_rows[3, i], terms_rows[4, i], terms_rows[5, i], sigma_nsq,
                           args[2, j + i], args[3, j + i])


@numba.njit(**_JIT)
def _log_arguments(g: np.ndarray, sv_sq: np.ndarray, sigma1_sq: np.ndarray, sigma_nsq: float,
                   num: np.ndarray, den: np.ndarray) -> None:
    for i in range(g.shape[0]):  # two loops: each vectorises (one fused loop does not)
        num[i] = g[i] * g[i] * sigma1_sq[i] / (sv_sq[i] + sigma_nsq) + 1.0
    for i in range(g.shape[0]):
        den[i] = sigma1_sq[i] / sigma_nsq + 1.0


@numba.njit(**_JIT)
def vif_log_arguments(g_a: np.ndarray, sv_a: np.ndarray, s1_a: np.ndarray, g_b: np.ndarray,
                      sv_b: np.ndarray, s1_b: np.ndarray, sigma_nsq: float,
                      out: np.ndarray) -> None:
    """Arguments of VIF's logarithms for sources A and B (1-D terms), into ``out`` (4, N):
    ``1 + g^2 sigma1_sq / (sv_sq + sigma_nsq)`` (numerator) and ``1 + sigma1_sq / sigma_nsq``
    (denominator) of A, then of B. numpy's vectorised ``log10`` is then taken in place (it is
    several times faster than a scalar ``log10`` here)."""
    _log_arguments(g_a, sv_a, s1_a, sigma_nsq, out[0], out[1])
    _log_arguments(g_b, sv_b, s1_b, sigma_nsq, out[2], out[3])


@numba.njit(**_JIT)
def near_zero_moments(maps: np.ndarray, limit: float, zero: np.ndarray, out: np.ndarray) -> None:
    """``out[i, j]``: whether any of the 5 (co)variances of the VIF maps (8, H, W) at (i, j)
    (of A, B, F, then A with F and B with F, as ``E[XY] - mu_X mu_Y``) has magnitude below
    ``limit``, not counting those that are exactly 0 because a window they read is all zeros:
    ``zero`` (3, H, W) says where the windows of A, B, F are."""
    for i in range(maps.shape[1]):
        mu_a, mu_b, mu_f = maps[0, i], maps[1, i], maps[2, i]
        z_a, z_b, z_f = zero[0, i], zero[1, i], zero[2, i]
        for j in range(maps.shape[2]):
            a, b, f = mu_a[j], mu_b[j], mu_f[j]
            za, zb, zf = z_a[j], z_b[j], z_f[j]
            out[i, j] = ((abs(maps[3, i, j] - a * a) < limit and not za)
                         or (abs(maps[4, i, j] - b * b) < limit and not zb)
                         or (abs(maps[5, i, j] - f * f) < limit and not zf)
                         or (abs(maps[6, i, j] - a * f) < limit and not (za or zf))
                         or (abs(maps[7, i, j] - b * f) < limit and not (zb or zf)))


@numba.njit(**_JIT)
def interleaved_products(imgs: np.ndarray, saturate: bool, row0: int, out: np.ndarray) -> None:
    """``out[i, j]`` (R, W, 8) = the 8 VIF map values (A, B, F, A*A, B*B, F*F, A*F, B*F) of
    pixel ``(row0 + i, j)`` of ``imgs`` (3, H, W), products optionally saturated at 255: the
    maps side by side, so that one window tap reads all 8 at once."""
    for i in range(out.shape[0]):
        ra, rb, rf = imgs[0, row0 + i], imgs[1, row0 + i], imgs[2, row0 + i]
        for j in range(out.shape[1]):
            x, y, z = ra[j], rb[j], rf[j]
            xx, yy, zz, xz, yz = x * x, y * y, z * z, x * z, y * z
            if saturate:
                xx, yy, zz = min(xx, 255.0), min(yy, 255.0), min(zz, 255.0)
                xz, yz = min(xz, 255.0), min(yz, 255.0)
            o = out[i, j]
            o[0], o[1], o[2], o[3] = x, y, z, xx
            o[4], o[5], o[6], o[7] = yy, zz, xz, yz


@numba.njit(**_JIT)
def direct_filter_pixels(x: np.ndarray, w2: np.ndarray, order: np.ndarray, rr: np.ndarray,
                         cc: np.ndarray, flat: np.ndarray, out: np.ndarray) -> None:
    """Direct (unseparated) 2-D 'valid' filtering of the interleaved maps ``x`` (R, W, k) at
    output pixels ``(rr[p], cc[p])`` into ``out`` (P, k): ``acc = acc + w2[ro, co] *
    x[r + ro, c + co]`` from 0, for the window offsets ``order`` (n * n, 2) in that order,
    without fused multiply-adds (the rounding of GNU Octave's ``conv2``, see
    ``visual_fidelity.octave_filter_valid``).

    Consecutive pixels of one row (``np.nonzero`` order) are filtered together: one tap then
    reads one contiguous run of (pixels x k) values, vectorised. ``flat[p]``: every map's
    window at pixel p is constant; there the sums depend only on the k values, and are
    computed once per run of equal values (the same additions in the same order: the same
    bits).
    """
    k = x.shape[2]
    row_len = x.shape[1] * k
    xs = x.reshape(-1)
    n_pixels = rr.shape[0]
    have = False
    last = np.zeros(k)
    p_last = 0
    p = 0
    while p < n_pixels:
        r, c = rr[p], cc[p]
        if flat[p]:
            value = x[r, c]
            same = have
            for i in range(k):
                same = same and value[i] == last[i]
            if not same:
                for i in range(k):
                    last[i] = value[i]
                acc = out[p]
                acc[:] = 0.0
                for t in range(order.shape[0]):
                    weight = w2[order[t, 0], order[t, 1]]
                    for i in range(k):
                        acc[i] = acc[i] + weight * last[i]
                have = True
                p_last = p
            out[p] = out[p_last]
            p += 1
            continue
        run = 1
        while (p + run < n_pixels and not flat[p + run] and rr[p + run] == r
               and cc[p + run] == c + run):
            run += 1
        acc = out[p:p + run].reshape(-1)
        acc[:] = 0.0
        for t in range(order.shape[0]):
            ro, co = order[t, 0], order[t, 1]
            weight = w2[ro, co]
            base = (r + ro) * row_len + (c + co) * k
            src = xs[base:base + run * k]
            for i in range(run * k):
                acc[i] = acc[i] + weight * src[i]
        p += run


@numba.njit(**_JIT)
def direct_filter_grid(stack: np.ndarray, w2: np.ndarray, order: np.ndarray, step: int,
                       out: np.ndarray) -> None:
    """:func:`direct_filter_pixels` at every ``step``-th output row and column of ``stack``
    (k, H, W), into ``out`` (k, rows, cols): the same additions in the same order per pixel,
    vectorised along rows."""
    for m in range(stack.shape[0]):
        for i in range(out.shape[1]):
            o = out[m, i]
            o[:] = 0.0
            for t in range(order.shape[0]):
                ro, co = order[t, 0], order[t, 1]
                weight = w2[ro, co]
                src = stack[m, i * step + ro]
                for j in range(o.shape[0]):
                    o[j] = o[j] + weight * src[j * step + co]
