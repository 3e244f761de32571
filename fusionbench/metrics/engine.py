"""The one metrics engine: :func:`score` and :func:`score_many` score a triple under any
profile, and per-metric shortcuts (:func:`entropy` ...) score one metric under a named
convention.

The engine checks the input once (:mod:`._inputs`), checks what each profile's
:class:`~fusionbench.metrics.profiles.Metric` says its formula needs (smallest side, non-constant
sources, finite images), applies the profile's colour rule (gray, or per channel), evaluates
the computation in a shared :class:`~fusionbench.metrics.context.Context` and reports each NaN
once with its reason (:func:`~fusionbench.metrics._undefined.undefined`).

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
from collections.abc import Iterable, Sequence

import numpy as np

from fusionbench.errors import MetricError
from fusionbench.metrics._inputs import PreparedImage, check_sizes, prepare_image
from fusionbench.metrics._undefined import undefined
from fusionbench.metrics.catalog import METRICS
from fusionbench.metrics.context import Context
from fusionbench.metrics.profiles import DEFAULT_PROFILE, Profile, get_profile, resolve_metrics
from fusionbench.metrics.profiles._spec import Metric


class _Triple:
    """The prepared (F, A, B) of one call and the contexts a profile scores them in (one per
    colour channel, or channels side by side, for a profile with ``colour="channels"``), which
    all share one cache (``shared``, a new one by default): a metric reuses what another
    metric of the call computed (e.g. MS_SSIM's first scale is SSIM)."""

    def __init__(self, f: PreparedImage, a: PreparedImage | None, b: PreparedImage | None,
                 shared: dict | None = None) -> None:
        self.f, self.a, self.b = f, a, b
        self.shared = {} if shared is None else shared
        self._channels: list[tuple[PreparedImage, ...]] | None = None

    def contexts(self, prof: Profile, metric: Metric) -> list[Context]:
        def make(f: PreparedImage, a: PreparedImage | None, b: PreparedImage | None,
                 view: str = "") -> Context:
            return Context(f, a, b, prof.mode, self.shared, gray=prof.gray, view=view)

        if prof.colour != "channels" or len(self.f.shape) == 2:
            return [make(self.f, self.a, self.b)]
        if metric.colour == "side_by_side":
            return [make(self.f.side_by_side(), None, None, "side_by_side")]
        if self._channels is None:
            self._channels = [tuple(None if img is None else img.channel(k)
                                    for img in (self.f, self.a, self.b)) for k in range(3)]
        return [make(*images, view=f"channel {k}") for k, images in enumerate(self._channels)]


def _precondition_fails(name: str, metric: Metric, used: list[PreparedImage],
                        t: _Triple) -> str | None:
    """Why ``name`` is undefined for these images before computing it, or None."""
    bad = [img.name for img in used if not img.finite]
    if bad:
        return f"{', '.join(bad)} contains NaN or infinite values"
    rows, cols = t.f.shape2d
    if min(rows, cols) < metric.min_side:
        side = metric.min_side
        return f"image {rows}x{cols} is smaller than the {side}x{side} that {name} needs"
    if metric.flat_sources_nan:
        flat = [img.name for img in (t.a, t.b) if img is not None and img.is_constant()]
        if flat:
            return f"source {', '.join(flat)} is constant (0/0)"
    return None


def _evaluate(prof: Profile, name: str, t: _Triple) -> float:
    metric = prof.definition(name)
    used = [t.f, t.a, t.b] if METRICS[name].reads_sources else [t.f]
    if any(img is None for img in used):
        raise MetricError(f"{name} needs both source images")
    why = _precondition_fails(name, metric, used, t)  # type: ignore[arg-type]
    if why is not None:
        return undefined(name, why, stacklevel=4)
    with np.errstate(divide="ignore", invalid="ignore"):
        results = [ctx.value(metric.compute) for ctx in t.contexts(prof, metric)]
    values = [value for value, _ in results]
    value = values[0] if len(values) == 1 else float(np.mean(values))
    if np.isfinite(value) or (prof.keep_infinite and np.isinf(value)):
        return value
    reasons = [why for _, whys in results for why in whys]
    why = reasons[0] if reasons else "the metric is undefined for these images (0/0)"
    return undefined(name, why, stacklevel=4)


def _score_prepared(prof: Profile, names: list[str], t: _Triple) -> dict[str, float]:
    out: dict[str, float] = {}
    if t.f.is_constant():
        warnings.warn(f"fused image {t.f.name} is constant: EN, SD, AG, SF are 0 and VIF "
                      "carries no information", RuntimeWarning, stacklevel=3)
    for name in names:
        out[name] = _evaluate(prof, name, t)
    return out


def _prepare(fused: np.ndarray, a: np.ndarray | None, b: np.ndarray | None,
             shared: dict | None = None) -> _Triple:
    f = prepare_image(fused, "fused")
    pa = None if a is None else prepare_image(a, "a")
    pb = None if b is None else prepare_image(b, "b")
    check_sizes(f, *(p for p in (pa, pb) if p is not None))
    return _Triple(f, pa, pb, shared)


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
    return _score_prepared(prof, names, _prepare(fused, a, b))


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
    triple = _prepare(fused, a, b, shared={})
    return {prof.name: _score_prepared(prof, names, triple) for prof, names in resolved}


def score_batch(fused_images: Iterable[np.ndarray], a: np.ndarray, b: np.ndarray, *,
                profiles: Sequence[str] = (DEFAULT_PROFILE,),
                metrics: Sequence[str] | None = None) -> list[dict[str, dict[str, float]]]:
    """:func:`score_many` for several fused images of the same sources (e.g. every method's
    output for one pair), in order. The values are exactly those of one :func:`score_many`
    call per fused image, but what depends on a source alone (gray images, histograms, Sobel
    edges, contrast maps, spectra) is computed once for all of them.

    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> a, b = rng.integers(0, 256, (2, 32, 32), dtype=np.uint8)
    >>> batch = score_batch([a, b], a, b, profiles=["vifb"], metrics=["Qabf"])
    >>> batch[1] == score_many(b, a, b, profiles=["vifb"], metrics=["Qabf"])
    True
    """
    if isinstance(profiles, str):
        profiles = [profiles]
    resolved = [(prof, resolve_metrics(prof, metrics)) for prof in map(get_profile, profiles)]
    pa, pb = prepare_image(a, "a"), prepare_image(b, "b")
    out = []
    for fused in fused_images:
        f = prepare_image(fused, "fused")
        check_sizes(f, pa, pb)
        triple = _Triple(f, pa, pb, shared={})
        out.append({prof.name: _score_prepared(prof, names, triple) for prof, names in resolved})
    return out


def _single(metric: str, fused: np.ndarray, a: np.ndarray | None, b: np.ndarray | None,
            convention: str) -> float:
    prof = get_profile(convention)
    names = resolve_metrics(prof, [metric])
    return _score_prepared(prof, names, _prepare(fused, a, b))[metric]


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
