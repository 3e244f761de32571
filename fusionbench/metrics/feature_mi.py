"""Feature mutual information (FMI; Haghighat et al. 2011, the fast variant of 2014) as Tang's
``analysis_fmi.m`` computes it: 3 x 3 sliding windows over feature images of A, B and F, each
window's normalised MI by the simplified Nelsen joint pdf, averaged.

Features (``feature=``): ``"edge"`` (the original's default, so Tang's ``FMI_pixel`` is this:
MATLAB ``edge(I)``, Sobel with the automatic threshold and thinning), ``"dct"`` (``dct2``,
orthonormal DCT-II of the whole image), ``"wavelet"`` (one level of ``dwt2(I, 'dmey')``, the
four sub-bands tiled [cA cH; cV cD] and re-ranged to [0, 1]) and ``"none"`` (raw pixels).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a = rng.integers(0, 256, (12, 12)).astype(float)
>>> fmi(a, a, a, feature="none")
1.0
"""

from __future__ import annotations

import numpy as np
import pywt
from scipy import fft as sfft
from scipy import ndimage

from fusionbench.metrics._compiled import fmi_kernels, numba_works
from fusionbench.metrics.matlab_ops import SOBEL_Y

FEATURES = ("edge", "dct", "wavelet", "none")


def matlab_sobel_edges(x: np.ndarray) -> np.ndarray:
    """MATLAB ``edge(x)`` (method ``'sobel'``, automatic threshold, thinning) as float 0/1.

    Gradients: ``imfilter`` with ``fspecial('sobel')/8`` and its transpose, replicated
    borders; b = bx^2 + by^2; cutoff = 4 mean(b); a pixel is an edge where b > cutoff and it is
    a horizontal maximum of b (``b(r,c-1) <= b(r,c) > b(r,c+1)``) with |bx| >= |by| - 100 eps,
    or a vertical one with |by| >= |bx| - 100 eps (outside the image a comparison holds).

    >>> x = np.zeros((4, 12)); x[:, 6:] = 1.0  # a step: b = 0.25 in columns 5 and 6
    >>> np.nonzero(matlab_sobel_edges(x)[0])[0].tolist()  # thinned to the second one
    [6]

    Compiled (:func:`fusionbench.metrics._fmi_kernels.sobel_gradients`, ``thin_edges``: the
    same numbers) when numba works.
    """
    if numba_works():
        x = np.ascontiguousarray(x, dtype=np.float64)
        bx, by, b, out = (np.empty_like(x) for _ in range(4))
        kernels = fmi_kernels()
        kernels.sobel_gradients(x, bx, by, b)
        kernels.thin_edges(bx, by, b, 4.0 * float(np.sum(b)) / b.size, out)
        return out
    return _sobel_edges_numpy(x)


def _sobel_edges_numpy(x: np.ndarray) -> np.ndarray:
    """:func:`matlab_sobel_edges` in numpy and scipy (the compiled kernels' twin)."""
    op = SOBEL_Y / 8
    bx = ndimage.correlate(x, op.T, mode="nearest")
    by = ndimage.correlate(x, op, mode="nearest")
    b = bx * bx + by * by
    cutoff = 4.0 * float(np.sum(b)) / b.size
    bx, by = np.abs(bx), np.abs(by)
    tol = 100 * np.finfo(float).eps
    big = np.full((b.shape[0], 1), -np.inf)
    left = np.hstack([big, b[:, :-1]])
    right = np.hstack([b[:, 1:], big])
    big_row = np.full((1, b.shape[1]), -np.inf)
    up = np.vstack([big_row, b[:-1]])
    down = np.vstack([b[1:], big_row])
    horizontal = (bx >= by - tol) & (left <= b) & (b > right)
    vertical = (by >= bx - tol) & (up <= b) & (b > down)
    return ((b > cutoff) & (horizontal | vertical)).astype(float)


def _dwt_axis0(x: np.ndarray, wavelet: pywt.Wavelet) -> tuple[np.ndarray, np.ndarray]:
    """``pywt.dwt(x, wavelet, mode="symmetric", axis=0)``: compiled (the same numbers) when
    numba works and the columns are at least as long as the filters, else PyWavelets."""
    taps = wavelet.dec_len
    if not numba_works() or x.shape[0] < taps:
        return pywt.dwt(x, wavelet, mode="symmetric", axis=0)
    rows = (x.shape[0] + taps - 1) // 2
    lo, hi = np.empty((rows, x.shape[1])), np.empty((rows, x.shape[1]))
    fmi_kernels().dwt_columns(np.ascontiguousarray(x, dtype=np.float64),
                              np.asarray(wavelet.dec_lo), np.asarray(wavelet.dec_hi), lo, hi)
    return lo, hi


def wavelet_subbands(x: np.ndarray, name: str = "dmey") -> tuple[np.ndarray, ...]:
    """``pywt.dwt2(x, name, mode="symmetric")`` as (cA, cH, cV, cD), bit for bit: along the
    columns, then along the rows of each half (as ``pywt.dwtn``).

    >>> x = np.arange(80.0 * 70).reshape(80, 70) % 13
    >>> c_a, (c_h, c_v, c_d) = pywt.dwt2(x, "dmey", mode="symmetric")
    >>> all(np.array_equal(u, v) for u, v in zip(wavelet_subbands(x), (c_a, c_h, c_v, c_d)))
    True
    """
    wavelet = pywt.Wavelet(name)
    low, high = _dwt_axis0(np.asarray(x, dtype=np.float64), wavelet)
    c_a, c_v = (t.T for t in _dwt_axis0(low.T, wavelet))
    c_h, c_d = (t.T for t in _dwt_axis0(high.T, wavelet))
    return c_a, c_h, c_v, c_d


def _rerange(x: np.ndarray) -> np.ndarray:
    lo, hi = float(x.min()), float(x.max())
    return np.ones_like(x) if hi == lo else (x - lo) / (hi - lo)


def feature_image(x: np.ndarray, feature: str) -> np.ndarray:
    """The feature image FMI compares (see the module docstring).

    >>> round(float(feature_image(np.ones((4, 4)), "dct")[0, 0]), 12)
    4.0
    """
    if feature == "edge":
        return matlab_sobel_edges(x)
    if feature == "dct":
        return sfft.dctn(x, type=2, norm="ortho")
    if feature == "wavelet":
        c_a, c_h, c_v, c_d = wavelet_subbands(x, "dmey")
        return _rerange(np.block([[c_a, c_h], [c_v, c_d]]))
    if feature == "none":
        return np.asarray(x, dtype=float)
    raise ValueError(f"unknown FMI feature {feature!r} (known: {', '.join(FEATURES)})")


def fmi(f: np.ndarray, a: np.ndarray, b: np.ndarray, *, feature: str = "edge") -> float:
    """``analysis_fmi(A, B, F, feature)`` with its 3 x 3 window: the mean over the windows of
    (FMI(A, F) + FMI(B, F)) / 2; 0..1, higher is better.

    >>> x = np.zeros((8, 8)); x[:, 4:] = 200.0
    >>> fmi(x, x, x)
    1.0
    """
    feats = [np.ascontiguousarray(feature_image(np.asarray(img, float), feature))
             for img in (a, b, f)]
    m, n = feats[0].shape
    total = fmi_kernels().fmi_map_sum(*feats)
    return float(total / ((m - 2) * (n - 2)))
