"""Pixel-domain visual information fidelity: Sheikh-Bovik ``vifp_mscale`` (VIF) and Han et al.
2013 VIFF, computed from one shared set of multi-scale local statistics.

Both metrics use 4 scales; at scale s a Gaussian window of size n = 2^(5-s) + 1 (17, 9, 5, 3) with
sigma n/5 (MATLAB ``fspecial``); for s > 1 the images are first filtered with that window
('valid') and down-sampled by 2. Local means, variances and covariances come from 'valid'
filtering. All filtering is separable and done for the two sources and the fused image at once,
so that VIF(A,F) + VIF(B,F) and VIFF share the work; the compiled kernels (rounding pinned down,
see :mod:`fusionbench.metrics._vif_kernels`) stream over the rows and apply the vifp rules
without forming the full-size product maps.

An image dimension smaller than a scale's window makes that scale empty (it contributes 0, as
MATLAB's ``filter2(..., 'valid')`` returns an empty array); callers reject images smaller than
17 x 17 before getting here.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a = rng.integers(0, 256, (40, 40)).astype(float)
>>> [round(v, 6) for v in vifp_pair(a, a, a)]  # F == A: fidelity 1
[1.0, 1.0]
>>> stats = vif_statistics(a, a, a)
>>> round(float(stats[0][0].g.min()), 9)  # per-pixel gain of A against F at scale 1
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from fusionbench.metrics._compiled import kernel_input, vif_kernels

VIF_SIGMA_NSQ = 2.0
VIFF_SIGMA_NSQ = 0.005 * 255 * 255
VIFF_SCALE_WEIGHTS = np.array([1.0, 0.0, 0.15, 1.0]) / 2.15
VIFF_C = 1e-7
N_SCALES = 4
#: Filtered maps per scale: means of A, B, F and moments AA, BB, FF, AF, BF.
N_MAPS = 8


def window_1d(n: int) -> np.ndarray:
    """1-D factor of MATLAB ``fspecial('gaussian', n, n/5)`` (outer(w, w) is the 2-D window).

    >>> round(float(window_1d(3).sum()), 15)
    1.0
    """
    sigma = n / 5.0
    x = np.arange(n, dtype=np.float64) - (n - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _empty_valid(shape: tuple[int, ...], n: int, step: int) -> np.ndarray | None:
    """The (empty) result of 'valid' filtering when an image axis is shorter than the window,
    as MATLAB's ``filter2(..., 'valid')`` returns; ``None`` when the result is not empty."""
    out_r, out_c = shape[-2] - n + 1, shape[-1] - n + 1
    if out_r > 0 and out_c > 0:
        return None
    return np.zeros(shape[:-2] + (max(out_r, 0), max(out_c, 0)))[..., ::step, ::step]


def _valid_shape(shape: tuple[int, ...], n: int, step: int) -> tuple[int, int]:
    """Rows and columns of 'valid' filtering with an n-tap window, keeping every step-th."""
    return (len(range(0, shape[-2] - n + 1, step)), len(range(0, shape[-1] - n + 1, step)))


def filter_valid(stack: np.ndarray, n: int, *, step: int = 1) -> np.ndarray:
    """Separable 'valid' correlation of the images of ``stack`` (k, H, W) with the n x n VIF
    window (compiled kernel, see :mod:`fusionbench.metrics._vif_kernels`).

    ``step = 2`` keeps every other output row and column (``[::2, ::2]``). An axis shorter than
    the window gives an empty result.

    >>> x = np.arange(400.0).reshape(1, 20, 20)
    >>> filter_valid(x, 5).shape, filter_valid(x, 5, step=2).shape
    ((1, 16, 16), (1, 8, 8))
    >>> round(float(filter_valid(np.ones((1, 9, 9)), 9)[0, 0, 0]), 12)
    1.0
    """
    empty = _empty_valid(stack.shape, n, step)
    if empty is not None:
        return empty
    kernels = vif_kernels()
    src = kernel_input(stack)
    out = np.empty((src.shape[0], *_valid_shape(src.shape, n, step)))
    kernels.filter_stack(src, window_1d(n), False, False, step, out, kernels.filter_taps(n, step))
    return out


def _filter_products(imgs: np.ndarray, n: int, *, saturate: bool = False) -> np.ndarray:
    """:func:`filter_valid` of the stack (A, B, F, A*A, B*B, F*F, A*F, B*F) of ``imgs``
    (3, H, W), products saturated at 255 if ``saturate`` (formed on the fly, never stored)."""
    empty = _empty_valid((8,) + imgs.shape[1:], n, 1)
    if empty is not None:
        return empty
    kernels = vif_kernels()
    out = np.empty((8, *_valid_shape(imgs.shape, n, 1)))
    kernels.filter_stack(imgs, window_1d(n), True, saturate, 1, out, kernels.filter_taps(n, 1))
    return out


@dataclass
class ScaleTerms:
    """Per-pixel terms of one reference (source) against the fused image at one scale."""

    g: np.ndarray          # gain, after the vifp clean-up rules
    sv_sq: np.ndarray      # distortion variance, floored at 1e-10
    sigma1_sq: np.ndarray  # reference variance (0 where below 1e-10)


def _split_terms(terms: np.ndarray) -> list[ScaleTerms]:
    """(6, H, W) kernel output -> [terms of A, terms of B]."""
    return [ScaleTerms(*terms[0:3]), ScaleTerms(*terms[3:6])]


def _terms_from_maps(maps: np.ndarray) -> np.ndarray:
    """The vifp rules (:func:`~fusionbench.metrics._vif_kernels.apply_vifp_rules`) applied to
    filtered maps (8, H, W): (6, H, W) terms."""
    kernels = vif_kernels()
    terms = np.empty((6,) + maps.shape[1:])
    if maps.shape[1] and maps.shape[2]:
        kernels.apply_vifp_rules_2d(maps, terms)
    return terms


def _scale_terms(imgs: np.ndarray, n: int, saturate: bool) -> np.ndarray:
    """(6, H - n + 1, W - n + 1) VIF terms of ``imgs`` (A, B, F) at a window of n taps (full-size
    maps: only :func:`vif_statistics` needs the per-pixel terms; :func:`vifp_pair` streams)."""
    return _terms_from_maps(_filter_products(imgs, n, saturate=saturate))


#: Output rows per strip in :func:`_vifp_scale_sums` (its ~1.5 MB buffer stays in the cache and
#: is reused, so no full-size maps are allocated).
STRIP_ROWS = 64


def _vifp_scale_sums(imgs: np.ndarray, n: int, saturate: bool) -> np.ndarray:
    """Sums over one scale's pixels of vifp's numerator and denominator logarithms, of source
    A then B (4 values), streamed from ``imgs`` (A, B, F) in strips of :data:`STRIP_ROWS` rows.
    """
    rows, cols = _valid_shape(imgs.shape, n, 1)
    sums = np.zeros(4)
    if rows == 0 or cols == 0:
        return sums
    kernels = vif_kernels()
    state = kernels.row_state(imgs, n)
    w = window_1d(n)
    buffer = np.empty((4, min(STRIP_ROWS, rows), cols))
    for start in range(0, rows, STRIP_ROWS):
        strip = buffer[:, :min(STRIP_ROWS, rows - start)]
        kernels.vif_log_argument_rows(imgs, w, saturate, VIF_SIGMA_NSQ, start, strip, *state)
        np.log10(strip, out=strip)
        sums += strip.sum(axis=(1, 2))
    return sums


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
    """'valid' filtering of the last two axes of ``stack`` (k, H, W) with the same rounding as
    Octave's ``filter2``.

    The 2-D window is applied directly (no separation), adding one window element at a time
    in the order of Octave's inner convolution; ``step = 2`` computes only ``[::2, ::2]``.

    >>> x = np.arange(25.0).reshape(1, 5, 5)
    >>> octave_filter_valid(x, np.full((3, 3), 1 / 9)).round(12).tolist()[0][0]
    [6.0, 7.0, 8.0]
    """
    n = w2.shape[0]
    rows, cols = stack.shape[-2] - n + 1, stack.shape[-1] - n + 1
    if rows <= 0 or cols <= 0:
        return np.zeros(stack.shape[:-2] + (max(rows, 0), max(cols, 0)))
    src = np.ascontiguousarray(stack, dtype=float)
    out = np.empty((src.shape[0], len(range(0, rows, step)), len(range(0, cols, step))))
    order = np.array(_octave_order(n), dtype=np.int64)
    vif_kernels().direct_filter_grid(src, w2, order, step, out)
    return out


def constant_windows(image: np.ndarray, n: int) -> np.ndarray:
    """For each 'valid' n x n window of the 2-D ``image``: whether all its values are equal
    (exact comparisons and integer counts, so no rounding is involved).

    >>> x = np.zeros((4, 5)); x[3, 4] = 1.0
    >>> constant_windows(x, 3).tolist()
    [[True, True, True], [True, True, False]]
    """
    rows, cols = image.shape[0] - n + 1, image.shape[1] - n + 1
    changes = np.zeros((image.shape[0], image.shape[1]), np.int32)
    np.cumsum(image[:, 1:] != image[:, :-1], axis=1, out=changes[:, 1:])
    row_varies = (changes[:, n - 1:] - changes[:, :cols]) != 0            # (H, cols)
    steps = np.zeros((image.shape[0], cols), np.int32)
    np.cumsum(row_varies[1:] | (image[1:, :cols] != image[:-1, :cols]), axis=0,
              out=steps[1:])
    return ((steps[n - 1:] - steps[:rows]) == 0) & ~row_varies[:rows]


def _octave_filter_at(stack: np.ndarray, w2: np.ndarray, rr: np.ndarray, cc: np.ndarray, *,
                      flat: np.ndarray | None = None) -> np.ndarray:
    """:func:`octave_filter_valid` of ``stack`` (k, H, W) at output pixels ``(rr, cc)`` only,
    as (k, P) (compiled, see :func:`~fusionbench.metrics._vif_kernels.direct_filter_pixels`;
    ``flat`` (P,): where every map's window is known to be constant)."""
    interleaved = np.ascontiguousarray(np.moveaxis(stack.astype(np.float64), 0, -1))
    return _filter_interleaved_at(interleaved, w2, rr, cc, flat).T


def _filter_interleaved_at(x: np.ndarray, w2: np.ndarray, rr: np.ndarray, cc: np.ndarray,
                           flat: np.ndarray | None = None) -> np.ndarray:
    """(P, k) Octave-order filter sums of the interleaved maps ``x`` (R, W, k) at ``(rr, cc)``.
    """
    order = np.array(_octave_order(w2.shape[0]), dtype=np.int64)
    out = np.empty((rr.size, x.shape[2]))
    flat = np.zeros(rr.size, bool) if flat is None else flat
    vif_kernels().direct_filter_pixels(x, w2, order, rr.astype(np.int64), cc.astype(np.int64),
                                       flat, out)
    return out


def _window_size(scale: int) -> int:
    """Window size at a scale (1-based): 17, 9, 5, 3."""
    return 2 ** (N_SCALES - scale + 1) + 1


#: Local (co)variances of magnitude below this are recomputed in Octave's rounding order when
#: ``octave_rounding`` is set (rounding noise is below ~1e-9 for 8-bit data; real variances of
#: 8-bit images are above ~5e-5 at the first scale), unless they are exactly 0 in any order
#: (see :func:`_zero_windows`).
NEAR_ZERO = 1e-6


def all_true_windows(mask: np.ndarray, n: int, *, step: int = 1) -> np.ndarray:
    """For each 'valid' n x n window of the 2-D masks ``mask`` (k, H, W): whether all its
    elements are True (integer counts along rows, then columns: exact); every ``step``-th
    window row and column.

    >>> m = np.ones((1, 4, 5), bool); m[0, 3, 4] = False
    >>> all_true_windows(m, 3).astype(int).tolist()
    [[[1, 1, 1], [1, 1, 0]]]
    """
    k, height, width = mask.shape
    rows, cols = height - n + 1, width - n + 1
    counts = np.zeros((k, height, width + 1), np.int32)
    np.cumsum(~mask, axis=2, out=counts[:, :, 1:])
    row_ok = (counts[:, :, n::step] - counts[:, :, :cols:step]) == 0    # (k, H, cols')
    counts = np.zeros((k, height + 1, row_ok.shape[2]), np.int32)
    np.cumsum(~row_ok, axis=1, out=counts[:, 1:])
    return (counts[:, n::step] - counts[:, :rows:step]) == 0


def _zero_windows(cache: dict, scale: int) -> np.ndarray:
    """(3, H', W') for the maps of ``scale``: whether the n x n window of source A, B and F is
    made of pixels that are sums of zeros only, back to the input images.

    There every filtered map of that image (mean, square, product with another image) is a sum
    of products with a 0 factor: exactly 0 in any summation order, in this module's filters and
    in Octave's alike, and so are the variance and the covariances it enters (``0 - 0 * mu``).
    Such (co)variances need no recomputation in Octave's order (the black background of
    medical images: most of the pixels :data:`NEAR_ZERO` would flag). Kept in ``cache``
    (``"zero_support", s``: the scale-s pixels that are such sums).
    """
    if ("zero_support", 1) not in cache:
        cache["zero_support", 1] = cache["imgs", 1] == 0
    for s in range(2, scale + 1):
        if ("zero_support", s) not in cache:
            cache["zero_support", s] = all_true_windows(cache["zero_support", s - 1],
                                                        _window_size(s), step=2)
    return all_true_windows(cache["zero_support", scale], _window_size(scale))


def _scale_images(a: np.ndarray, b: np.ndarray, f: np.ndarray, cache: dict) -> None:
    """Put the stacks (A, B, F) of the 4 scales into ``cache["imgs", scale]`` (scale 1 as
    given when all are uint8, else float64; each next one filtered and down-sampled by 2)."""
    if ("imgs", 1) not in cache:
        stack = np.stack([a, b, f])  # uint8 stays uint8: the kernels read it directly
        if stack.dtype != np.uint8:
            stack = stack.astype(np.float64, copy=False)
        cache["imgs", 1] = stack
    for scale in range(2, N_SCALES + 1):
        if ("imgs", scale) not in cache:
            cache["imgs", scale] = filter_valid(cache["imgs", scale - 1], _window_size(scale),
                                                step=2)


def vif_statistics(a: np.ndarray, b: np.ndarray, f: np.ndarray, *,
                   saturate_first_scale: bool = False,
                   octave_rounding: bool = False,
                   cache: dict | None = None) -> list[list[ScaleTerms]]:
    """Local VIF terms of sources ``a`` and ``b`` against ``f`` at the 4 scales.

    Returns ``terms[scale][0 for a, 1 for b]``. Inputs are 2-D arrays on 0..255 of one size,
    all ``uint8`` or else converted to float64. With ``saturate_first_scale`` the first-scale
    products ``A*A``, ``F*F``, ``A*F`` saturate at 255, as MATLAB forms them when the images
    are ``uint8`` (tang2022); the inputs must then hold integers.

    ``octave_rounding``: in flat regions the local variances are pure rounding noise around
    1e-10, the threshold of the vifp rules, so which rule fires depends on the summation order.
    That changes nothing measurable in VIF, but VIFF's per-pixel choice of source follows the
    noise. With this flag every pixel where a (co)variance is below :data:`NEAR_ZERO` is
    recomputed exactly as Octave's ``filter2`` rounds (and the down-sampled images too), which
    reproduces ``VIFF_Public.m`` under Octave to ~1e-14; (co)variances of windows of zeros are
    exactly 0 in both orders and need none (:func:`_zero_windows`).

    ``cache``: a dict kept between calls on the same (a, b, f) holds the down-sampled images
    and the terms, so that another variant (e.g. saturated and not) recomputes only what
    differs: scales 2-4 do not depend on ``saturate_first_scale``.
    """
    cache = {} if cache is None else cache
    _scale_images(a, b, f, cache)
    out: list[list[ScaleTerms]] = []
    for scale in range(1, N_SCALES + 1):
        n = _window_size(scale)
        imgs = cache["imgs", scale]
        sat = scale == 1 and saturate_first_scale
        key = ("octave" if octave_rounding else "terms", scale, sat)
        if key not in cache:
            if octave_rounding:
                cache[key] = _terms_from_maps(_octave_patched_maps(cache, scale, sat))
            else:
                cache[key] = _scale_terms(imgs, n, sat)
        out.append(_split_terms(cache[key]))
    return out


def _octave_patched_maps(cache: dict, scale: int, saturate: bool) -> np.ndarray:
    """Filtered maps (8, H, W) of the images at ``scale`` in which every pixel with a
    (co)variance below :data:`NEAR_ZERO`, other than the exact zeros of :func:`_zero_windows`,
    is recomputed in Octave's rounding order."""
    n = _window_size(scale)
    maps = _filter_products(cache["imgs", scale], n, saturate=saturate)
    if not (maps.shape[-1] and maps.shape[-2]):
        return maps
    near_zero = np.empty(maps.shape[1:], bool)
    kernels = vif_kernels()
    kernels.near_zero_moments(maps, NEAR_ZERO, np.zeros((3,) + maps.shape[1:], bool), near_zero)
    if near_zero.any():  # only then are the zero windows worth finding
        kernels.near_zero_moments(maps, NEAR_ZERO, _zero_windows(cache, scale), near_zero)
    rr, cc = np.nonzero(near_zero)
    if rr.size:
        if ("exact_imgs", 1) not in cache:
            cache["exact_imgs", 1] = cache["imgs", 1].astype(np.float64)
        for s in range(2, scale + 1):  # bring the exactly rounded images to this scale
            if ("exact_imgs", s) not in cache:
                cache["exact_imgs", s] = octave_filter_valid(
                    cache["exact_imgs", s - 1], octave_window_2d(_window_size(s)), step=2)
        exact = cache["exact_imgs", scale]
        first, last = int(rr[0]), int(rr[-1]) + n  # the input rows the windows read
        x = np.empty((last - first, exact.shape[2], N_MAPS))
        kernels.interleaved_products(exact, saturate, first, x)
        maps[:, rr, cc] = _filter_interleaved_at(x, octave_window_2d(n), rr - first, cc,
                                                 _flat_pixels(exact, n, rr, cc)).T
    return maps


def _flat_pixels(imgs: np.ndarray, n: int, rr: np.ndarray, cc: np.ndarray) -> np.ndarray:
    """(P,): whether the n x n windows of all of ``imgs`` (A, B, F) are constant at pixel
    ``(rr[p], cc[p])`` (then so are the windows of their products)."""
    rows = slice(int(rr[0]), int(rr[-1]) + n)
    flat = np.ones(rr.size, bool)
    for x in imgs:
        flat &= constant_windows(x[rows], n)[rr - rows.start, cc]
    return flat


def _log_terms(ta: ScaleTerms, tb: ScaleTerms, sigma_nsq: float) -> np.ndarray:
    """Per-pixel log10(1 + g^2 s1 / (sv + noise)) and log10(1 + s1 / noise) of source A, then
    of source B: a (4, H, W) array (same rounding as the plain numpy expressions)."""
    kernels = vif_kernels()
    logs = np.empty((4,) + ta.g.shape)
    flat = [x.ravel() for x in (ta.g, ta.sv_sq, ta.sigma1_sq, tb.g, tb.sv_sq, tb.sigma1_sq)]
    kernels.vif_log_arguments(*flat, sigma_nsq, logs.reshape(4, -1))
    np.log10(logs, out=logs)
    return logs


def vifp_pair(a: np.ndarray, b: np.ndarray, f: np.ndarray, *,
              saturate_first_scale: bool = False,
              cache: dict | None = None) -> tuple[float, float]:
    """Sheikh-Bovik ``vifp_mscale(A, F)`` and ``vifp_mscale(B, F)`` (noise variance 2).

    Inputs and ``saturate_first_scale`` as for :func:`vif_statistics`, and ``cache`` may be
    shared with it (the down-sampled images are the same; the per-scale sums of scales 2-4 are
    shared by the saturated and plain variants). ``nan`` for a source with no local variance
    anywhere (0 / 0). Equal to the sums of the per-pixel terms of :func:`vif_statistics`, but
    streamed (no full-size maps are formed).

    >>> rng = np.random.default_rng(1)
    >>> a, f = rng.integers(0, 256, (2, 48, 48)).astype(float)
    >>> [round(v, 9) for v in vifp_pair(a, a, a)]
    [1.0, 1.0]
    >>> vif_a, vif_b = vifp_pair(a, a, f)
    >>> vif_a == vif_b < 0.1  # F unrelated to A
    True
    """
    cache = {} if cache is None else cache
    _scale_images(a, b, f, cache)
    sums = np.zeros(4)  # numerator and denominator of A, then of B
    for scale in range(1, N_SCALES + 1):
        sat = scale == 1 and saturate_first_scale
        key = ("vifp_sums", scale, sat)
        if key not in cache:
            cache[key] = _vifp_scale_sums(cache["imgs", scale], _window_size(scale), sat)
        sums += cache[key]
    return tuple(float(n / d) if d > 0 else float("nan")  # type: ignore[return-value]
                 for n, d in (sums[0:2], sums[2:4]))


def viff_from_stats(stats: list[list[ScaleTerms]]) -> float:
    """Han et al. 2013 VIFF (``VIFF_Public.m``) from :func:`vif_statistics`.

    Noise variance 0.005 * 255^2; at each pixel and scale the terms of the source with the
    smaller gain g are used (the second source where the gains are equal); per scale
    (sum(num + C) / sum(den + C)) with C = 1e-7, weighted by [1, 0, 0.15, 1] / 2.15.
    """
    total = 0.0
    for weight, (ta, tb) in zip(VIFF_SCALE_WEIGHTS, stats, strict=True):
        num_a, den_a, num_b, den_b = _log_terms(ta, tb, VIFF_SIGMA_NSQ)
        pick_a = ta.g < tb.g
        num = np.where(pick_a, num_a, num_b)
        den = np.where(pick_a, den_a, den_b)
        if num.size == 0:
            return float("nan")  # MATLAB: 0/0 at an empty scale (image below 41 x 41)
        ratio = float((num + VIFF_C).sum()) / float((den + VIFF_C).sum())
        total += weight * ratio
    return total
