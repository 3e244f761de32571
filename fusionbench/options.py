"""Checks of `run` / `eval` options made before any work, so that a bad option changes nothing.

Every problem is a :class:`~fusionbench.errors.UsageError` (exit 2) naming the option and the
valid choices.

>>> check_workers(0)
Traceback (most recent call last):
...
fusionbench.errors.UsageError: --workers must be at least 1, got 0
>>> check_name("../x", "--name")
Traceback (most recent call last):
...
fusionbench.errors.UsageError: --name '../x' is not a plain name: no '/', '\\\\' or '..' allowed
"""

from __future__ import annotations

from collections.abc import Sequence

from fusionbench.errors import MetricError, UsageError


def check_workers(workers: int | None) -> None:
    """``--workers`` is absent or at least 1."""
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")


def check_name(name: str, option: str) -> None:
    """A name used for a results folder: non-empty, no path separators, no ``..``."""
    if not name.strip():
        raise UsageError(f"{option} is empty")
    if "/" in name or "\\" in name or ".." in name or name.startswith("."):
        raise UsageError(f"{option} {name!r} is not a plain name: no '/', '\\\\' or '..' "
                         "allowed")


def check_method_list(names: str) -> list[str]:
    """``--method``: comma-separated, at least one non-empty name."""
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    if not chosen:
        raise UsageError("--method is empty: give a method name, several comma-separated, "
                         "or 'all' (see `fusionbench methods`)")
    return chosen


def check_metrics(profiles: Sequence[str], metrics: Sequence[str] | None) -> None:
    """Every profile is known and has every asked metric (``all``: every metric of each)."""
    from fusionbench.metrics import get_profile

    for name in profiles:
        try:
            profile = get_profile(name)
        except MetricError as exc:
            raise UsageError(f"--profile: {exc}") from None
        if any(metric.lower() == "all" for metric in metrics or ()):
            continue  # fusionbench.metrics.resolve_metrics: every metric of the profile
        for metric in metrics or ():
            if metric not in profile.metrics:
                raise UsageError(f"--metrics: profile {name!r} has no metric {metric!r} "
                                 f"(it has: {', '.join(profile.metrics)})")
