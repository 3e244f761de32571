"""The metric dispatcher :func:`score` and the functional core (one function per metric).

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> a, b = rng.integers(0, 256, (2, 32, 32), dtype=np.uint8)
>>> f = ((a.astype(int) + b) // 2).astype(np.uint8)
>>> s = score(f, a, b)
>>> sorted(s)
['AG', 'EN', 'MI', 'SD', 'SF', 'VIF']
>>> round(s["EN"], 4)
7.5647
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from fusionbench.errors import MetricError, MetricWarning
from fusionbench.metrics._inputs import PreparedImage, check_sizes, prepare_image
from fusionbench.metrics.profiles import (
    DEFAULT_PROFILE,
    FUSED_ONLY,
    VIF_FAMILY,
    Context,
    Profile,
    get_profile,
    resolve_metrics,
)

#: Smallest side the 4-scale VIF statistics accept (the first-scale window). Between 17 and
#: 40 pixels the coarser scales are empty and add 0, as in MATLAB's vifp_mscale.
MIN_VIF_SIZE = 17
#: Smallest side at which all four VIFF scales are non-empty (VIFF_Public.m gives NaN below).
MIN_VIFF_SIZE = 41


def _nan(metric: str, why: str) -> float:
    warnings.warn(MetricWarning(metric, why, nan=True), stacklevel=4)
    return float("nan")


def _is_constant(img: PreparedImage) -> bool:
    return img.is_constant()


def _score_prepared(prof: Profile, names: list[str], f: PreparedImage,
                    a: PreparedImage | None, b: PreparedImage | None,
                    shared: dict | None = None) -> dict[str, float]:
    ctx = Context(f, a, b, prof.mode, shared, gray=prof.gray)
    rows, cols = f.shape2d
    out: dict[str, float] = {}
    warned_constant_f = False
    for name in names:
        used = [f] if name in FUSED_ONLY else [f, a, b]
        if any(img is None for img in used):
            raise MetricError(f"{name} needs both source images")
        bad = [img.name for img in used if img is not None and not img.finite]
        if bad:
            out[name] = _nan(name, f"{', '.join(bad)} contains NaN or infinite values")
            continue
        if name in VIF_FAMILY:
            least = MIN_VIF_SIZE if name == "VIF" else MIN_VIFF_SIZE
            if min(rows, cols) < least:
                out[name] = _nan(name, f"image {rows}x{cols} is smaller than the "
                                       f"{least}x{least} that {name} needs")
                continue
            flat = [img.name for img in (a, b) if img is not None and _is_constant(img)]
            if flat:
                out[name] = _nan(name, f"source {', '.join(flat)} is constant (0/0)")
                continue
        if name in ("AG", "SF") and min(rows, cols) < 2:
            out[name] = _nan(name, f"image {rows}x{cols} has no neighbours in one direction")
            continue
        if not warned_constant_f and _is_constant(f):
            warnings.warn(f"fused image {f.name} is constant: EN, SD, AG, SF are 0 and VIF "
                          "carries no information", RuntimeWarning, stacklevel=3)
            warned_constant_f = True
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(ctx.value(prof.implementation(name)))
        if not np.isfinite(value):
            value = _nan(name, "the metric is undefined for these images (0/0)")
        out[name] = value
    return out


def _score_delegated(names: list[str], f: PreparedImage, a: PreparedImage,
                     b: PreparedImage) -> dict[str, float]:
    """The ``vifb`` profile: ``fusionbench.metrics.vifb.score_vifb`` on the 8-bit images."""
    from fusionbench.metrics.vifb import score_vifb  # lazy: a colleague's module

    out = dict(score_vifb(f.u8(), a.u8(), b.u8(), names))
    for name in names:
        used = [f] if name in FUSED_ONLY else [f, a, b]
        bad = [img.name for img in used if not img.finite]
        if bad:
            out[name] = _nan(name, f"{', '.join(bad)} contains NaN or infinite values")
    return out


def score(fused: np.ndarray, a: np.ndarray, b: np.ndarray, *,
          metrics: Sequence[str] | None = None,
          profile: str = DEFAULT_PROFILE) -> dict[str, float]:
    """Score a fused image against its two sources under one convention (profile).

    ``fused``, ``a`` (first source: infrared / CT / multi-focus a), ``b`` (second source):
    uint8 arrays as :func:`fusionbench.imageio.read_image` returns them, or float arrays on
    [0, 1] or [0, 255] (see :mod:`fusionbench.metrics._inputs`). ``metrics=None`` scores the
    profile's defaults. Returns ``{metric: value}`` in the order asked.

    Raises :class:`MetricError` for an unknown profile or metric (with a suggestion) and when a
    source's size differs from the fused image's. Returns NaN, with a warning, for a metric
    that reads an image holding NaN/inf, for VIF (VIFF) when the image is smaller than 17 x 17
    (41 x 41) or a source is constant (the ratio is 0/0), and for AG/SF on a single row or column.
    A constant fused image gives its true values (EN = SD = AG = SF = 0) with a warning.

    >>> import numpy as np
    >>> z = np.zeros((20, 20), np.uint8); z[5:15, 5:15] = 200
    >>> score(z, z, z, metrics=["sd", "EN"], profile="tang2022")
    {'SD': 7.984359711335656, 'EN': 0.8112781244591328}
    """
    prof = get_profile(profile)
    names = resolve_metrics(prof, metrics)
    f = prepare_image(fused, "fused")
    pa = prepare_image(a, "a")
    pb = prepare_image(b, "b")
    check_sizes(f, pa, pb)
    if prof.mode == "delegated":
        return _score_delegated(names, f, pa, pb)
    return _score_prepared(prof, names, f, pa, pb)


def score_many(fused: np.ndarray, a: np.ndarray, b: np.ndarray, *,
               profiles: Sequence[str] = (DEFAULT_PROFILE,),
               metrics: Sequence[str] | None = None) -> dict[str, dict[str, float]]:
    """:func:`score` under several profiles at once: ``{profile: {metric: value}}``.

    The values are exactly those of one :func:`score` call per profile, but the intermediates
    (gray images, histograms, VIF's filtered maps, and metrics two profiles compute the same
    way) are computed once for the triple. ``metrics`` applies to every profile (``None``: each
    profile's defaults); errors and warnings are those :func:`score` gives.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.integers(0, 256, (2, 32, 32), dtype=np.uint8)
    >>> both = score_many(a, a, b, profiles=["standard", "tang2022"])
    >>> both["tang2022"] == score(a, a, b, profile="tang2022")
    True
    """
    if isinstance(profiles, str):
        profiles = [profiles]
    resolved = [(prof, resolve_metrics(prof, metrics)) for prof in map(get_profile, profiles)]
    f = prepare_image(fused, "fused")
    pa = prepare_image(a, "a")
    pb = prepare_image(b, "b")
    check_sizes(f, pa, pb)
    shared: dict = {}
    out: dict[str, dict[str, float]] = {}
    for prof, names in resolved:
        if prof.mode == "delegated":
            out[prof.name] = _score_delegated(names, f, pa, pb)
        else:
            out[prof.name] = _score_prepared(prof, names, f, pa, pb, shared)
    return out


def _single(metric: str, fused: np.ndarray, a: np.ndarray | None, b: np.ndarray | None,
            convention: str) -> float:
    prof = get_profile(convention)
    if prof.mode == "delegated":
        if a is None or b is None:
            raise MetricError(f"the vifb convention needs both sources to score {metric}")
        return score(fused, a, b, metrics=[metric], profile=convention)[metric]
    names = resolve_metrics(prof, [metric])
    f = prepare_image(fused, "fused")
    pa = None if a is None else prepare_image(a, "a")
    pb = None if b is None else prepare_image(b, "b")
    check_sizes(f, *(p for p in (pa, pb) if p is not None))
    return _score_prepared(prof, names, f, pa, pb)[metric]


def entropy(fused: np.ndarray, *, convention: str = DEFAULT_PROFILE) -> float:
    """EN: entropy in bits of the 256-bin histogram of the 8-bit gray fused image.

    >>> entropy(np.array([[0, 0], [255, 255]], np.uint8))
    1.0
    """
    return _single("EN", fused, None, None, convention)


def mutual_information(fused: np.ndarray, a: np.ndarray, b: np.ndarray, *,
                       convention: str = DEFAULT_PROFILE) -> float:
    """MI: MI(A, F) + MI(B, F) (bits; nats under ``cddfuse``).

    >>> x = np.array([[0, 255], [255, 0]], np.uint8)
    >>> mutual_information(x, x, x)
    2.0
    """
    return _single("MI", fused, a, b, convention)


def vif(fused: np.ndarray, a: np.ndarray, b: np.ndarray, *,
        convention: str = DEFAULT_PROFILE) -> float:
    """VIF: Sheikh-Bovik vifp_mscale(A, F) + vifp_mscale(B, F) (NaN below 17 x 17).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 256, (32, 32), dtype=np.uint8)
    >>> round(vif(x, x, x), 6)  # F == A == B: 1 + 1
    2.0
    """
    return _single("VIF", fused, a, b, convention)


def standard_deviation(fused: np.ndarray, *, convention: str = DEFAULT_PROFILE) -> float:
    """SD: population standard deviation on 0..255 (tang2022: its uint8-saturated form).

    >>> standard_deviation(np.array([[0, 255]], np.uint8))
    127.5
    """
    return _single("SD", fused, None, None, convention)


def average_gradient(fused: np.ndarray, *, convention: str = DEFAULT_PROFILE) -> float:
    """AG: MATLAB-``gradient`` average gradient, sum / ((M-1)(N-1)) (cddfuse: mean).

    >>> average_gradient(np.array([[0, 2], [0, 2]], np.uint8))
    5.656854249492381
    """
    return _single("AG", fused, None, None, convention)


def spatial_frequency(fused: np.ndarray, *, convention: str = DEFAULT_PROFILE) -> float:
    """SF: sqrt(RF^2 + CF^2) on 0..255 (tang2022: on [0, 1]).

    >>> spatial_frequency(np.array([[0, 3], [0, 3]], np.uint8))
    3.0
    """
    return _single("SF", fused, None, None, convention)


def viff(fused: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """VIFF of Han et al. 2013 as ``VIFF_Public.m`` computes it (NaN below 41 x 41, the
    smallest size at which all four scales are non-empty).

    >>> rng = np.random.default_rng(0)
    >>> x = rng.integers(0, 256, (64, 64), dtype=np.uint8)
    >>> round(viff(x, x, x), 6)
    1.0
    """
    return _single("VIFF", fused, a, b, "han_viff")
