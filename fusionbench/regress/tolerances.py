"""Tolerance rules of ``fusionbench regress`` and their sidecar TOML file."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fusionbench.regress.common import DEFAULT_ATOL, DEFAULT_RTOL, RegressionError


@dataclass(frozen=True)
class Tolerance:
    """One tolerance rule with the reason it exists."""

    rtol: float = 0.0
    atol: float = 0.0
    reason: str = ""


@dataclass
class Tolerances:
    """Tolerance rules: a default, per metric and per method; the widest that applies wins.

    >>> t = Tolerances(default=Tolerance(1e-6), metrics={"VIF": Tolerance(1e-3)})
    >>> t.for_value("avg", "VIF", 2.0), t.for_value("avg", "EN", 2.0)
    (0.002, 2e-06)
    """

    default: Tolerance = field(default_factory=lambda: Tolerance(DEFAULT_RTOL, DEFAULT_ATOL))
    metrics: dict[str, Tolerance] = field(default_factory=dict)
    methods: dict[str, Tolerance] = field(default_factory=dict)
    override: Tolerance | None = None

    def rule(self, method: str, metric: str) -> tuple[float, float]:
        """``(rtol, atol)`` for one method and metric."""
        if self.override is not None:
            return self.override.rtol, self.override.atol
        rules = [self.default]
        rules += [r for r in (self.metrics.get(metric), self.methods.get(method)) if r]
        return max(r.rtol for r in rules), max(r.atol for r in rules)

    def for_value(self, method: str, metric: str, reference: float) -> float:
        """The absolute tolerance around one reference value."""
        rtol, atol = self.rule(method, metric)
        return max(atol, rtol * abs(reference)) if math.isfinite(reference) else atol


def _tolerance(spec: Any, where: str) -> Tolerance:
    if not isinstance(spec, dict):
        raise RegressionError(f"{where} must be a table with rtol, atol and reason")
    unknown = set(spec) - {"rtol", "atol", "reason"}
    if unknown:
        raise RegressionError(f"{where}: unknown keys {sorted(unknown)} (use rtol, atol, reason)")
    try:
        rtol, atol = float(spec.get("rtol", 0.0)), float(spec.get("atol", 0.0))
    except (TypeError, ValueError) as exc:
        raise RegressionError(f"{where}: rtol and atol must be numbers ({exc})") from None
    if rtol < 0 or atol < 0 or not (math.isfinite(rtol) and math.isfinite(atol)):
        raise RegressionError(f"{where}: rtol and atol must be finite and >= 0")
    if not str(spec.get("reason", "")).strip():
        raise RegressionError(f"{where}: every tolerance needs a reason")
    return Tolerance(rtol, atol, str(spec["reason"]).strip())


def load_tolerances(path: Path | None) -> Tolerances:
    """Read a ``tolerances.toml``; ``None`` or an absent file gives the strict default."""
    if path is None or not Path(path).is_file():
        return Tolerances()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegressionError(f"{path}: cannot read tolerances ({exc})") from exc
    unknown = set(data) - {"default", "metrics", "methods"}
    if unknown:
        raise RegressionError(f"{path}: unknown tables {sorted(unknown)} "
                              "(use [default], [metrics.NAME], [methods.NAME])")
    default = (_tolerance(data["default"], f"{path} [default]") if "default" in data
               else Tolerances().default)
    return Tolerances(
        default=default,
        metrics={k: _tolerance(v, f"{path} [metrics.{k}]")
                 for k, v in data.get("metrics", {}).items()},
        methods={k: _tolerance(v, f"{path} [methods.{k}]")
                 for k, v in data.get("methods", {}).items()})


