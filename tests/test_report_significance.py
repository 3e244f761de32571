"""Wilcoxon best-vs-other tests, checked against scipy called directly."""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import wilcoxon

from fusionbench.report.significance import significance, wilcoxon_pair
from fusionbench.report.tables import summary_table

A = [3.1, 2.9, 3.5, 4.0, 3.3, 3.8, 2.7, 3.6]
B = [2.0, 3.0, 2.5, 3.1, 2.2, 3.9, 1.5, 2.4]


def _frame(values: dict[str, list[float]], metric: str = "EN") -> pd.DataFrame:
    rows = [{"method": m, "dataset": "d", "subset": "all", "pair": f"p{i}", "metric": metric,
             "convention": "standard", "value": v}
            for m, vals in values.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows)


def test_matches_scipy_directly() -> None:
    comp = wilcoxon_pair(_frame({"a": A, "b": B}), "a", "b", "EN")
    ref = wilcoxon(A, B)
    assert comp.n == 8
    assert comp.statistic == ref.statistic and comp.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_only_common_pairs_are_used() -> None:
    frame = _frame({"a": A, "b": B + [9.0, 9.0]})  # b has 2 extra pairs a lacks
    comp = wilcoxon_pair(frame, "a", "b", "EN")
    assert comp.n == 8 and comp.p_value == pytest.approx(wilcoxon(A, B).pvalue, rel=1e-12)


def test_small_n_and_zero_differences_are_na_not_errors() -> None:
    small = wilcoxon_pair(_frame({"a": A[:5], "b": B[:5]}), "a", "b", "EN")
    assert small.p_value is None and "only 5 common pairs" in small.text
    same = wilcoxon_pair(_frame({"a": A, "b": A}), "a", "b", "EN")
    assert same.p_value is None and same.text == "n/a: all differences are zero"


def test_best_per_column_respects_direction() -> None:
    frame = _frame({"a": A, "b": B}, metric="RMSE")  # lower is better: b is best
    table = summary_table(frame, "d", "all", "standard")
    comps = significance(table, frame)
    assert [(c.best, c.other) for c in comps] == [("b", "a")]
    assert comps[0].p_value == pytest.approx(wilcoxon(B, A).pvalue, rel=1e-12)
