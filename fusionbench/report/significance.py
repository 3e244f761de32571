"""Paired significance: per column, the best ranked method vs every other ranked method.

Two-sided Wilcoxon signed-rank tests (scipy, zero differences dropped) over the table's own pair
set only (the pairs every ranked method was scored on), restricted to pairs where both values are
finite. The p-values of one column's comparisons are corrected together with Holm's step-down
method. Fewer than :data:`MIN_PAIRS` pairs, or all differences zero, give ``p = None`` with the
reason in ``note``; such comparisons are not part of the Holm family.

>>> holm([0.01, 0.04, 0.03])
[0.03, 0.06, 0.06]
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from fusionbench.report.tables import SummaryTable

MIN_PAIRS = 6


@dataclass(frozen=True)
class Comparison:
    """One best-vs-other test on one metric; ``p_holm`` is Holm-corrected within the column."""

    metric: str
    best: str
    other: str
    n: int
    statistic: float | None
    p_value: float | None
    note: str
    p_holm: float | None = None

    @property
    def text(self) -> str:
        """Short display text: ``p=0.0312, Holm 0.0624 (n=20)`` or the n/a reason."""
        if self.p_value is None:
            return self.note
        holm_text = f", Holm {self.p_holm:.3g}" if self.p_holm is not None else ""
        return f"p={self.p_value:.3g}{holm_text} (n={self.n})"


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values (monotone, capped at 1), in the input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (m - step) * p_values[i]))
        adjusted[i] = round(running, 15)
    return adjusted


def wilcoxon_arrays(a: np.ndarray, b: np.ndarray, metric: str, best: str,
                    other: str) -> Comparison:
    """Wilcoxon signed-rank test of ``a`` (best) vs ``b`` over positions where both are finite."""
    from scipy.stats import wilcoxon

    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    n = int(a.size)
    if n < MIN_PAIRS:
        return Comparison(metric, best, other, n, None, None,
                          f"n/a: only {n} common pairs (need at least {MIN_PAIRS})")
    if not (a - b).any():
        return Comparison(metric, best, other, n, None, None, "n/a: all differences are zero")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = wilcoxon(a, b)
    except ValueError as exc:
        return Comparison(metric, best, other, n, None, None, f"n/a: {exc}")
    return Comparison(metric, best, other, n, float(res.statistic), float(res.pvalue),
                      "two-sided Wilcoxon signed-rank, zero differences dropped")


def _column(wide: pd.DataFrame, method: str, metric: str, pairs: Sequence[str]) -> np.ndarray:
    if (method, metric) not in wide.columns:
        return np.full(len(pairs), math.nan)
    return wide[(method, metric)].reindex(list(pairs)).to_numpy(float)


def significance(table: SummaryTable, wide: pd.DataFrame) -> list[Comparison]:
    """Per column of ``table``: its best ranked method (first rank-1 row) vs the other ranked
    rows, over ``table.pairs``, Holm-corrected within the column.

    ``wide`` is :func:`fusionbench.report.tables.wide_scores` of the table's subset and
    convention. Columns without a ranked best are skipped.
    """
    out: list[Comparison] = []
    ranked = table.ranked_rows
    for j, col in enumerate(table.columns):
        best = next((r.method for r in ranked if r.cells[j].rank == 1), None)
        if best is None:
            continue
        a = _column(wide, best, col.name, table.pairs)
        comps = [wilcoxon_arrays(a, _column(wide, r.method, col.name, table.pairs), col.name,
                                 best, r.method)
                 for r in ranked if r.method != best and math.isfinite(r.cells[j].mean)]
        tested = [i for i, c in enumerate(comps) if c.p_value is not None]
        adjusted = holm([comps[i].p_value for i in tested])  # type: ignore[misc]
        for i, p in zip(tested, adjusted, strict=True):
            comps[i] = replace(comps[i], p_holm=p)
        out.extend(comps)
    return out


def significance_records(table: SummaryTable, comparisons: list[Comparison]) -> list[dict]:
    """Comparisons as tidy records for CSV and JSON output."""
    return [{"dataset": table.dataset, "subset": table.subset, "convention": table.convention,
             "table": table.scope, "metric": c.metric, "best": c.best, "other": c.other,
             "n_common_pairs": c.n, "statistic": c.statistic, "p_value": c.p_value,
             "p_holm": c.p_holm, "note": c.note} for c in comparisons]
