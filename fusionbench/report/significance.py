"""Paired significance: the best method of a column vs every other, Wilcoxon signed-rank.

Only pairs that both methods scored (finite values) are compared. Fewer than
:data:`MIN_PAIRS` common pairs, or all differences zero, give ``p = None`` with the reason in
``note`` instead of an error.

>>> import pandas as pd
>>> df = pd.DataFrame({"method": ["a"] * 3 + ["b"] * 3, "dataset": "d", "subset": "all",
...                    "pair": ["p1", "p2", "p3"] * 2, "metric": "EN",
...                    "convention": "standard", "value": [1, 2, 3, 0, 1, 2]})
>>> wilcoxon_pair(df, "a", "b", "EN").note
'n/a: only 3 common pairs (need at least 6)'
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import pandas as pd

from fusionbench.report.tables import SummaryTable

MIN_PAIRS = 6


@dataclass(frozen=True)
class Comparison:
    """Result of one best-vs-other test on one metric."""

    metric: str
    best: str
    other: str
    n: int
    statistic: float | None
    p_value: float | None
    note: str

    @property
    def text(self) -> str:
        """Short display text: ``p=0.0312 (n=20)`` or the n/a reason."""
        if self.p_value is None:
            return self.note
        return f"p={self.p_value:.3g} (n={self.n})"


def _paired(scores: pd.DataFrame, a: str, b: str, metric: str) -> pd.DataFrame:
    sel = scores[(scores["metric"] == metric) & scores["method"].isin([a, b])]
    sel = sel[pd.notna(sel["value"]) & sel["value"].map(lambda v: math.isfinite(float(v)))]
    wide = sel.pivot_table(index="pair", columns="method", values="value", aggfunc="mean")
    if a not in wide.columns or b not in wide.columns:
        return pd.DataFrame(columns=[a, b])
    return wide[[a, b]].dropna()


def wilcoxon_pair(scores: pd.DataFrame, best: str, other: str, metric: str) -> Comparison:
    """Wilcoxon signed-rank test of ``best`` vs ``other`` on their common pairs.

    ``scores`` must already be restricted to one dataset, subset and convention.
    """
    from scipy.stats import wilcoxon

    wide = _paired(scores, best, other, metric)
    n = len(wide)
    if n < MIN_PAIRS:
        return Comparison(metric, best, other, n, None, None,
                          f"n/a: only {n} common pairs (need at least {MIN_PAIRS})")
    diff = wide[best].to_numpy(float) - wide[other].to_numpy(float)
    if not diff.any():
        return Comparison(metric, best, other, n, None, None, "n/a: all differences are zero")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = wilcoxon(wide[best].to_numpy(float), wide[other].to_numpy(float))
    except ValueError as exc:
        return Comparison(metric, best, other, n, None, None, f"n/a: {exc}")
    return Comparison(metric, best, other, n, float(res.statistic), float(res.pvalue),
                      "two-sided Wilcoxon signed-rank, zero differences dropped")


def significance(table: SummaryTable, scores: pd.DataFrame) -> list[Comparison]:
    """Per column of ``table``: its best method (first in row order among rank 1) vs the rest.

    Columns without a ranked best (unknown direction or all NaN) are skipped.
    """
    sel = scores[(scores["dataset"] == table.dataset) & (scores["subset"] == table.subset)
                 & (scores["convention"] == table.convention)]
    out: list[Comparison] = []
    for j, col in enumerate(table.columns):
        best = next((r.method for r in table.rows if r.cells[j].rank == 1), None)
        if best is None:
            continue
        for row in table.rows:
            if row.method != best:
                out.append(wilcoxon_pair(sel, best, row.method, col.name))
    return out


def significance_frame(table: SummaryTable, comparisons: list[Comparison]) -> pd.DataFrame:
    """Comparisons as a tidy frame for CSV output."""
    return pd.DataFrame.from_records([
        {"dataset": table.dataset, "subset": table.subset, "convention": table.convention,
         "metric": c.metric, "best": c.best, "other": c.other, "n_common_pairs": c.n,
         "statistic": c.statistic, "p_value": c.p_value, "note": c.note}
        for c in comparisons
    ], columns=["dataset", "subset", "convention", "metric", "best", "other", "n_common_pairs",
                "statistic", "p_value", "note"])
