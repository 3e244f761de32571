"""Pixel-domain visual information fidelity: Sheikh-Bovik ``vifp_mscale`` (VIF) and Han et al.
2013 VIFF, computed from one shared set of multi-scale local statistics.

Both metrics use 4 scales; at scale s a Gaussian window of size n = 2^(5-s) + 1 (17, 9, 5, 3) with
sigma n/5 (MATLAB ``fspecial``); for s > 1 the images are first filtered with that window
('valid') and down-sampled by 2. Local means, variances and covariances come from 'valid'
filtering. All filtering is separable (banded matrix products) and done for the two
sources and the fused image at once, so that VIF(A,F) + VIF(B,F) and VIFF share the work.

An image dimension smaller than a scale's window makes that scale empty (it contributes 0, as
MATLAB's ``filter2(..., 'valid')`` returns an empty array); callers reject images smaller than
17 x 17 before getting here.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a = rng.integers(0, 256, (40, 40)).astype(float)
>>> stats = vif_statistics(a, a, a)
>>> round(vifp_from_stats(stats, 0), 6)  # F == A: fidelity 1
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

VIF_SIGMA_NSQ = 2.0
VIFF_SIGMA_NSQ = 0.005 * 255 * 255
VIFF_SCALE_WEIGHTS = np.array([1.0, 0.0, 0.15, 1.0]) / 2.15
VIFF_C = 1e-7
_EPS = 1e-10
N_SCALES = 4


def window_1d(n: int) -> np.ndarray:
    """1-D factor of MATLAB ``fspecial('gaussian', n, n/5)`` (outer(w, w) is the 2-D window).

    >>> round(float(window_1d(3).sum()), 15)
    1.0
    """
    sigma = n / 5.0
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


#: Output columns (rows) per block of the banded matrix products in :func:`filter_valid`.
_BLOCK = 24
#: Output rows per strip in :func:`_filter_products` (a strip's maps stay in the CPU cache).
_STRIP = 72


@lru_cache(maxsize=8)
def _band(n: int) -> np.ndarray:
    """(_BLOCK + n - 1) x _BLOCK banded matrix whose column j holds :func:`window_1d` at row j."""
    w = window_1d(n)
    band = np.zeros((_BLOCK + n - 1, _BLOCK))
    for j in range(_BLOCK):
        band[j:j + n, j] = w
    return band


def _rows_pass(stack: np.ndarray, n: int, out: np.ndarray) -> None:
    """Filter along the last axis of (k, R, C) ``stack`` into ``out`` (k, R, C - n + 1)."""
    band = _band(n)
    out_c = out.shape[-1]
    for j in range(0, out_c, _BLOCK):
        b = min(_BLOCK, out_c - j)
        np.matmul(stack[..., j:j + b + n - 1], band[:b + n - 1, :b], out=out[..., j:j + b])


def _cols_pass(tmp: np.ndarray, n: int, out: np.ndarray) -> None:
    """Filter along the second-last axis of (k, R, C) ``tmp`` into ``out`` (k, R - n + 1, C)."""
    band_t = _band(n).T
    for i in range(0, out.shape[-2], _BLOCK):
        b = min(_BLOCK, out.shape[-2] - i)
        np.matmul(band_t[:b, :b + n - 1], tmp[..., i:i + b + n - 1, :], out=out[..., i:i + b, :])


def filter_valid(stack: np.ndarray, n: int, *, step: int = 1) -> np.ndarray:
    """Separable 'valid' correlation of the last two axes with the n x n VIF window.

    Each 1-D pass is a sequence of small banded matrix products (BLAS), ~3x faster than
    ``scipy.ndimage.correlate1d`` and equal to it within ~1e-16 relative. ``step = 2`` keeps
    every other output row and column (``[::2, ::2]``). An axis shorter than the window gives an
    empty result.
    """
    rows, cols = stack.shape[-2], stack.shape[-1]
    out_r, out_c = rows - n + 1, cols - n + 1
    if out_r <= 0 or out_c <= 0:
        return np.zeros(stack.shape[:-2] + (max(out_r, 0), max(out_c, 0)))[..., ::step, ::step]
    tmp = np.empty(stack.shape[:-1] + (out_c,))
    _rows_pass(stack, n, tmp)
    if step > 1:
        tmp = tmp[..., ::step]
    out = np.empty(stack.shape[:-2] + (out_r, tmp.shape[-1]))
    _cols_pass(tmp, n, out)
    return out[..., ::step, :] if step > 1 else out


#: Pairs (x, y) of the images (A, B, F) = (0, 1, 2) whose products x*y VIF filters.
_PRODUCTS = ((0, 0), (1, 1), (2, 2), (0, 2), (1, 2))


def _filter_products(imgs: np.ndarray, n: int, *, means: bool = True,
                     saturate: bool = False) -> np.ndarray:
    """:func:`filter_valid` of the stack (A, B, F, A*A, B*B, F*F, A*F, B*F) of ``imgs`` (3, H, W)
    (without A, B, F when ``means`` is false), products saturated at 255 if ``saturate``.

    Equal, bit for bit, to filtering :func:`_with_products`, but done in strips of
    :data:`_STRIP` output rows whose products and row-filtered maps stay in the CPU cache
    (the full-size product maps are never formed).
    """
    _, rows, cols = imgs.shape
    out_r, out_c = rows - n + 1, cols - n + 1
    first = 0 if means else 3
    k = 8 - first
    if out_r <= 0 or out_c <= 0:
        return np.zeros((k, max(out_r, 0), max(out_c, 0)))
    out = np.empty((k, out_r, out_c))
    strip = np.empty((k, min(_STRIP, out_r) + n - 1, cols))
    tmp = np.empty((k, strip.shape[1], out_c))
    for i in range(0, out_r, _STRIP):
        span = min(_STRIP, out_r - i) + n - 1
        x = strip[:, :span]
        src = imgs[:, i:i + span]
        if means:
            x[:3] = src
        for m, (p, q) in enumerate(_PRODUCTS, start=3 - first):
            np.multiply(src[p], src[q], out=x[m])
        if saturate:
            np.minimum(x[3 - first:], 255.0, out=x[3 - first:])
        _rows_pass(x, n, tmp[:, :span])
        _cols_pass(tmp[:, :span], n, out[:, i:i + span - n + 1])
    return out


@dataclass
class ScaleTerms:
    """Per-pixel terms of one reference (source) against the fused image at one scale."""

    g: np.ndarray          # gain, after the vifp clean-up rules
    sv_sq: np.ndarray      # distortion variance, floored at 1e-10
    sigma1_sq: np.ndarray  # reference variance (0 where below 1e-10)


def _terms(s1: np.ndarray, s2: np.ndarray, s12: np.ndarray,
           low2: np.ndarray | None = None) -> ScaleTerms:
    """Apply the vifp rules to local variances/covariance (the order matters; see spec).

    ``s1`` and ``s12`` are overwritten (they become ``sigma1_sq`` and ``sv_sq``). ``s2`` must
    already be clipped at 0 (``np.where(s2 < 0, 0, s2)``) and is only read; ``low2`` is
    ``s2 < 1e-10`` when the caller has it (it is shared by both sources).
    """
    np.copyto(s1, 0.0, where=s1 < 0)
    g = s1 + _EPS
    np.divide(s12, g, out=g)
    sv = s12
    np.multiply(g, s12, out=sv)
    np.subtract(s2, sv, out=sv)
    low1 = s1 < _EPS
    np.copyto(g, 0.0, where=low1)
    np.copyto(sv, s2, where=low1)
    np.copyto(s1, 0.0, where=low1)
    if low2 is None:
        low2 = s2 < _EPS
    np.copyto(g, 0.0, where=low2)
    np.copyto(sv, 0.0, where=low2)
    neg = g < 0
    np.copyto(sv, s2, where=neg)
    np.copyto(g, 0.0, where=neg)
    np.copyto(sv, _EPS, where=sv <= _EPS)
    return ScaleTerms(g, sv, s1)


def octave_window_2d(n: int) -> np.ndarray:
    """2-D window exactly as GNU Octave's ``fspecial('gaussian', n, n/5)`` computes it.

    (``exp`` of each element with the C library, then division by the column-major sum.)

    >>> bool(np.allclose(octave_window_2d(5), np.outer(window_1d(5), window_1d(5))))
    True
    """
    sigma = n / 5.0
    sq = [(i - (n - 1) / 2.0) ** 2 for i in range(n)]
    f = np.array([[math.exp(-(sq[c] + sq[r]) / (2.0 * sigma**2)) for c in range(n)]
                  for r in range(n)])
    total = 0.0
    for c in range(n):
        for r in range(n):
            total += f[r, c]
    return f / total


def _octave_order(n: int) -> list[tuple[int, int]]:
    """Window offsets (row, col) in the order Octave's ``conv2(..., 'valid')`` adds them."""
    return [(n - 1 - i, n - 1 - j) for j in range(n) for i in range(n)]


def octave_filter_valid(stack: np.ndarray, w2: np.ndarray, *, step: int = 1) -> np.ndarray:
    """'valid' filtering of the last two axes with the same rounding as Octave's ``filter2``.

    The 2-D window is applied directly (no separation), adding one window element at a time
    in the order of Octave's inner convolution; ``step = 2`` computes only ``[::2, ::2]``.
    """
    n = w2.shape[0]
    rows, cols = stack.shape[-2] - n + 1, stack.shape[-1] - n + 1
    if rows <= 0 or cols <= 0:
        return np.zeros(stack.shape[:-2] + (max(rows, 0), max(cols, 0)))
    acc = np.zeros(stack.shape[:-2] + (len(range(0, rows, step)), len(range(0, cols, step))))
    for ro, co in _octave_order(n):
        acc += w2[ro, co] * stack[..., ro:ro + rows:step, co:co + cols:step]
    return acc


def _octave_filter_at(stack: np.ndarray, w2: np.ndarray, rr: np.ndarray,
                      cc: np.ndarray) -> np.ndarray:
    """:func:`octave_filter_valid` of ``stack`` (k, H, W) at output pixels ``(rr, cc)`` only."""
    n = w2.shape[0]
    out = np.empty((stack.shape[0], rr.size))
    off = np.arange(n)
    for start in range(0, rr.size, 2048):
        r = rr[start:start + 2048]
        c = cc[start:start + 2048]
        windows = stack[:, r[:, None, None] + off[None, :, None], c[:, None, None] + off]
        acc = np.zeros((stack.shape[0], r.size))
        for ro, co in _octave_order(n):
            acc += w2[ro, co] * windows[:, :, ro, co]
        out[:, start:start + r.size] = acc
    return out


def _window_size(scale: int) -> int:
    """Window size at a scale (1-based): 17, 9, 5, 3."""
    return 2 ** (N_SCALES - scale + 1) + 1


def _with_products(imgs: np.ndarray, saturate: bool = False) -> np.ndarray:
    """Stack (A, B, F, A*A, B*B, F*F, A*F, B*F) of images (3, H, W); products optionally
    saturated at 255 (MATLAB uint8 arithmetic)."""
    ia, ib, iff = imgs
    out = np.empty((8,) + imgs.shape[1:])
    out[:3] = imgs
    for k, (x, y) in enumerate(((ia, ia), (ib, ib), (iff, iff), (ia, iff), (ib, iff)), start=3):
        np.multiply(x, y, out=out[k])
    if saturate:
        np.minimum(out[3:], 255.0, out=out[3:])
    return out


#: Local (co)variances of magnitude below this are recomputed in Octave's rounding order when
#: ``octave_rounding`` is set (rounding noise is below ~1e-9 for 8-bit data; real variances of
#: 8-bit images are above ~5e-5 at the first scale).
NEAR_ZERO = 1e-6


def vif_statistics(a: np.ndarray, b: np.ndarray, f: np.ndarray, *,
                   saturate_first_scale: bool = False,
                   octave_rounding: bool = False,
                   cache: dict | None = None) -> list[list[ScaleTerms]]:
    """Local VIF terms of sources ``a`` and ``b`` against ``f`` at the 4 scales.

    Returns ``terms[scale][0 for a, 1 for b]``. Inputs are 2-D float arrays on 0..255 of one
    size. With ``saturate_first_scale`` the first-scale products ``A*A``, ``F*F``, ``A*F``
    saturate at 255, as MATLAB forms them when the images are ``uint8`` (tang2022); the
    inputs must then hold integers.

    ``octave_rounding``: in flat regions the local variances are pure rounding noise around
    1e-10, the threshold of the vifp rules, so which rule fires depends on the summation order.
    That changes nothing measurable in VIF, but VIFF's per-pixel choice of source follows the
    noise. With this flag every pixel where a (co)variance is below :data:`NEAR_ZERO` is
    recomputed exactly as Octave's ``filter2`` rounds (and the down-sampled images too), which
    reproduces ``VIFF_Public.m`` under Octave to ~1e-14.

    ``cache``: a dict kept between calls on the same (a, b, f) holds the down-sampled images
    and filtered maps, so that another variant (e.g. saturated and not) recomputes only what
    differs: the local means and scales 2-4 do not depend on ``saturate_first_scale``.
    """
    cache = {} if cache is None else cache
    if ("imgs", 1) not in cache:
        cache["imgs", 1] = np.stack([a, b, f]).astype(np.float64, copy=False)
    imgs = cache["imgs", 1]
    exact_imgs, exact_scale = imgs, 1
    out: list[list[ScaleTerms]] = []
    for scale in range(1, N_SCALES + 1):
        n = _window_size(scale)
        if scale > 1:
            if ("imgs", scale) not in cache:
                cache["imgs", scale] = filter_valid(imgs, n, step=2)
            imgs = cache["imgs", scale]
        sat = scale == 1 and saturate_first_scale
        if ("prods", scale, sat) not in cache:
            if ("means", scale) in cache:
                cache["prods", scale, sat] = _filter_products(imgs, n, means=False,
                                                              saturate=sat)
            else:
                both = _filter_products(imgs, n, saturate=sat)
                cache["means", scale], cache["prods", scale, sat] = both[:3], both[3:]
        means, prods = cache["means", scale], cache["prods", scale, sat]
        if octave_rounding and means.shape[-1] > 0 and means.shape[-2] > 0:
            filtered = np.concatenate([means, prods])  # a copy: exact pixels are patched in
            mu, e = filtered[:3], filtered[3:]
            cov = np.stack([e[0] - mu[0] ** 2, e[1] - mu[1] ** 2, e[2] - mu[2] ** 2,
                            e[3] - mu[0] * mu[2], e[4] - mu[1] * mu[2]])
            rr, cc = np.nonzero((np.abs(cov) < NEAR_ZERO).any(axis=0))
            if rr.size:
                w2 = octave_window_2d(n)
                while exact_scale < scale:  # bring the exactly rounded images to this scale
                    exact_scale += 1
                    exact_imgs = octave_filter_valid(
                        exact_imgs, octave_window_2d(_window_size(exact_scale)), step=2)
                exact_stack = _with_products(exact_imgs)
                filtered[:, rr, cc] = _octave_filter_at(exact_stack, w2, rr, cc)
            means, prods = filtered[:3], filtered[3:]
        mu_a, mu_b, mu_f = means
        e_aa, e_bb, e_ff, e_af, e_bf = prods
        s2 = e_ff - mu_f * mu_f
        np.copyto(s2, 0.0, where=s2 < 0)
        low2 = s2 < _EPS
        per_ref = []
        for mu_r, e_rr, e_rf in ((mu_a, e_aa, e_af), (mu_b, e_bb, e_bf)):
            per_ref.append(_terms(e_rr - mu_r * mu_r, s2, e_rf - mu_r * mu_f, low2))
        out.append(per_ref)
    return out


def _num_den(t: ScaleTerms, sigma_nsq: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel log10(1 + g^2 s1 / (sv + noise)) and log10(1 + s1 / noise) (in place ops,
    same rounding as the plain expressions)."""
    num = t.g * t.g
    num *= t.sigma1_sq
    num /= t.sv_sq + sigma_nsq
    num += 1.0
    np.log10(num, out=num)
    den = t.sigma1_sq / sigma_nsq
    den += 1.0
    np.log10(den, out=den)
    return num, den


def vifp_from_stats(stats: list[list[ScaleTerms]], ref: int) -> float:
    """Sheikh-Bovik ``vifp_mscale(ref, F)`` (noise variance 2) from :func:`vif_statistics`.

    Returns ``nan`` when the denominator is 0 (a reference with no local variance anywhere).
    """
    num = 0.0
    den = 0.0
    for per_ref in stats:
        n_map, d_map = _num_den(per_ref[ref], VIF_SIGMA_NSQ)
        num += float(n_map.sum())
        den += float(d_map.sum())
    return num / den if den > 0 else float("nan")


def viff_from_stats(stats: list[list[ScaleTerms]]) -> float:
    """Han et al. 2013 VIFF (``VIFF_Public.m``) from :func:`vif_statistics`.

    Noise variance 0.005 * 255^2; at each pixel and scale the terms of the source with the
    smaller gain g are used (the second source where the gains are equal); per scale
    (sum(num + C) / sum(den + C)) with C = 1e-7, weighted by [1, 0, 0.15, 1] / 2.15.
    """
    total = 0.0
    for weight, (ta, tb) in zip(VIFF_SCALE_WEIGHTS, stats, strict=True):
        num_a, den_a = _num_den(ta, VIFF_SIGMA_NSQ)
        num_b, den_b = _num_den(tb, VIFF_SIGMA_NSQ)
        pick_a = ta.g < tb.g
        num = np.where(pick_a, num_a, num_b)
        den = np.where(pick_a, den_a, den_b)
        if num.size == 0:
            return float("nan")  # MATLAB: 0/0 at an empty scale (image below 41 x 41)
        ratio = float((num + VIFF_C).sum()) / float((den + VIFF_C).sum())
        total += weight * ratio
    return total
