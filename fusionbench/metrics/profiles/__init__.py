"""Metric profiles: one named convention per set of reference code, one file per profile that
reads as that convention's specification (:mod:`.standard`, :mod:`.tang2022`, :mod:`.tang2023`,
:mod:`.cddfuse`, :mod:`.han_viff`, :mod:`.vifb`), all scored by the one engine
(:mod:`fusionbench.metrics.engine`). ``CONVENTIONS.md`` beside the package lists every quirk.

A profile file defines ``PROFILE``, a :class:`Profile` whose :class:`Metric` records name the
computation (built from the functional core), the original code's file and function, and what
the formula needs of its input.

>>> PROFILES["tang2022"].default_metrics
('EN', 'MI', 'VIF', 'SD', 'AG', 'SF')
>>> profile_metrics("han_viff")
('VIFF',)
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from fusionbench.errors import MetricError
from fusionbench.metrics.profiles import cddfuse, han_viff, standard, tang2022, tang2023, vifb
from fusionbench.metrics.profiles._spec import Metric, Profile

__all__ = ["DEFAULT_PROFILE", "PROFILES", "Metric", "Profile", "did_you_mean", "get_profile",
           "profile_metrics", "resolve_metrics"]

#: Every profile by name (in the order ``fusionbench metrics`` lists them).
PROFILES: dict[str, Profile] = {m.PROFILE.name: m.PROFILE for m in
                                (standard, tang2022, tang2023, cddfuse, han_viff, vifb)}

DEFAULT_PROFILE = "standard"


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
