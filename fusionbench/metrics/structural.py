"""Structural similarity in the three forms the conventions use.

* :func:`ssim_matlab`: MATLAB's built-in ``ssim`` (11 x 11 Gaussian, sigma 1.5, replicated
  borders, mean of the map); ``dynamic_range`` as MATLAB's default for the class (1 for double).
* :func:`ssim_skimage`: scikit-image 0.19 ``structural_similarity`` with its defaults as
  CDDFuse's evaluator calls it on float32 images (7 x 7 uniform window, sample covariance,
  ``data_range`` 2 = the float range [-1, 1], float32 arithmetic, borders cropped).
* :func:`mef_ssim` / :func:`mef_ms_ssim`: Ma, Zeng and Wang's multi-exposure-fusion SSIM
  (``mef_ssim.m``, ``analysis_ms_ssim.m``), Tang's SSIM (2022) and MS-SSIM.

The MEF-SSIM loops of the original are computed from filtered moments (the quality map:
:mod:`~fusionbench.metrics._ssim_numpy`, compiled in :mod:`~fusionbench.metrics._ssim_kernels`
with the same bits; ``tests/test_metrics_formulas.py`` checks it against a literal
transcription of the loops).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = rng.integers(0, 256, (40, 40)).astype(float)
>>> round(ssim_matlab(x, x, dynamic_range=255.0), 12), round(mef_ssim(np.stack([x, x]), x), 9)
(1.0, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from fusionbench.metrics._compiled import filter_kernels, ssim_kernels


def gaussian_window_1d(size: int, sigma: float) -> np.ndarray:
    """The 1-D factor of MATLAB ``fspecial('gaussian', size, sigma)`` (normalised).

    >>> round(float(gaussian_window_1d(11, 1.5).sum()), 15)
    1.0
    """
    x = np.arange(size, dtype=float) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


def _filter(x: np.ndarray, w: np.ndarray, mode: str) -> np.ndarray:
    """Separable correlation with the symmetric ``w`` along axis 0, then axis 1, rounded as
    ``scipy.ndimage.correlate1d``; ``mode='valid'`` computes only the uncropped outputs
    (compiled: :mod:`~fusionbench.metrics._filter_kernels`); an image smaller than ``w``
    has no such output: an empty array, as MATLAB's ``filter2(..., 'valid')`` returns.

    >>> _filter(np.ones((5, 30)), gaussian_window_1d(11, 1.5), "valid").shape
    (0, 20)
    """
    if mode == "valid":
        r = len(w) // 2
        out = np.empty((max(x.shape[0] - 2 * r, 0), max(x.shape[1] - 2 * r, 0)))
        if out.size:
            filter_kernels().correlate_valid(np.ascontiguousarray(x, dtype=np.float64), w, out)
        return out
    y = ndimage.correlate1d(x, w, axis=0, mode=mode)
    return ndimage.correlate1d(y, w, axis=1, mode=mode)


def ssim_matlab(x: np.ndarray, y: np.ndarray, *, dynamic_range: float = 1.0,
                border: str = "nearest") -> float:
    """MATLAB ``ssim(x, y)``: ((2 mx my + C1)(2 sxy + C2)) / ((mx^2 + my^2 + C1)(sx + sy + C2))
    with C1 = (0.01 L)^2, C2 = (0.03 L)^2, L = ``dynamic_range``, Gaussian-weighted moments
    (11 x 11, sigma 1.5, replicated borders), averaged over every pixel. ``border="valid"``:
    only the windows inside the image (Wang's ``ssim_index``, as VIFB calls it with L = 255).

    >>> x = np.arange(144.0).reshape(12, 12)
    >>> ssim_matlab(x, x)
    1.0
    >>> round(ssim_matlab(x, x[::-1], dynamic_range=255.0, border="valid"), 6)  # rows reversed
    -0.810797
    """
    w = gaussian_window_1d(11, 1.5)
    mx, my = _filter(x, w, border), _filter(y, w, border)
    mxy = mx * my
    mx2, my2 = mx * mx, my * my
    sx = _filter(x * x, w, border) - mx2
    sy = _filter(y * y, w, border) - my2
    sxy = _filter(x * y, w, border) - mxy
    c1, c2 = (0.01 * dynamic_range) ** 2, (0.03 * dynamic_range) ** 2
    ssim_map = ((2 * mxy + c1) * (2 * sxy + c2)) / ((mx2 + my2 + c1) * (sx + sy + c2))
    return float(np.mean(ssim_map))


def ssim_skimage(x: np.ndarray, y: np.ndarray) -> float:
    """scikit-image 0.19 ``structural_similarity(x, y)`` on float32 images with its defaults
    (see the module docstring); computed in float32 as it is (the flat regions' values are
    float32 rounding noise over the tiny C2 = 0.0036, so float64 arithmetic would differ by
    ~1e-4).

    >>> x = np.arange(144.0).reshape(12, 12)
    >>> round(ssim_skimage(x, x), 6)
    1.0
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    size, pad = 7, 3
    cov_norm = np.float32(size * size / (size * size - 1))
    ux = ndimage.uniform_filter(x, size)
    uy = ndimage.uniform_filter(y, size)
    uxx = ndimage.uniform_filter(x * x, size)
    uyy = ndimage.uniform_filter(y * y, size)
    uxy = ndimage.uniform_filter(x * y, size)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    c1, c2 = np.float32((0.01 * 2.0) ** 2), np.float32((0.03 * 2.0) ** 2)
    two = np.float32(2.0)
    s = ((two * ux * uy + c1) * (two * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    return float(s[pad:-pad, pad:-pad].mean(dtype=np.float64))


def ssim(f: np.ndarray, a: np.ndarray, b: np.ndarray, *, form: str = "matlab",
         combine: str = "sum", dynamic_range: float = 1.0, border: str = "nearest") -> float:
    """SSIM of F against both sources: ``combine="sum"`` ssim(F, A) + ssim(F, B) (VIFB,
    CDDFuse; up to 2) or ``"mean"`` 0.5 ssim(F, A) + 0.5 ssim(F, B) (Tang 2023); ``form``
    :func:`ssim_matlab` (with ``dynamic_range`` and ``border``) or ``"skimage"``
    (:func:`ssim_skimage`).

    >>> x = np.arange(144.0).reshape(12, 12)
    >>> ssim(x, x, x), ssim(x, x, x, combine="mean"), round(ssim(x, x, x, form="skimage"), 6)
    (2.0, 1.0, 2.0)
    """
    if form == "skimage":
        s_a, s_b = ssim_skimage(f, a), ssim_skimage(f, b)
    else:
        s_a = ssim_matlab(f, a, dynamic_range=dynamic_range, border=border)
        s_b = ssim_matlab(f, b, dynamic_range=dynamic_range, border=border)
    return 0.5 * s_a + 0.5 * s_b if combine == "mean" else s_a + s_b


#: MEF-SSIM constants of mef_ssim.m / analysis_ms_ssim.m.
MEF_K = 0.03
MEF_WINDOW = 11
MEF_SCALE_WEIGHTS = np.array([0.0448, 0.2856, 0.3001]) / np.sum([0.0448, 0.2856, 0.3001])
#: The smallest side :func:`mef_ms_ssim` is defined for: its coarsest scale (1/4) must hold
#: one window (``analysis_ms_ssim.m`` returns -Inf below it).
MEF_MS_MIN_SIDE = MEF_WINDOW * 2 ** (len(MEF_SCALE_WEIGHTS) - 1)


def mef_ssim(seq: np.ndarray | Sequence[np.ndarray], f: np.ndarray) -> float:
    """``mef_ssim(imgSeq, fI)``: MEF-SSIM of F against the sources ``seq`` (a (k, H, W) stack
    or k images) on 0..255 (K = 0.03, 11 x 11 Gaussian window sigma 1.5, 11 x 11 box window
    for the patch statistics); the mean of the quality map over the 'valid' pixels. NaN
    (MATLAB's mean of the empty map) when a side is under 11, where no window fits.

    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.integers(0, 256, (2, 24, 24)).astype(float)
    >>> 0.0 < mef_ssim(np.stack([a, b]), (a + b) / 2) < 1.0
    True
    >>> mef_ssim(np.stack([a[:10], b[:10]]), a[:10])
    nan
    """
    if min(np.shape(f)) < MEF_WINDOW:
        return math.nan
    q = ssim_kernels().mef_quality_map([np.asarray(s, float) for s in seq],
                                       np.asarray(f, float), window=MEF_WINDOW, k_const=MEF_K)
    return float(np.mean(q))


def _downsample(x: np.ndarray) -> np.ndarray:
    """``imfilter(x, ones(2)/4, 'symmetric', 'same')`` then every other row and column (only
    the kept outputs are computed; an odd side's last one reads the replicated edge):
    ``(((x[2i, 2j] + x[2i+1, 2j]) + x[2i, 2j+1]) + x[2i+1, 2j+1]) / 4`` (compiled in
    :func:`~fusionbench.metrics._ssim_kernels.downsample_2x2`, same bits).

    >>> _downsample(np.arange(15.0).reshape(3, 5)).tolist()
    [[3.0, 5.0, 6.5], [10.5, 12.5, 14.0]]
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(((x.shape[0] + 1) // 2, (x.shape[1] + 1) // 2))
    ssim_kernels().downsample_2x2(x, out)
    return out


def mef_ms_ssim(seq: np.ndarray | Sequence[np.ndarray], f: np.ndarray, *,
                first_scale: float | None = None) -> float:
    """``analysis_ms_ssim(imgSeq, fI)``: :func:`mef_ssim` at 3 scales (2 x 2 mean and
    down-sampling between them), combined as prod(Q_l ^ w_l) with w = [0.0448 0.2856 0.3001]
    normalised. NaN (the original returns -Inf) when min(H, W) / 4 < 11.
    ``first_scale``: an already computed scale-1 value (= :func:`mef_ssim` of the inputs).

    >>> rng = np.random.default_rng(2)
    >>> a = rng.integers(0, 256, (48, 48)).astype(float)
    >>> round(mef_ms_ssim(np.stack([a, a]), a), 9)
    1.0
    """
    seq = [np.asarray(s, float) for s in seq]
    f = np.asarray(f, float)
    levels = len(MEF_SCALE_WEIGHTS)
    if min(f.shape) < MEF_MS_MIN_SIDE:
        return math.nan
    q = []
    for level in range(levels):
        if level == 0 and first_scale is not None:
            q.append(first_scale)
        else:
            q.append(mef_ssim(seq, f))
        if level < levels - 1:
            seq = [_downsample(s) for s in seq]
            f = _downsample(f)
    return float(np.prod(np.array(q) ** MEF_SCALE_WEIGHTS))
