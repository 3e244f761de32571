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
fusionbench.errors.UsageError: --name '../x' is not a plain name: no '/', '\\' or '..' allowed
"""

from __future__ import annotations

from collections.abc import Sequence

from fusionbench.errors import MetricError, UsageError


def check_workers(workers: int | None) -> None:
    """``--workers`` is absent or at least 1."""
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a folder or a registry entry, or ``None`` when it is plain.

    The one rule for every name fusionbench turns into a path (``--name``, method, dataset):
    non-empty, no ``/``, ``\\`` or ``..``, no leading dot, no control characters.

    >>> print(name_problem("clfnet"), name_problem("a/b"))
    None no '/', '\\' or '..' allowed
    """
    if not name.strip():
        return "it is empty"
    if "/" in name or "\\" in name or ".." in name or name.startswith("."):
        return "no '/', '\\' or '..' allowed"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "no control characters allowed"
    return None


def check_name(name: str, option: str) -> None:
    """A name used for a results folder: a :class:`UsageError` unless :func:`name_problem` is
    ``None``."""
    if not name.strip():
        raise UsageError(f"{option} is empty")
    problem = name_problem(name)
    if problem is not None:
        raise UsageError(f"{option} {name!r} is not a plain name: {problem}")


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


def check_pattern(pattern: str) -> None:
    """``eval --pattern``: a file-name rule with exactly one ``{pair}`` and no path separator.

    >>> check_pattern("{pair}_fused.*")
    >>> check_pattern("fused.png")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fusionbench.errors.UsageError: --pattern 'fused.png' must contain {pair} exactly once ...
    """
    example = "(e.g. '{pair}.*' or 'fused_{pair}.png')"
    if pattern.count("{pair}") != 1:
        raise UsageError(f"--pattern {pattern!r} must contain {{pair}} exactly once {example}")
    try:
        pattern.format(pair="x")
    except (IndexError, KeyError, ValueError) as exc:
        raise UsageError(f"--pattern {pattern!r} has a brace other than {{pair}} ({exc}) "
                         f"{example}") from None
    if "/" in pattern or "\\" in pattern:
        raise UsageError(f"--pattern {pattern!r} names a file, not a path: no '/' or '\\' "
                         f"{example}")


def check_tolerance(value: float | None, option: str) -> None:
    """A tolerance option (``--rtol``, ``--atol``) is absent, finite and not negative.

    >>> check_tolerance(-1e-6, "--rtol")
    Traceback (most recent call last):
    ...
    fusionbench.errors.UsageError: --rtol must be a finite number >= 0, got -1e-06
    """
    import math

    if value is not None and (value < 0 or not math.isfinite(value)):
        raise UsageError(f"{option} must be a finite number >= 0, got {value:g}")
