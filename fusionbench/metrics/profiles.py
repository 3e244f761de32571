"""Metric profiles: one named convention per set of reference code, each metric implemented
once per profile from the shared kernels in :mod:`histogram`, :mod:`spatial` and :mod:`vif`.

A profile's metric function takes a :class:`Context` (the prepared images plus a cache of
gray images, histograms and VIF statistics shared by all metrics of one call) and returns a
float. See ``CONVENTIONS.md`` beside this file for the quirks each profile reproduces.

>>> PROFILES["tang2022"].default_metrics
('EN', 'MI', 'VIF', 'SD', 'AG', 'SF')
>>> profile_metrics("han_viff")
('VIFF',)
"""

from __future__ import annotations

import difflib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fusionbench.errors import MetricError
from fusionbench.metrics import edge_transfer as E
from fusionbench.metrics import feature_mi as FM
from fusionbench.metrics import histogram as H
from fusionbench.metrics import similarity as R
from fusionbench.metrics import spatial as S
from fusionbench.metrics import structural as ST
from fusionbench.metrics import visual_fidelity as V
from fusionbench.metrics._inputs import PreparedImage
from fusionbench.metrics.catalog import PAPER_METRICS

#: VIFB metrics the ``standard`` profile takes from ``fusionbench.metrics.vifb`` (2-D gray).
VIFB_EXTRAS: tuple[str, ...] = ("CE", "EI", "PSNR", "RMSE", "SSIM", "Qabf", "Qcb", "Qcv")
#: The 13 metrics of the ``vifb`` convention (delegated to ``fusionbench.metrics.vifb``).
VIFB_ALL: tuple[str, ...] = ("EN", "MI", "SD", "SF", "AG", "CE", "EI", "PSNR", "RMSE", "SSIM",
                             "Qabf", "Qcb", "Qcv")
#: Metrics that read only the fused image (the others read both sources too).
FUSED_ONLY: frozenset[str] = frozenset({"EN", "SD", "SF", "AG", "EI"})
#: Metrics built on the multi-scale VIF statistics (need at least 17 x 17 pixels).
VIF_FAMILY: frozenset[str] = frozenset({"VIF", "VIFF"})


class Context:
    """Prepared images of one (F, A, B) triple and the intermediates shared between metrics.

    ``mode`` is ``"uint8"`` (score the 8-bit images, as code reading files from disk does) or
    ``"float"`` (score float gray images; 8-bit only where a histogram needs it).

    ``shared``: a dict given to the contexts of several profiles scoring the same triple
    (:func:`fusionbench.metrics.engine.score_many`). Intermediates go there under a key naming
    what they depend on, so a profile reuses what another one computed: the gray images,
    histograms and VIF maps are the same in both modes when all inputs hold integers, and a
    metric function shared by two profiles (e.g. EN) is evaluated once.
    """

    def __init__(self, fused: PreparedImage, a: PreparedImage | None,
                 b: PreparedImage | None, mode: str, shared: dict | None = None,
                 gray: str = "matlab") -> None:
        self.images = {"F": fused, "A": a, "B": b}
        self.mode = mode
        self.gray = gray
        self._cache: dict[Any, Any] = {} if shared is None else shared
        # 8-bit inputs give the same gray images (and everything built on them) in both modes
        exact = all(img is None or img.integral for img in self.images.values())
        self._key = ("8bit" if exact else mode, gray)

    def _cached(self, key: Any, make: Callable[[], Any]) -> Any:
        key = (self._key, *key)
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def value(self, fn: MetricFn) -> float:
        """``fn(self)``, evaluated once per metric function for all contexts sharing a cache."""
        return self._cached(("value", fn), lambda: fn(self))

    def u8(self, role: str) -> np.ndarray:
        """Gray uint8 image of ``role`` (``"F"``, ``"A"`` or ``"B"``)."""
        def make() -> np.ndarray:
            img = self.images[role]
            assert img is not None
            if self.mode == "uint8" or self._key[0] == "8bit":
                return img.gray_u8(self.gray)
            return np.clip(np.floor(self.flt(role) + 0.5), 0, 255).astype(np.uint8)
        return self._cached(("u8", role), make)

    def flt(self, role: str) -> np.ndarray:
        """Gray float64 image of ``role`` on 0..255."""
        def make() -> np.ndarray:
            img = self.images[role]
            assert img is not None
            if self.mode == "uint8":
                return self.u8(role).astype(np.float64)
            return img.gray_float()
        return self._cached(("flt", role), make)

    def hist(self, role: str) -> np.ndarray:
        """256-bin histogram of :meth:`u8`."""
        return self._cached(("hist", role), lambda: H.histogram_u8(self.u8(role)))

    def entropy(self, role: str, unit: str = "bits") -> float:
        """Entropy of :meth:`hist`."""
        return self._cached(("entropy", role, unit), lambda: H.entropy_u8(
            self.u8(role), unit=unit, hist=self.hist(role)))

    def joint_entropy(self, role: str, unit: str, tang_quirk: bool) -> float:
        """Entropy of the joint histogram of ``role`` and F (see
        :func:`~fusionbench.metrics.histogram.joint_histogram_u8`); the quirk histogram is
        derived from the plain one."""
        def make() -> float:
            joint = self._cached(("joint", role),
                                 lambda: H.joint_histogram_u8(self.u8(role), self.u8("F")))
            if tang_quirk:
                joint = H.merge_254_255(joint)
            return H.entropy_of_counts(joint, self.u8("F").size, unit)
        return self._cached(("joint_entropy", role, unit, tang_quirk), make)

    def pixels(self, role: str) -> np.ndarray:
        """The gray image of ``role`` as the compiled kernels read it: :meth:`u8` where that
        holds the exact values (no float copy is made), else :meth:`flt`."""
        return self.u8(role) if self.mode == "uint8" or self._key[0] == "8bit" else self.flt(role)

    def unit(self, role: str) -> np.ndarray:
        """:meth:`flt` on [0, 1] (MATLAB ``im2double`` of the 8-bit image)."""
        return self._cached(("unit", role), lambda: self.flt(role) / 255.0)

    def triple(self, scale: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(F, A, B) on ``"unit"`` [0, 1] or ``"255"`` (0..255) float images."""
        get = self.unit if scale == "unit" else self.flt
        return get("F"), get("A"), get("B")

    def vif_inputs(self) -> tuple[tuple[np.ndarray, ...], dict]:
        """(A, B, F) for the VIF kernels, and the cache that VIF's variants and VIFF share
        (down-sampled images, per-scale sums and terms)."""
        images = (self.pixels("A"), self.pixels("B"), self.pixels("F"))
        return images, self._cached(("vif_maps",), dict)


MetricFn = Callable[[Context], float]


def _en(c: Context) -> float:
    return c.entropy("F")


def _mi(unit: str, quirk: bool) -> MetricFn:
    def fn(c: Context) -> float:
        h_f = c.entropy("F", unit)
        return sum(c.entropy(r, unit) + h_f - c.joint_entropy(r, unit, quirk) for r in ("A", "B"))
    return fn


def _vif(saturate: bool) -> MetricFn:
    def fn(c: Context) -> float:
        images, shared = c.vif_inputs()
        vif_a, vif_b = V.vifp_pair(*images, saturate_first_scale=saturate, cache=shared)
        return vif_a + vif_b
    return fn


def _viff(c: Context) -> float:
    images, shared = c.vif_inputs()
    return V.viff_from_stats(V.vif_statistics(*images, octave_rounding=True, cache=shared))


def _vifb_extra(name: str) -> MetricFn:
    def fn(c: Context) -> float:
        from fusionbench.metrics.vifb import VIFB_METRICS  # lazy: a colleague's module
        return float(VIFB_METRICS[name](c.flt("F"), c.flt("A"), c.flt("B")))
    return fn


# One function object per distinct computation, so that profiles sharing it share its value.
_MI_TANG = _mi("bits", True)
_MI_BITS = _mi("bits", False)
_VIF_SAT = _vif(saturate=True)
_VIF = _vif(saturate=False)


def _ag_tang(c: Context) -> float:
    return S.ag_tang(c.pixels("F"))


def _sd(c: Context) -> float:
    return S.sd_population(c.pixels("F"))


def _sf(c: Context) -> float:
    return S.sf_tang(c.pixels("F"))


def _on(scale: str, formula: Callable[..., float], **options: Any) -> MetricFn:
    """A metric reading (F, A, B) at ``scale`` (see :meth:`Context.triple`)."""
    def fn(c: Context) -> float:
        return formula(*c.triple(scale), **options)
    return fn


def _qabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    from fusionbench.metrics.vifb_quality import vifb_qabf  # one Qabf for every convention
    return vifb_qabf(f, a, b)


def _nabf_tang2023(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    # analysis_Reference.m (2023) calls analysis_nabf(img1, img2, img_f) against the
    # signature analysis_nabf(f, I1, I2): A takes the fused image's place.
    return E.nabf(a, b, f)


def _mef_ssim(c: Context) -> float:
    f, a, b = c.triple("255")
    return ST.mef_ssim(np.stack([a, b]), f)


def _mef_ms_ssim(c: Context) -> float:
    f, a, b = c.triple("255")
    return ST.mef_ms_ssim(np.stack([a, b]), f, first_scale=c.value(_mef_ssim))


def _ssim_matlab_mean(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * ST.ssim_matlab(f, a) + 0.5 * ST.ssim_matlab(f, b)


def _ssim_skimage_sum(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    return ST.ssim_skimage(f, a) + ST.ssim_skimage(f, b)


def _fmi(scale: str) -> dict[str, MetricFn]:
    return {name: _on(scale, FM.fmi, feature=feature)
            for name, feature in (("FMI_pixel", "edge"), ("FMI_dct", "dct"),
                                  ("FMI_w", "wavelet"))}


#: Tang's PSNR and MSE: both versions on [0, 1] (2023 divides its 0..255 images by 255 inside).
_TANG_PSNR = _on("unit", R.psnr, peak=255.0)
_TANG_MSE = _on("unit", R.mse)

_TANG2022_MORE: dict[str, MetricFn] = {
    "PSNR": _TANG_PSNR,
    "MSE": _TANG_MSE,
    "CC": _on("unit", R.correlation_coefficient),
    "SCD": _on("unit", R.scd),
    "Qabf": _on("unit", _qabf),
    "Nabf": _on("unit", E.nabf),
    "SSIM": _mef_ssim,
    "MS_SSIM": _mef_ms_ssim,
    **_fmi("unit"),
}

_TANG2023_MORE: dict[str, MetricFn] = {
    "PSNR": _TANG_PSNR,
    "MSE": _TANG_MSE,
    "CC": _on("255", R.correlation_coefficient),
    "SCD": _on("255", R.scd),
    "Qabf": _on("255", _qabf),
    "Nabf": _on("255", _nabf_tang2023),
    "SSIM": _on("255", _ssim_matlab_mean),
    "MS_SSIM": _mef_ms_ssim,
    **_fmi("255"),
}

_CDDFUSE_MORE: dict[str, MetricFn] = {
    "SCD": _on("255", R.scd),
    "CC": _on("255", R.correlation_coefficient),
    "MSE": _on("255", R.mse),
    "PSNR": _on("255", R.psnr, peak=None),
    "Qabf": _on("255", _qabf),
    "SSIM": _on("255", _ssim_skimage_sum),
}

#: Tang's 17 metrics in the order analysis_Reference.m returns them.
TANG_ALL: tuple[str, ...] = ("EN", "SF", "SD", "PSNR", "MSE", "MI", "VIF", "AG", "CC", "SCD",
                             "Qabf", "Nabf", "SSIM", "MS_SSIM", "FMI_pixel", "FMI_dct", "FMI_w")
#: CDDFuse's 12 in the order of its evaluator's README table.
CDDFUSE_ALL: tuple[str, ...] = ("EN", "SD", "SF", "MI", "SCD", "VIF", "AG", "CC", "MSE",
                                "PSNR", "Qabf", "SSIM")

_TANG_COMMON: dict[str, MetricFn] = {
    "EN": _en,
    "MI": _MI_TANG,
    "AG": _ag_tang,
}

_IMPLEMENTATIONS: dict[str, dict[str, MetricFn]] = {
    "tang2022": {
        **_TANG_COMMON,
        "VIF": _VIF_SAT,
        "SD": lambda c: S.sd_tang2022(c.u8("F")),
        "SF": lambda c: S.sf_tang(c.pixels("F"), scale=255.0),
        **_TANG2022_MORE,
    },
    "tang2023": {
        **_TANG_COMMON,
        "VIF": _VIF,
        "SD": _sd,
        "SF": _sf,
        **_TANG2023_MORE,
    },
    "cddfuse": {
        "EN": _en,
        "MI": _mi("nats", False),
        "VIF": _VIF,
        "SD": _sd,
        "AG": lambda c: S.ag_mean(c.pixels("F")),
        "SF": _sf,
        **_CDDFUSE_MORE,
    },
    "standard": {
        "EN": _en,
        "MI": _MI_BITS,
        "VIF": _VIF,
        "SD": _sd,
        "AG": _ag_tang,
        "SF": _sf,
        "VIFF": _viff,
        **{name: _vifb_extra(name) for name in VIFB_EXTRAS},
    },
    "han_viff": {"VIFF": _viff},
}


def vifb_module_available() -> bool:
    """Whether the colleague module ``fusionbench.metrics.vifb`` exists (without importing it)."""
    try:
        return importlib.util.find_spec("fusionbench.metrics.vifb") is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class Profile:
    """A named metric convention.

    ``metrics`` lists every metric the profile implements, ``default_metrics`` those scored
    when none are asked for (the paper's six, where the profile has them).
    """

    name: str
    description: str
    reference: str
    mode: str  # "uint8", "float" or "delegated"
    base_metrics: tuple[str, ...]
    optional_metrics: tuple[str, ...] = field(default=())  # need fusionbench.metrics.vifb
    #: The engine version of this convention: bump it whenever any of its numbers change
    #: (the CI regression reference catches such a change). The results store keys every
    #: cached score by it, so a bump invalidates the cached scores of this profile only.
    version: str = "1"
    #: How colour images become gray: a key of ``_inputs.GRAY_CONVERSIONS``.
    gray: str = "matlab"

    @property
    def metrics(self) -> tuple[str, ...]:
        extra = self.optional_metrics if vifb_module_available() else ()
        return self.base_metrics + extra

    @property
    def default_metrics(self) -> tuple[str, ...]:
        paper = tuple(m for m in PAPER_METRICS if m in self.metrics)
        return paper or self.metrics

    def origin(self, metric: str) -> str:
        """Where ``metric`` comes from in the convention's original code (file: function).

        >>> PROFILES["tang2022"].origin("Nabf")
        'Evaluation/analysis_nabf.m: analysis_nabf (with sobel_fn.m, per_extn_im_fn.m)'
        """
        return ORIGINS[self.name][metric]

    def implementation(self, metric: str) -> MetricFn:
        """The function computing ``metric`` under this profile (not for ``vifb``)."""
        return _IMPLEMENTATIONS[self.name][metric]


_SIX = PAPER_METRICS

PROFILES: dict[str, Profile] = {p.name: p for p in [
    Profile("standard",
            "fusionbench default: float arithmetic on 0..255 gray (MATLAB rgb2gray), no "
            "quirks; EN/MI in bits on 256 integer-aligned bins of the 8-bit gray image; SD "
            "population; SF per-direction means; AG Tang; VIF = vifp(A,F) + vifp(B,F); VIFF "
            "as han_viff; VIFB's other metrics on the gray images",
            "this project (fusionbench/metrics/CONVENTIONS.md)", "float",
            _SIX + ("VIFF",), VIFB_EXTRAS),
    Profile("tang2022",
            "Tang's evaluation code as of 2022 (CLF-Net's tables): uint8 saturation in SD and "
            "VIF, SF on [0,1], MI joint-bin quirk",
            "Linfeng-Tang/Evaluation-for-Image-Fusion@5d6c43a analysis_Reference.m", "uint8",
            TANG_ALL),
    Profile("tang2023",
            "Tang's evaluation code from 2023: as tang2022 but SD, SF, VIF in float on 0..255",
            "Linfeng-Tang/Evaluation-for-Image-Fusion@0e87153 analysis_Reference.m", "uint8",
            TANG_ALL),
    Profile("cddfuse",
            "MMIF-CDDFuse utils/Evaluator.py on images read as its image_read_cv2(path, 'GRAY') "
            "(OpenCV BGR2GRAY, rounded half to even): MI in nats (one bin per value), AG mean "
            "over all pixels, VIF = vifp sum on float (their 'VIFF'), PSNR peak max(F), SSIM "
            "scikit-image 0.19 defaults (float32, data_range 2)",
            "Zhaozixiang1228/MMIF-CDDFuse@fd8da1f utils/Evaluator.py", "uint8", CDDFUSE_ALL,
            version="2", gray="opencv"),
    Profile("han_viff",
            "Han et al. 2013 VIFF only (multi-scale, per-pixel source with the smaller gain)",
            "HarrisXia/image-fusion-evaluation@35d35c0 VIFF_Public.m", "float", ("VIFF",)),
    Profile("vifb",
            "VIFB's 13 metrics (per-channel for colour F), delegated to fusionbench.metrics.vifb",
            "xingchenzhang/VIFB@22b2ea9 metrics/*.m", "delegated", VIFB_ALL),
]}

DEFAULT_PROFILE = "standard"

_TANG_FILES = {
    "EN": "analysis_Reference.m: MATLAB entropy(img_f)",
    "SF": "Evaluation/SF_evaluation.m: SF_evaluation",
    "SD": "Evaluation/SD_evaluation.m: SD_evaluation",
    "PSNR": "Evaluation/PSNR_evaluation.m: PSNR_evaluation",
    "MSE": "Evaluation/MSE_evaluation.m: MSE_evaluation",
    "MI": "Evaluation/MI_evaluation.m: MI_evaluation (with Hab.m)",
    "VIF": "Evaluation/vifp_mscale.m: vifp_mscale (A,F) + (B,F)",
    "AG": "Evaluation/AG_evaluation.m: AG_evaluation",
    "CC": "Evaluation/CC_evaluation.m: CC_evaluation",
    "SCD": "Evaluation/analysis_SCD.m: analysis_SCD",
    "Qabf": "Evaluation/analysis_Qabf.m: analysis_Qabf",
    "Nabf": "Evaluation/analysis_nabf.m: analysis_nabf (with sobel_fn.m, per_extn_im_fn.m)",
    "SSIM": "Evaluation/mef_ssim.m: mef_ssim(imgSeq, img_f)",
    "MS_SSIM": "Evaluation/analysis_ms_ssim.m: analysis_ms_ssim (with mef_ssim.m)",
    "FMI_pixel": "Evaluation/analysis_fmi.m: analysis_fmi (default feature 'edge')",
    "FMI_dct": "Evaluation/analysis_fmi.m: analysis_fmi(..., 'dct')",
    "FMI_w": "Evaluation/analysis_fmi.m: analysis_fmi(..., 'wavelet')",
}
_VIFB_FILES = {
    "EN": "metricsEntropy", "MI": "metricsMutinf", "SD": "metricsVariance",
    "SF": "metricsSpatial_frequency", "AG": "metricsAvg_gradient", "CE": "metricsCross_entropy",
    "EI": "metricsEdge_intensity", "PSNR": "metricsPsnr", "RMSE": "metricsRmse",
    "SSIM": "metricsSsim", "Qabf": "metricsQabf", "Qcb": "metricsQcb", "Qcv": "metricsQcv",
}
_CDDFUSE_FUNCTIONS = {m: f"utils/Evaluator.py: Evaluator.{m}" for m in CDDFUSE_ALL}
_CDDFUSE_FUNCTIONS["VIF"] = "utils/Evaluator.py: Evaluator.VIFF (compare_viff per source)"

#: For each profile and metric: the original code's file and function it reproduces.
ORIGINS: dict[str, dict[str, str]] = {
    "tang2022": _TANG_FILES,
    "tang2023": {**_TANG_FILES,
                 "SSIM": "analysis_Reference.m: 0.5 ssim(F,A) + 0.5 ssim(F,B) (MATLAB ssim)"},
    "cddfuse": _CDDFUSE_FUNCTIONS,
    "han_viff": {"VIFF": "VIFF_Public.m: VIFF_Public"},
    "vifb": {m: f"metrics/{f}.m: {f}" for m, f in _VIFB_FILES.items()},
    "standard": {**{m: "fusionbench (CONVENTIONS.md, standard)" for m in PAPER_METRICS},
                 "VIFF": "VIFF_Public.m: VIFF_Public (as han_viff)",
                 **{m: f"VIFB metrics/{_VIFB_FILES[m]}.m: {_VIFB_FILES[m]}, on gray images"
                    for m in VIFB_EXTRAS}},
}


def resolve_metrics(profile: Profile, names: Sequence[str] | str | None) -> list[str]:
    """The metrics to score under ``profile``: its defaults for ``None``, every metric it has
    for ``"all"`` (alone or in the list), else ``names`` in their canonical spelling
    (case-insensitive), without duplicates. Raises :class:`MetricError` for a metric the
    profile lacks, with a suggestion.

    >>> resolve_metrics(PROFILES["cddfuse"], ["ssim", "all"])[:3]
    ['EN', 'SD', 'SF']
    >>> resolve_metrics(PROFILES["tang2022"], "qabf")
    ['Qabf']
    """
    if names is None:
        return list(profile.default_metrics)
    if isinstance(names, str):
        names = [names]
    if any(str(n).lower() == "all" for n in names):
        return list(profile.metrics)
    available = profile.metrics
    by_lower = {m.lower(): m for m in available}
    out: list[str] = []
    for name in names:
        canon = by_lower.get(str(name).lower())
        if canon is None:
            raise MetricError(f"metric {name!r} is not in profile {profile.name!r}"
                              f"{did_you_mean(str(name), available)} "
                              f"(it has: {', '.join(available)})")
        if canon not in out:
            out.append(canon)
    return out


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``"; did you mean 'X'?"`` for the closest of ``choices``, else ``""``.

    >>> did_you_mean("qabff", ["Qabf", "SSIM"])
    "; did you mean 'Qabf'?"
    """
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.5)
    return f"; did you mean {lowered[close[0]]!r}?" if close else ""


def profile_metrics(profile: str) -> tuple[str, ...]:
    """Every metric a profile implements (its defaults first in paper order are in
    ``PROFILES[profile].default_metrics``).

    >>> profile_metrics("tang2023")[:6]
    ('EN', 'SF', 'SD', 'PSNR', 'MSE', 'MI')
    """
    return get_profile(profile).metrics


def get_profile(name: str) -> Profile:
    """Look a profile up by name; :class:`MetricError` with a suggestion when unknown.

    >>> get_profile("tang2022").reference.split("@")[0]
    'Linfeng-Tang/Evaluation-for-Image-Fusion'
    """
    if name in PROFILES:
        return PROFILES[name]
    raise MetricError(f"unknown metric profile {name!r}{did_you_mean(name, list(PROFILES))} "
                      f"(known: {', '.join(PROFILES)})")
