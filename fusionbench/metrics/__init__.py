"""Image fusion metrics under named conventions (profiles).

``score(fused, a, b, profile=...)`` scores one triple; the functional core
(:func:`entropy`, :func:`mutual_information`, :func:`vif`, :func:`standard_deviation`,
:func:`average_gradient`, :func:`spatial_frequency`, :func:`viff` under a named convention;
the formulas :func:`qabf`, :func:`nabf`, :func:`mse`, :func:`psnr`, :func:`correlation_coefficient`,
:func:`scd`, :func:`ssim_matlab`, :func:`ssim_skimage`, :func:`mef_ssim`, :func:`mef_ms_ssim`,
:func:`fmi` on float arrays, with the conventions' quirks as keyword options) scores one metric.
Profiles: ``standard`` (default), ``tang2022`` (CLF-Net's tables), ``tang2023``, ``cddfuse``,
``han_viff`` and ``vifb``; ``CONVENTIONS.md`` lists the quirks each reproduces.

>>> import numpy as np
>>> from fusionbench.metrics import score
>>> x = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1))
>>> score(x, x, x, metrics=["EN", "SF"])
{'EN': 5.0, 'SF': 8.0}
"""

from fusionbench.metrics.edge_transfer import nabf
from fusionbench.metrics.engine import (
    average_gradient,
    entropy,
    get_profile,
    mutual_information,
    score,
    score_many,
    spatial_frequency,
    standard_deviation,
    vif,
    viff,
)
from fusionbench.metrics.feature_mi import fmi
from fusionbench.metrics.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    Profile,
    profile_metrics,
    resolve_metrics,
)
from fusionbench.metrics.similarity import correlation_coefficient, mse, psnr, scd
from fusionbench.metrics.structural import mef_ms_ssim, mef_ssim, ssim_matlab, ssim_skimage
from fusionbench.metrics.vifb_quality import vifb_qabf as qabf

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Profile",
    "average_gradient",
    "correlation_coefficient",
    "fmi",
    "mef_ms_ssim",
    "mef_ssim",
    "mse",
    "nabf",
    "psnr",
    "qabf",
    "resolve_metrics",
    "scd",
    "ssim_matlab",
    "ssim_skimage",
    "entropy",
    "get_profile",
    "mutual_information",
    "profile_metrics",
    "score",
    "score_many",
    "spatial_frequency",
    "standard_deviation",
    "vif",
    "viff",
]
