"""Cross bilateral filter fusion, CBF (B. K. Shreyamsha Kumar, SIViP 2015).

1. Each source is smoothed by a cross (joint) bilateral filter whose range weights come from the
   *other* source: 11x11 window, spatial sigma 1.8 px, range sigma 25/255; mirrored borders.
2. Detail ``D = x - CBF(x)``.
3. Pixel weight = edge strength of the detail in a 5x5 window: the trace of the covariance of the
   window's columns plus the trace of the covariance of its rows (unbiased variances, mirrored
   borders). Both traces reduce to sums of windowed variances, computed with cumulative sums.
4. ``F = (w_a * a + w_b * b) / (w_a + w_b)``; a zero weight is replaced by machine epsilon, so
   where both are zero the sources are averaged.

The output is a convex combination of the sources, so it stays in [0, 1]; fusing an image with
itself returns it up to rounding.

>>> import numpy as np
>>> x = np.random.default_rng(0).random((16, 19))
>>> bool(np.allclose(cbf_fuse(x, x), x))
True
"""

from __future__ import annotations

import numpy as np

from fusionbench.errors import MethodError

from ._common import check_pair


def _valid_sum(x: np.ndarray, k: int, axis: int) -> np.ndarray:
    """Sums of ``k`` consecutive samples along ``axis`` (output shorter by ``k - 1``)."""
    c = np.cumsum(x, axis=axis)
    zero_shape = list(x.shape)
    zero_shape[axis] = 1
    c = np.concatenate([np.zeros(zero_shape), c], axis=axis)
    n = x.shape[axis]
    return np.take(c, np.arange(k, n + 1), axis=axis) - np.take(c, np.arange(0, n - k + 1),
                                                                 axis=axis)


def cross_bilateral(src: np.ndarray, guide: np.ndarray, sigma_s: float, sigma_r: float,
                    ksize: int) -> np.ndarray:
    """Filter ``src`` with spatial Gaussian weights times range weights taken from ``guide``.

    The weight between pixels p and p + d equals the one between p + d and p, so each weight
    map is computed once per pair of opposite offsets (half the exponentials).
    """
    h = ksize // 2
    sp = np.pad(src, h, mode="reflect")
    gp = np.pad(guide, h, mode="reflect")
    rows, cols = src.shape
    num = src.copy()  # the centre offset has weight 1
    den = np.ones_like(src)
    inv_r = -1.0 / (2.0 * sigma_r * sigma_r)
    for dy in range(0, h + 1):
        for dx in range(-h, h + 1):
            if dy == 0 and dx <= 0:
                continue
            spatial = np.exp(-(dy * dy + dx * dx) / (2.0 * sigma_s * sigma_s))
            # pair[q] = weight between padded pixels q and q + d, for every q where both exist
            c0, c1 = max(0, -dx), gp.shape[1] - max(0, dx)
            base = gp[: gp.shape[0] - dy, c0:c1]
            diff = gp[dy:, c0 + dx: c1 + dx] - base
            pair = np.exp(diff * diff * inv_r)
            pair *= spatial
            # offset +d at pixel p: pair[p + h]; offset -d at pixel p: pair[p + h - d]
            w_plus = pair[h: h + rows, h - c0: h - c0 + cols]
            w_minus = pair[h - dy: h - dy + rows, h - dx - c0: h - dx - c0 + cols]
            num += w_plus * sp[h + dy: h + dy + rows, h + dx: h + dx + cols]
            num += w_minus * sp[h - dy: h - dy + rows, h - dx: h - dx + cols]
            den += w_plus
            den += w_minus
    return num / den


def edge_strength(detail: np.ndarray, wsize: int = 5) -> np.ndarray:
    """Sum of eigenvalues (= trace) of the column and row covariance matrices of each window."""
    h = wsize // 2
    p = np.pad(detail, h, mode="reflect")
    out = np.zeros_like(detail)
    for axis in (0, 1):
        s1 = _valid_sum(p, wsize, axis)
        s2 = _valid_sum(p * p, wsize, axis)
        var = np.maximum(s2 - s1 * s1 / wsize, 0.0) / (wsize - 1)
        out += _valid_sum(var, wsize, 1 - axis)
    out[out < 1e-12] = 0.0  # rounding residue of flat windows
    return out


def cbf_fuse(
    a: np.ndarray,
    b: np.ndarray,
    sigma_s: float = 1.8,
    sigma_r: float = 25.0 / 255.0,
    ksize: int = 11,
    cov_wsize: int = 5,
) -> np.ndarray:
    """Fuse two gray images with CBF (defaults from the author's code as run in VIFB)."""
    x, y = check_pair(a, b, "cbf")
    for name, val in (("ksize", ksize), ("cov_wsize", cov_wsize)):
        if int(val) != val or val < 3 or val % 2 == 0:
            raise MethodError(f"cbf: {name} must be an odd integer >= 3, got {val!r}")
    if max(ksize, cov_wsize) // 2 >= min(x.shape):
        raise MethodError(f"cbf: windows of {ksize} and {cov_wsize} px are too large for an "
                          f"image of {x.shape[0]}x{x.shape[1]}")
    if not (sigma_s > 0 and sigma_r > 0):
        raise MethodError(f"cbf: sigma_s and sigma_r must be > 0, got {sigma_s!r}, {sigma_r!r}")
    dx = x - cross_bilateral(x, y, sigma_s, sigma_r, int(ksize))
    dy = y - cross_bilateral(y, x, sigma_s, sigma_r, int(ksize))
    tiny = np.finfo(np.float64).eps
    wx = edge_strength(dx, int(cov_wsize))
    wy = edge_strength(dy, int(cov_wsize))
    wx[wx == 0] = tiny
    wy[wy == 0] = tiny
    return (wx * x + wy * y) / (wx + wy)
