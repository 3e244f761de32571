"""Compiled (numba) MEF-SSIM quality map of two sources
(:func:`fusionbench.metrics.structural.mef_ssim`), the same bits as its numpy formulation
:mod:`fusionbench.metrics._ssim_numpy` (which this module uses for any other number of sources
or window size).

The map needs 16 'valid' 11-tap filters of the sources S0, S1, F and their products (the box
and Gaussian maps of :data:`MAPS`), then per-pixel arithmetic with one ``tan`` and two ``pow``.
Here the image is cut into strips of :data:`STRIP_ROWS` output rows, and for each strip:

1. each product image's rows of the strip are formed in one buffer (no full-size product or
   moment map is made), summed over 11 rows (one column loop reading the rows through the 2-D
   array, which LLVM vectorises; an image with both a box and a Gaussian map has both sums
   formed from one load of its rows), then over 11 columns, in the operation order of
   ``scipy.ndimage.correlate1d``
   (rows, then columns; the centre tap, then the symmetric pairs from the outermost inwards;
   no fused multiply-adds);
2. a compiled pass computes the sources' norms and the consistency ratio; numpy takes the
   ``tan`` and ``pow`` (its vectorised ones, as the numpy formulation does: numba's are libm's
   scalar ones and may differ in the last bit); a second compiled pass finishes the map.

Every step rounds as the numpy formulation's array expressions do, so the maps are equal bit
for bit (``tests/test_metrics_kernels.py``), ~5x faster on a 768 x 576 triple.

>>> import numpy as np
>>> x = np.arange(16.0 * 16).reshape(16, 16) % 7 * 30
>>> q = mef_quality_map(np.stack([x, x.T]), x)
>>> q.shape, bool(np.all(q <= 1.0))
((6, 6), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numba
import numpy as np

from fusionbench.metrics import _ssim_numpy

_JIT = {"cache": True, "boundscheck": False, "nogil": True, "error_model": "numpy"}

EPS = float(np.finfo(float).eps)
#: Output rows per strip (its 16 maps, ~1.5 MB for 768 columns, stay in the L2/L3 cache).
STRIP_ROWS = 16
#: The filtered maps, in the order of their index in the strip buffer: box (b) means, squares,
#: sum S0 + S1 and its square, cross product; Gaussian (g) means, F, S_i F, squares, F F,
#: cross product. The index arithmetic of :func:`_consistency` and :func:`_quality` follows it.
MAPS = ("b S0", "b S1", "b S0^2", "b S1^2", "b T", "b T^2", "b S0 S1",
        "g S0", "g S1", "g F", "g S0 F", "g S1 F", "g S0^2", "g S1^2", "g F^2", "g S0 S1")


@numba.njit(**_JIT)
def _vertical(x: np.ndarray, first: int, w: np.ndarray, rows: int, out: np.ndarray) -> None:
    """``out[rr]`` = the 11-row sums of ``x`` rows first + rr .. first + rr + 10 (rr < rows):
    the centre tap, then the pairs from the outermost inwards. The rows are read through the
    one 2-D array (not as 11 row views), so LLVM checks one pointer group for aliasing and
    vectorises the loop."""
    w0, w1, w2, w3, w4, w5 = w[0], w[1], w[2], w[3], w[4], w[5]
    for rr in range(rows):
        r = first + rr
        o = out[rr]
        for c in range(x.shape[1]):
            o[c] = (((((x[r + 5, c] * w5 + (x[r, c] + x[r + 10, c]) * w0)
                       + (x[r + 1, c] + x[r + 9, c]) * w1) + (x[r + 2, c] + x[r + 8, c]) * w2)
                     + (x[r + 3, c] + x[r + 7, c]) * w3) + (x[r + 4, c] + x[r + 6, c]) * w4)


@numba.njit(**_JIT)
def _vertical_pair(x: np.ndarray, first: int, wa: np.ndarray, wb: np.ndarray, rows: int,
                   out_a: np.ndarray, out_b: np.ndarray) -> None:
    """:func:`_vertical` with two windows at once (the box and the Gaussian sums of one
    image: the 11 rows are loaded once for both; the same operations for each)."""
    a0, a1, a2, a3, a4, a5 = wa[0], wa[1], wa[2], wa[3], wa[4], wa[5]
    b0, b1, b2, b3, b4, b5 = wb[0], wb[1], wb[2], wb[3], wb[4], wb[5]
    for rr in range(rows):
        r = first + rr
        oa, ob = out_a[rr], out_b[rr]
        for c in range(x.shape[1]):
            t0, t1 = x[r, c] + x[r + 10, c], x[r + 1, c] + x[r + 9, c]
            t2, t3 = x[r + 2, c] + x[r + 8, c], x[r + 3, c] + x[r + 7, c]
            t4, mid = x[r + 4, c] + x[r + 6, c], x[r + 5, c]
            oa[c] = ((((mid * a5 + t0 * a0) + t1 * a1) + t2 * a2) + t3 * a3) + t4 * a4
            ob[c] = ((((mid * b5 + t0 * b0) + t1 * b1) + t2 * b2) + t3 * b3) + t4 * b4


@numba.njit(**_JIT)
def _horizontal(v: np.ndarray, w: np.ndarray, rows: int, out: np.ndarray) -> None:
    """``out[rr, c]`` = the 11-column sum of ``v[rr]`` at c .. c + 10, in the same order."""
    w0, w1, w2, w3, w4, w5 = w[0], w[1], w[2], w[3], w[4], w[5]
    cols = out.shape[1]
    for rr in range(rows):
        t, o = v[rr], out[rr]
        for c in range(cols):
            o[c] = (((((t[c + 5] * w5 + (t[c] + t[c + 10]) * w0) + (t[c + 1] + t[c + 9]) * w1)
                      + (t[c + 2] + t[c + 8]) * w2) + (t[c + 3] + t[c + 7]) * w3)
                    + (t[c + 4] + t[c + 6]) * w4)


@numba.njit(**_JIT)
def _product(s0: np.ndarray, s1: np.ndarray, f: np.ndarray, kind: int, r0: int, rows: int,
             out: np.ndarray) -> None:
    """Rows r0 .. r0 + rows - 1 of product ``kind`` (:data:`PRODUCTS`) into ``out[:rows]``."""
    width = f.shape[1]
    for rr in range(rows):
        a, b, x, o = s0[r0 + rr], s1[r0 + rr], f[r0 + rr], out[rr]
        if kind == 0:
            for c in range(width):
                o[c] = a[c] + b[c]
        elif kind == 1:
            for c in range(width):
                o[c] = a[c] * a[c]
        elif kind == 2:
            for c in range(width):
                o[c] = b[c] * b[c]
        elif kind == 3:
            for c in range(width):
                t = a[c] + b[c]
                o[c] = t * t
        elif kind == 4:
            for c in range(width):
                o[c] = a[c] * b[c]
        elif kind == 5:
            for c in range(width):
                o[c] = a[c] * x[c]
        elif kind == 6:
            for c in range(width):
                o[c] = b[c] * x[c]
        else:
            for c in range(width):
                o[c] = x[c] * x[c]


#: The product images the maps filter (kinds of :func:`_product`), with the box map and the
#: Gaussian map (:data:`MAPS` indices, -1 none) each feeds: S0 + S1, S0^2, S1^2,
#: (S0 + S1)^2, S0 S1, S0 F, S1 F, F^2.
PRODUCTS = np.array([(4, -1), (2, 12), (3, 13), (5, -1), (6, 15), (-1, 10), (-1, 11), (-1, 14)],
                    np.int64)


@numba.njit(**_JIT)
def _filter_one(x: np.ndarray, first: int, w: np.ndarray, rows: int, vbuf: np.ndarray,
                out: np.ndarray) -> None:
    _vertical(x, first, w, rows, vbuf[0])
    _horizontal(vbuf[0], w, rows, out)


@numba.njit(**_JIT)
def _filter_pair(x: np.ndarray, first: int, box: np.ndarray, gauss: np.ndarray, rows: int,
                 vbuf: np.ndarray, out_box: np.ndarray, out_gauss: np.ndarray) -> None:
    _vertical_pair(x, first, box, gauss, rows, vbuf[0], vbuf[1])
    _horizontal(vbuf[0], box, rows, out_box)
    _horizontal(vbuf[1], gauss, rows, out_gauss)


@numba.njit(**_JIT)
def _filter_strip(s0: np.ndarray, s1: np.ndarray, f: np.ndarray, box: np.ndarray,
                  gauss: np.ndarray, products: np.ndarray, r0: int, rows: int,
                  maps: np.ndarray, sbuf: np.ndarray, vbuf: np.ndarray) -> None:
    """The 16 :data:`MAPS` of two sources at output rows r0 .. r0 + rows - 1
    into ``maps[:, :rows]``: each product image's rows of the strip are formed in ``sbuf``,
    summed over 11 rows into ``vbuf`` (2, rows, W; the box and Gaussian sums of one image in
    one pass), then over 11 columns."""
    _filter_pair(s0, r0, box, gauss, rows, vbuf, maps[0], maps[7])
    _filter_pair(s1, r0, box, gauss, rows, vbuf, maps[1], maps[8])
    _filter_one(f, r0, gauss, rows, vbuf, maps[9])
    for kind in range(products.shape[0]):
        _product(s0, s1, f, kind, r0, rows + 10, sbuf)
        to_box, to_gauss = products[kind, 0], products[kind, 1]
        if to_box >= 0 and to_gauss >= 0:
            _filter_pair(sbuf, 0, box, gauss, rows, vbuf, maps[to_box], maps[to_gauss])
        elif to_box >= 0:
            _filter_one(sbuf, 0, box, rows, vbuf, maps[to_box])
        else:
            _filter_one(sbuf, 0, gauss, rows, vbuf, maps[to_gauss])


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


@numba.njit(**_JIT)
def downsample_2x2(x: np.ndarray, out: np.ndarray) -> None:
    """``out`` (ceil(H/2), ceil(W/2)) = the 2 x 2 means of ``x`` (H, W) at even offsets,
    ``(((x[2i, 2j] + x[2i+1, 2j]) + x[2i, 2j+1]) + x[2i+1, 2j+1]) / 4``, an odd side's last
    mean reading its edge twice (MATLAB ``imfilter(..., 'symmetric')``)."""
    rows, cols = x.shape
    for i in range(out.shape[0]):
        top, bottom = x[2 * i], x[min(2 * i + 1, rows - 1)]
        o = out[i]
        for j in range(out.shape[1]):
            left, right = 2 * j, min(2 * j + 1, cols - 1)
            o[j] = (((top[left] + bottom[left]) + top[right]) + bottom[right]) / 4.0


def mef_quality_map(seq: np.ndarray | Sequence[np.ndarray], f: np.ndarray, *, window: int = 11,
                    k_const: float = 0.03) -> np.ndarray:
    """The MEF-SSIM quality map of ``f`` against the sources ``seq`` (a (k, H, W) stack or k
    images) over the 'valid' pixels (H - window + 1, W - window + 1); both at least ``window``
    on each side. Compiled for two sources and an 11 x 11 window, else
    :func:`._ssim_numpy.mef_quality_map`."""
    from fusionbench.metrics.structural import gaussian_window_1d

    if len(seq) != 2 or window != 11:
        return _ssim_numpy.mef_quality_map(seq, f, window=window, k_const=k_const)
    s0, s1 = (np.ascontiguousarray(s, dtype=np.float64) for s in seq)
    f = np.ascontiguousarray(f, dtype=np.float64)
    k, n = 2, window
    box, gauss = np.full(n, 1.0 / n), gaussian_window_1d(n, 1.5)
    rows, cols = f.shape[0] - n + 1, f.shape[1] - n + 1
    out = np.empty((rows, cols))
    strip = min(STRIP_ROWS, rows)
    maps = np.empty((16, strip, cols))
    sbuf = np.empty((strip + n - 1, f.shape[1]))
    vbuf = np.empty((2, strip, f.shape[1]))
    var, ed, power = (np.empty((k, strip, cols)) for _ in range(3))
    angle = np.empty((strip, cols))
    acc = np.empty((5 + k, cols))
    c_const = (k_const * 255) ** 2
    for r0 in range(0, rows, strip):
        s = min(strip, rows - r0)
        _filter_strip(s0, s1, f, box, gauss, PRODUCTS, r0, s, maps, sbuf, vbuf)
        _consistency(maps, k, n, s, var, ed, power, angle)
        t = angle[:s]
        np.tan(t, out=t)
        np.minimum(t, 10.0, out=t)
        for i in range(k):
            np.power(power[i, :s], t, out=power[i, :s])
        _quality(maps, k, n, s, c_const, var, ed, power, out, r0, acc)
    return out
