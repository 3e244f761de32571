"""VIFB's statistics and reference-based metrics on one 2-D channel (EN, MI, SD, SF, AG, CE, EI,
PSNR, RMSE).

Every function takes ``(F, A, B)``: 2-D float64 arrays on 0..255, ``A`` the first source
(infrared) and ``B`` the second (visible). They re-implement the formulas of
xingchenzhang/VIFB@22b2ea9 ``metrics/metrics*.m`` (see ``CONVENTIONS.md``, section ``vifb``).
Degenerate inputs (too small for a metric) give NaN with a warning instead of an exception.

>>> import numpy as np
>>> f = np.array([[0.0, 255.0], [255.0, 0.0]])
>>> round(vifb_en(f, f, f), 6), round(vifb_sd(f, f, f), 6)
(1.0, 127.5)
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy import ndimage

__all__ = [
    "vifb_ag",
    "vifb_ce",
    "vifb_ei",
    "vifb_en",
    "vifb_mi",
    "vifb_psnr",
    "vifb_rmse",
    "vifb_sd",
    "vifb_sf",
    "nan_with_warning",
]


def nan_with_warning(metric: str, why: str) -> float:
    """Warn that ``metric`` is undefined for this input and return NaN.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     nan_with_warning("AG", "image smaller than 2x2")
    nan
    """
    warnings.warn(f"vifb {metric}: {why}; returning NaN", RuntimeWarning, stacklevel=3)
    return math.nan


def _levels(x: np.ndarray) -> np.ndarray:
    """Integer gray levels 0..255 of a 0..255 image (floor, clipped), as int64 bin indices."""
    return np.clip(np.floor(x), 0, 255).astype(np.int64)


def _hist(levels: np.ndarray) -> np.ndarray:
    return np.bincount(levels.ravel(), minlength=256).astype(np.float64)


def _entropy_of_counts(counts: np.ndarray, log) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * log(p)))


def vifb_en(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Entropy (bits) of the 256-bin histogram of ``floor(F)``.

    >>> import numpy as np
    >>> vifb_en(np.zeros((4, 4)), None, None)
    0.0
    """
    return _entropy_of_counts(_hist(_levels(f)), np.log2) + 0.0


def _minmax_levels(x: np.ndarray) -> np.ndarray:
    """Min-max normalise to 0..255 and round half away from zero (MATLAB ``int16(x*255)``)."""
    lo, hi = float(x.min()), float(x.max())
    if hi == lo:
        return np.zeros(x.shape, np.int64)
    return np.floor((x - lo) / (hi - lo) * 255.0 + 0.5).astype(np.int64)


def _mi_pair(x: np.ndarray, y: np.ndarray) -> float:
    lx, ly = _minmax_levels(x), _minmax_levels(y)
    joint = np.bincount((lx * 256 + ly).ravel(), minlength=256 * 256).astype(np.float64)
    h_x = _entropy_of_counts(_hist(lx), np.log)
    h_y = _entropy_of_counts(_hist(ly), np.log)
    h_xy = _entropy_of_counts(joint, np.log)
    return h_x + h_y - h_xy


def vifb_mi(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """MI(B,F) + MI(A,F) in nats, each image min-max normalised to 0..255 levels first.

    >>> import numpy as np
    >>> x = np.array([[0.0, 255.0], [255.0, 0.0]])
    >>> bool(abs(vifb_mi(x, x, x) - 2 * np.log(2)) < 1e-12)
    True
    """
    return _mi_pair(b, f) + _mi_pair(a, f)


def vifb_sd(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """VIFB "Variance": the population standard deviation of F (0..255).

    >>> import numpy as np
    >>> vifb_sd(np.array([[0.0, 2.0]]), None, None)
    1.0
    """
    return float(np.sqrt(np.mean((f - f.mean()) ** 2)))


def vifb_sf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Spatial frequency sqrt(RF^2 + CF^2), both sums of squared differences divided by M N.

    >>> import numpy as np
    >>> vifb_sf(np.array([[0.0, 2.0], [0.0, 2.0]]), None, None)
    1.4142135623730951
    """
    m, n = f.shape
    rf = float(np.sum(np.diff(f, axis=1) ** 2)) / (m * n)
    cf = float(np.sum(np.diff(f, axis=0) ** 2)) / (m * n)
    return math.sqrt(rf + cf)


def vifb_ag(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Average gradient: MATLAB ``gradient``, sqrt((gx^2+gy^2)/2) summed over (M-1)(N-1).

    >>> import numpy as np
    >>> vifb_ag(np.array([[0.0, 2.0], [0.0, 2.0]]), None, None)
    5.656854249492381
    """
    m, n = f.shape
    if m < 2 or n < 2:
        return nan_with_warning("AG", f"image of size {m}x{n} is smaller than 2x2")
    gy, gx = np.gradient(f)
    return float(np.sum(np.sqrt((gx**2 + gy**2) / 2.0))) / ((m - 1) * (n - 1))


def _ce_pair(src: np.ndarray, f: np.ndarray) -> float:
    p_s = _hist(_levels(src))
    p_f = _hist(_levels(f))
    p_s /= p_s.sum()
    p_f /= p_f.sum()
    keep = (p_s > 0) & (p_f > 0)
    return float(np.sum(p_s[keep] * np.log2(p_s[keep] / p_f[keep])))


def vifb_ce(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Cross entropy: mean of sum P_src log2(P_src / P_F) over B and A (bins with a zero skipped).

    >>> import numpy as np
    >>> x = np.array([[0.0, 255.0]])
    >>> vifb_ce(x, x, x)
    0.0
    """
    return (_ce_pair(b, f) + _ce_pair(a, f)) / 2.0


_SOBEL = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])


def vifb_ei(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Edge intensity: mean Sobel gradient magnitude of F with replicated borders.

    >>> import numpy as np
    >>> vifb_ei(np.full((3, 3), 7.0), None, None)
    0.0
    """
    gx = ndimage.correlate(f, _SOBEL, mode="nearest")
    gy = ndimage.correlate(f, _SOBEL.T, mode="nearest")
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))


def _rmse_pair(src: np.ndarray, f: np.ndarray) -> float:
    m, n = f.shape
    return math.sqrt(float(np.sum((src - f) ** 2))) / (m * n)


def vifb_rmse(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """VIFB "RMSE": mean over B and A of sqrt(sum of squared differences) / (M N).

    Not a conventional RMSE (the square root is taken before dividing by M N).

    >>> import numpy as np
    >>> vifb_rmse(np.zeros((2, 2)), np.full((2, 2), 2.0), np.zeros((2, 2)))
    0.5
    """
    return (_rmse_pair(b, f) + _rmse_pair(a, f)) / 2.0


def vifb_psnr(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """VIFB "PSNR": 20 log10(255 / sqrt(q)), q the VIFB "RMSE" value (:func:`vifb_rmse`).

    This is what VIFB computes (it reuses its unconventional RMSE quantity), so the values
    (about 55..65 dB on VIFB) are not comparable with a conventional PSNR.

    >>> import numpy as np
    >>> round(vifb_psnr(np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1))), 6)
    48.130804
    """
    q = vifb_rmse(f, a, b)
    if q == 0.0:
        return math.inf
    return 20.0 * math.log10(255.0 / math.sqrt(q))
