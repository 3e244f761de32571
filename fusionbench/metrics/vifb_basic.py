"""VIFB's statistics and reference-based metrics on one 2-D channel (EN, MI, SD, SF, AG, CE, EI,
PSNR, RMSE).

Every function takes ``(F, A, B)``: 2-D float64 arrays on 0..255 (or
:class:`~fusionbench.metrics.vifb_channel.Channel` objects), ``A`` the first source (infrared)
and ``B`` the second (visible); metrics of F alone ignore ``A`` and ``B`` (they may be None).
They re-implement the formulas of xingchenzhang/VIFB@22b2ea9 ``metrics/metrics*.m`` (see
``CONVENTIONS.md``, section ``vifb``). Degenerate inputs give NaN with a warning.

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

from fusionbench.errors import MetricWarning
from fusionbench.metrics.vifb_channel import Channel, as_channel

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

Image = np.ndarray | Channel


def nan_with_warning(metric: str, why: str) -> float:
    """Warn that ``metric`` is undefined for this input and return NaN.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     nan_with_warning("AG", "image smaller than 2x2")
    nan
    """
    warnings.warn(MetricWarning(metric, why, nan=True), stacklevel=3)
    return math.nan


def _entropy_of_counts(counts: np.ndarray, log) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-np.sum(p * log(p)))


def vifb_en(f: Image, a: Image | None = None, b: Image | None = None) -> float:
    """Entropy (bits) of the 256-bin histogram of ``floor(F)``.

    >>> import numpy as np
    >>> vifb_en(np.zeros((4, 4)))
    0.0
    """
    return _entropy_of_counts(as_channel(f).hist, np.log2) + 0.0


def _mi_pair(x: Channel, y: Channel) -> float:
    joint = np.bincount((x.mi_levels * 256 + y.mi_levels).ravel(), minlength=256 * 256)
    h_x = _entropy_of_counts(x.mi_hist, np.log)
    h_y = _entropy_of_counts(y.mi_hist, np.log)
    h_xy = _entropy_of_counts(joint.astype(np.float64), np.log)
    return h_x + h_y - h_xy


def vifb_mi(f: Image, a: Image, b: Image) -> float:
    """MI(B,F) + MI(A,F) in nats, each image min-max normalised to 0..255 levels first.

    >>> import numpy as np
    >>> x = np.array([[0.0, 255.0], [255.0, 0.0]])
    >>> bool(abs(vifb_mi(x, x, x) - 2 * np.log(2)) < 1e-12)
    True
    """
    f = as_channel(f)
    return _mi_pair(as_channel(b), f) + _mi_pair(as_channel(a), f)


def vifb_sd(f: Image, a: Image | None = None, b: Image | None = None) -> float:
    """VIFB "Variance": the population standard deviation of F (0..255).

    >>> import numpy as np
    >>> vifb_sd(np.array([[0.0, 2.0]]))
    1.0
    """
    x = as_channel(f).x
    return float(np.sqrt(np.mean((x - x.mean()) ** 2)))


def vifb_sf(f: Image, a: Image | None = None, b: Image | None = None) -> float:
    """Spatial frequency sqrt(RF^2 + CF^2), both sums of squared differences divided by M N.

    >>> import numpy as np
    >>> vifb_sf(np.array([[0.0, 2.0], [0.0, 2.0]]))
    1.4142135623730951
    """
    x = as_channel(f).x
    m, n = x.shape
    rf = float(np.sum(np.diff(x, axis=1) ** 2)) / (m * n)
    cf = float(np.sum(np.diff(x, axis=0) ** 2)) / (m * n)
    return math.sqrt(rf + cf)


def vifb_ag(f: Image, a: Image | None = None, b: Image | None = None) -> float:
    """Average gradient: MATLAB ``gradient``, sqrt((gx^2+gy^2)/2) summed over (M-1)(N-1).

    >>> import numpy as np
    >>> vifb_ag(np.array([[0.0, 2.0], [0.0, 2.0]]))
    5.656854249492381
    """
    x = as_channel(f).x
    m, n = x.shape
    if m < 2 or n < 2:
        return nan_with_warning("AG", f"image of size {m}x{n} is smaller than 2x2")
    gy, gx = np.gradient(x)
    return float(np.sum(np.sqrt((gx**2 + gy**2) / 2.0))) / ((m - 1) * (n - 1))


def _ce_pair(src: Channel, f: Channel) -> float:
    p_s = src.hist / src.hist.sum()
    p_f = f.hist / f.hist.sum()
    keep = (p_s > 0) & (p_f > 0)
    return float(np.sum(p_s[keep] * np.log2(p_s[keep] / p_f[keep])))


def vifb_ce(f: Image, a: Image, b: Image) -> float:
    """Cross entropy: mean of sum P_src log2(P_src / P_F) over B and A (bins with a zero skipped).

    >>> import numpy as np
    >>> x = np.array([[0.0, 255.0]])
    >>> vifb_ce(x, x, x)
    0.0
    """
    f = as_channel(f)
    return (_ce_pair(as_channel(b), f) + _ce_pair(as_channel(a), f)) / 2.0


_SOBEL = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])


def vifb_ei(f: Image, a: Image | None = None, b: Image | None = None) -> float:
    """Edge intensity: mean Sobel gradient magnitude of F with replicated borders.

    >>> import numpy as np
    >>> vifb_ei(np.full((3, 3), 7.0))
    0.0
    """
    x = as_channel(f).x
    gx = ndimage.correlate(x, _SOBEL, mode="nearest")
    gy = ndimage.correlate(x, _SOBEL.T, mode="nearest")
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))


def _rmse_pair(src: Channel, f: Channel) -> float:
    m, n = f.shape
    return math.sqrt(float(np.sum((src.x - f.x) ** 2))) / (m * n)


def vifb_rmse(f: Image, a: Image, b: Image) -> float:
    """VIFB "RMSE": mean over B and A of sqrt(sum of squared differences) / (M N).

    Not a conventional RMSE (the square root is taken before dividing by M N).

    >>> import numpy as np
    >>> vifb_rmse(np.zeros((2, 2)), np.full((2, 2), 2.0), np.zeros((2, 2)))
    0.5
    """
    f = as_channel(f)
    return (_rmse_pair(as_channel(b), f) + _rmse_pair(as_channel(a), f)) / 2.0


def vifb_psnr(f: Image, a: Image, b: Image) -> float:
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
