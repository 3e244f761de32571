"""Image fusion metrics under named conventions (profiles), computed by one engine.

Layers, bottom up:

* the functional core: one public function per formula on float arrays, each convention's
  quirks as keyword options (:func:`qabf`, :func:`nabf`, :func:`fmi`, :func:`mse`,
  :func:`psnr`, :func:`rmse`, :func:`correlation_coefficient`, :func:`scd`, :func:`ssim`,
  :func:`ssim_matlab`, :func:`ssim_skimage`, :func:`mef_ssim`, :func:`mef_ms_ssim`,
  :func:`cross_entropy`, :func:`edge_intensity`, :func:`qcb`, :func:`qcv`; EN, MI, SD, SF, AG
  and VIF in :mod:`.histogram`, :mod:`.spatial`, :mod:`.visual_fidelity`);
* the profiles (:mod:`.profiles`, one file per convention: ``standard`` (default),
  ``tang2022`` (CLF-Net's tables), ``tang2023``, ``cddfuse``, ``han_viff``, ``vifb``), which
  say which formula, options and images each metric of the convention uses;
* the engine (:func:`score`, :func:`score_many`, :func:`score_batch`): input checks, NaN with
  a reason, colour rules, shared intermediates; and per-metric shortcuts under a named convention
  (:func:`entropy`, :func:`mutual_information`, :func:`vif`, :func:`standard_deviation`,
  :func:`average_gradient`, :func:`spatial_frequency`, :func:`viff`).

``CONVENTIONS.md`` lists the quirks each profile reproduces; :mod:`.catalog` each metric's
direction and range.

>>> import numpy as np
>>> from fusionbench.metrics import score
>>> x = np.tile(np.arange(0, 256, 8, dtype=np.uint8), (32, 1))
>>> score(x, x, x, metrics=["EN", "SF"])
{'EN': 5.0, 'SF': 8.0}
"""

from fusionbench.metrics.edge_transfer import nabf, qabf
from fusionbench.metrics.engine import (
    average_gradient,
    entropy,
    mutual_information,
    score,
    score_batch,
    score_many,
    spatial_frequency,
    standard_deviation,
    vif,
    viff,
)
from fusionbench.metrics.feature_mi import fmi
from fusionbench.metrics.histogram import cross_entropy
from fusionbench.metrics.perceptual import qcb, qcv
from fusionbench.metrics.profiles import (
    DEFAULT_PROFILE,
    PROFILES,
    Profile,
    get_profile,
    profile_metrics,
    resolve_metrics,
)
from fusionbench.metrics.similarity import correlation_coefficient, mse, psnr, rmse, scd
from fusionbench.metrics.spatial import edge_intensity
from fusionbench.metrics.structural import mef_ms_ssim, mef_ssim, ssim, ssim_matlab, ssim_skimage

__all__ = [
    "DEFAULT_PROFILE",
    "PROFILES",
    "Profile",
    "average_gradient",
    "correlation_coefficient",
    "cross_entropy",
    "edge_intensity",
    "entropy",
    "fmi",
    "get_profile",
    "mef_ms_ssim",
    "mef_ssim",
    "mse",
    "mutual_information",
    "nabf",
    "profile_metrics",
    "psnr",
    "qabf",
    "qcb",
    "qcv",
    "resolve_metrics",
    "rmse",
    "scd",
    "score",
    "score_batch",
    "score_many",
    "spatial_frequency",
    "ssim",
    "ssim_matlab",
    "ssim_skimage",
    "standard_deviation",
    "vif",
    "viff",
]
