"""Compiled (numba) MEF-SSIM quality map (:func:`fusionbench.metrics.structural.mef_ssim`), the
same bits as its numpy formulation :mod:`fusionbench.metrics._ssim_numpy`.

The map needs 5k + 4 + k(k-1) 'valid' 11-tap filters of the k sources S_i, F and their products
(16 for k = 2; :func:`map_layout`), then per-pixel arithmetic with one ``tan`` and k ``pow``.
Here the image is cut into strips of output rows; for each strip one compiled pass filters
every map, forming the products on the fly (no full-size product or moment map is made), in
the operation order of ``scipy.ndimage.correlate1d`` (rows, then columns; the centre tap, then
the symmetric pairs from the outermost inwards; no fused multiply-adds) and goes on to the
consistency ratio; numpy then takes the ``tan`` and ``pow`` (its vectorised ones, as the numpy
formulation does: numba's are libm's scalar ones and may differ in the last bit), and a second
compiled pass finishes the quality map. Every step rounds as the numpy formulation's array
expressions do, so the maps are equal bit for bit (``tests/test_metrics_kernels.py``).

>>> import numpy as np
>>> x = np.arange(16.0 * 16).reshape(16, 16) % 7 * 30
>>> q = mef_quality_map(np.stack([x, x.T]), x)
>>> q.shape, bool(np.all(q <= 1.0))
((6, 6), True)
"""

from __future__ import annotations

import math

import numba
import numpy as np

_JIT = {"cache": True, "boundscheck": False, "nogil": True, "error_model": "numpy"}

EPS = float(np.finfo(float).eps)
#: Output rows per strip: its maps (16 x 16 rows of ~760 values) stay in the L2 cache.
STRIP_ROWS = 16


def map_layout(k: int) -> np.ndarray:
    """The filtered maps of k sources, one row (signal a, signal b or -1, box 0 / Gaussian 1)
    each; signals 0..k-1 are the sources, k is F, k + 1 the sources' sum. Order: box means
    (k), box squares (k), box of the sum and of its square, box source cross products (i < j),
    then Gaussian means (k), F, S_i F (k), squares (k), F F, cross products (i < j).

    >>> map_layout(2).shape
    (16, 3)
    """
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    box = ([(i, -1) for i in range(k)] + [(i, i) for i in range(k)]
           + [(k + 1, -1), (k + 1, k + 1)] + pairs)
    gauss = ([(i, -1) for i in range(k)] + [(k, -1)] + [(i, k) for i in range(k)]
             + [(i, i) for i in range(k)] + [(k, k)] + pairs)
    return np.array([(a, b, 0) for a, b in box] + [(a, b, 1) for a, b in gauss], np.int64)


@numba.njit(**_JIT)
def _row(seq: np.ndarray, f: np.ndarray, total: np.ndarray, signal: int, r: int) -> np.ndarray:
    k = seq.shape[0]
    if signal < k:
        return seq[signal, r]
    if signal == k:
        return f[r]
    return total[r]


@numba.njit(**_JIT)
def _filter_strip(seq: np.ndarray, f: np.ndarray, total: np.ndarray, layout: np.ndarray,
                  windows: np.ndarray, r0: int, rows: int, maps: np.ndarray,
                  tmp: np.ndarray) -> None:
    """Every map of ``layout`` at output rows r0 .. r0 + rows - 1 into ``maps[:, :rows]``."""
    n = windows.shape[1]
    h = n // 2
    width = f.shape[1]
    cols = maps.shape[2]
    for m in range(layout.shape[0]):
        a, b, kind = layout[m, 0], layout[m, 1], layout[m, 2]
        w = windows[kind]
        centre = w[h]
        for rr in range(rows):
            r = r0 + rr + h
            xa = _row(seq, f, total, a, r)
            if b < 0:
                for c in range(width):
                    tmp[c] = xa[c] * centre
                for j in range(h, 0, -1):
                    up, dn = _row(seq, f, total, a, r - j), _row(seq, f, total, a, r + j)
                    wj = w[h - j]
                    for c in range(width):
                        tmp[c] += (up[c] + dn[c]) * wj
            else:
                xb = _row(seq, f, total, b, r)
                for c in range(width):
                    tmp[c] = (xa[c] * xb[c]) * centre
                for j in range(h, 0, -1):
                    ua, da = _row(seq, f, total, a, r - j), _row(seq, f, total, a, r + j)
                    ub, db = _row(seq, f, total, b, r - j), _row(seq, f, total, b, r + j)
                    wj = w[h - j]
                    for c in range(width):
                        tmp[c] += (ua[c] * ub[c] + da[c] * db[c]) * wj
            o = maps[m, rr]
            for c in range(cols):
                o[c] = tmp[c + h] * centre
            for j in range(h, 0, -1):
                wj = w[h - j]
                for c in range(cols):
                    o[c] += (tmp[c + h - j] + tmp[c + h + j]) * wj


@numba.njit(**_JIT)
def _consistency(maps: np.ndarray, k: int, n: int, rows: int, var: np.ndarray,
                 ed: np.ndarray, edn: np.ndarray, angle: np.ndarray) -> None:
    """Per pixel of a strip: the sources' box variances ``var``, ``ed`` = ||x_i - mu_i|| +
    0.001, ``edn`` = ed / n and ``angle`` = pi / 2 * R (R the clipped consistency ratio)."""
    nn = float(n * n)
    half_pi = math.pi / 2
    b_tot, b_tot2 = 2 * k, 2 * k + 1
    cols = angle.shape[1]
    den = np.empty(cols)
    for rr in range(rows):
        for i in range(k):
            mu, sq = maps[i, rr], maps[k + i, rr]
            v, e, en = var[i, rr], ed[i, rr], edn[i, rr]
            for c in range(cols):
                v[c] = sq[c] - mu[c] * mu[c]
                norm = math.sqrt(max(nn * v[c], 0.0))
                e[c] = norm + 0.001
                en[c] = e[c] / n
                den[c] = norm if i == 0 else den[c] + norm
        mt, mt2, t = maps[b_tot, rr], maps[b_tot2, rr], angle[rr]
        for c in range(cols):
            num = math.sqrt(max(nn * (mt2[c] - mt[c] * mt[c]), 0.0))
            ratio = (num + EPS) / (den[c] + EPS)
            if ratio > 1:
                ratio = 1 - EPS
            if ratio < 0:
                ratio = EPS
            t[c] = half_pi * ratio


@numba.njit(**_JIT)
def _quality(maps: np.ndarray, k: int, n: int, rows: int, c_const: float, var: np.ndarray,
             ed: np.ndarray, power: np.ndarray, out: np.ndarray, r0: int,
             acc: np.ndarray) -> None:
    """Per pixel of a strip, from the maps, variances, ``ed`` and ``power`` = (ed / n) ** p:
    the weights, the structure vector's moments and the quality, into ``out`` rows r0 ...;
    ``acc`` (3 + k, cols) is scratch."""
    nn = float(n * n)
    n_pairs = k * (k - 1) // 2
    g0 = 2 * k + 2 + n_pairs
    g_f, g_ff = g0 + k, g0 + 3 * k + 1
    cols = power.shape[2]
    wsum, g_cov, box_var, g_var = acc[0], acc[1], acc[2], acc[3]
    max_ed = acc[4]
    alpha = acc[5:5 + k]
    for rr in range(rows):
        for i in range(k):
            p_i = power[i, rr]
            for c in range(cols):
                wsum[c] = p_i[c] + EPS if i == 0 else wsum[c] + (p_i[c] + EPS)
        for i in range(k):
            p_i, e_i, a_i = power[i, rr], ed[i, rr], alpha[i]
            for c in range(cols):
                a_i[c] = ((p_i[c] + EPS) / wsum[c]) / e_i[c]
                max_ed[c] = e_i[c] if i == 0 else max(max_ed[c], e_i[c])
        for c in range(cols):
            g_cov[c] = 0.0
            box_var[c] = 0.0
            g_var[c] = 0.0
        gf = maps[g_f, rr]
        for i in range(k):
            a_i, gm_i, gsf_i = alpha[i], maps[g0 + i, rr], maps[g0 + k + 1 + i, rr]
            for c in range(cols):
                g_cov[c] += a_i[c] * (gsf_i[c] - gm_i[c] * gf[c])
            for j in range(k):
                a_j, gm_j = alpha[j], maps[g0 + j, rr]
                if i == j:
                    v_i, gsq = var[i, rr], maps[g0 + 2 * k + 1 + i, rr]
                    for c in range(cols):
                        box_var[c] += a_i[c] * a_j[c] * v_i[c]
                        g_var[c] += a_i[c] * a_j[c] * (gsq[c] - gm_i[c] * gm_j[c])
                else:
                    lo, hi = min(i, j), max(i, j)
                    p = lo * k - lo * (lo + 1) // 2 + hi - lo - 1  # index of (lo, hi), lo < hi
                    bx, gx = maps[2 * k + 2 + p, rr], maps[g0 + 3 * k + 2 + p, rr]
                    mu_lo, mu_hi = maps[lo, rr], maps[hi, rr]
                    gm_lo, gm_hi = maps[g0 + lo, rr], maps[g0 + hi, rr]
                    for c in range(cols):
                        box_var[c] += a_i[c] * a_j[c] * (bx[c] - mu_lo[c] * mu_hi[c])
                        g_var[c] += a_i[c] * a_j[c] * (gx[c] - gm_lo[c] * gm_hi[c])
        gff, o = maps[g_ff, rr], out[r0 + rr]
        for c in range(cols):
            norm = math.sqrt(max(nn * box_var[c], 0.0))
            scale = max_ed[c] / norm if norm > 0 else 1.0
            sigma1_sq = scale * scale * g_var[c]
            sigma2_sq = gff[c] - gf[c] * gf[c]
            sigma12 = scale * g_cov[c]
            o[c] = (2 * sigma12 + c_const) / (sigma1_sq + sigma2_sq + c_const)


def mef_quality_map(seq: np.ndarray, f: np.ndarray, *, window: int = 11, k_const: float = 0.03
                    ) -> np.ndarray:
    """The MEF-SSIM quality map of ``f`` against the stack ``seq`` (k, H, W) over the 'valid'
    pixels (H - window + 1, W - window + 1); both at least ``window`` on each side."""
    from fusionbench.metrics.structural import gaussian_window_1d

    seq = np.ascontiguousarray(seq, dtype=np.float64)
    f = np.ascontiguousarray(f, dtype=np.float64)
    k, n = seq.shape[0], window
    total = seq.sum(axis=0)
    layout = map_layout(k)
    windows = np.stack([np.full(n, 1.0 / n), gaussian_window_1d(n, 1.5)])
    rows, cols = f.shape[0] - n + 1, f.shape[1] - n + 1
    out = np.empty((rows, cols))
    strip = min(STRIP_ROWS, rows)
    maps = np.empty((layout.shape[0], strip, cols))
    tmp = np.empty(f.shape[1])
    var, ed, power = (np.empty((k, strip, cols)) for _ in range(3))
    angle = np.empty((strip, cols))
    acc = np.empty((5 + k, cols))
    c_const = (k_const * 255) ** 2
    for r0 in range(0, rows, strip):
        s = min(strip, rows - r0)
        _filter_strip(seq, f, total, layout, windows, r0, s, maps, tmp)
        _consistency(maps, k, n, s, var, ed, power, angle)
        t = angle[:s]
        np.tan(t, out=t)
        np.minimum(t, 10.0, out=t)
        for i in range(k):
            np.power(power[i, :s], t, out=power[i, :s])
        _quality(maps, k, n, s, c_const, var, ed, power, out, r0, acc)
    return out
