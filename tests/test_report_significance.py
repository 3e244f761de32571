"""Wilcoxon best-vs-other tests over a table's own pairs, Holm-corrected; checked against scipy
called directly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import wilcoxon

from fusionbench.report.significance import holm, significance, wilcoxon_arrays
from fusionbench.report.tables import comparable_tables, wide_scores

A = [3.1, 2.9, 3.5, 4.0, 3.3, 3.8, 2.7, 3.6]
B = [2.0, 3.0, 2.5, 3.1, 2.2, 3.9, 1.5, 2.4]
C = [3.0, 2.8, 3.6, 3.9, 3.0, 3.7, 2.6, 3.5]


def _frame(values: dict[str, list[float]], metric: str = "EN") -> pd.DataFrame:
    rows = [{"method": m, "dataset": "d", "subset": "all", "pair": f"p{i}", "metric": metric,
             "convention": "standard", "value": v}
            for m, vals in values.items() for i, v in enumerate(vals)]
    return pd.DataFrame(rows)


def _run(values: dict[str, list[float]], metric: str = "EN"):
    wide = wide_scores(_frame(values, metric), "d", "all", "standard")
    tables = comparable_tables(wide, "d", "all", "standard", methods=list(values))
    return tables, wide


def test_matches_scipy_directly() -> None:
    comp = wilcoxon_arrays(np.array(A), np.array(B), "EN", "a", "b")
    ref = wilcoxon(A, B)
    assert comp.n == 8
    assert comp.statistic == ref.statistic and comp.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_holm_by_hand() -> None:
    # Sorted p: 0.01 x3 = 0.03; 0.03 x2 = 0.06; 0.04 x1 = 0.04 -> raised to 0.06 (monotone).
    assert holm([0.01, 0.04, 0.03]) == [0.03, 0.06, 0.06]
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # capped at 1
    assert holm([]) == []


def test_column_is_holm_corrected_and_uses_only_the_table_pairs() -> None:
    # a is best; b, c compared with it. A partial method (d, extra pairs) is not tested.
    (main, *_), wide = _run({"a": A, "b": B, "c": C, "d": [9.0, 9.0]})
    comps = significance(main, wide)
    assert [(c.best, c.other, c.n) for c in comps] == [("a", "b", 8), ("a", "c", 8)]
    raw = [wilcoxon(A, B).pvalue, wilcoxon(A, C).pvalue]
    assert [c.p_value for c in comps] == pytest.approx(raw, rel=1e-12)
    assert [c.p_holm for c in comps] == pytest.approx(holm(raw), rel=1e-12)
    assert "Holm" in comps[0].text and "(n=8)" in comps[0].text


def test_shared_table_tests_run_over_the_shared_pairs_only() -> None:
    tables, wide = _run({"a": A, "b": B[:6] + [np.nan, np.nan]})
    shared = tables[1]
    comps = significance(shared, wide)
    assert comps[0].n == 6
    assert comps[0].p_value == pytest.approx(wilcoxon(A[:6], B[:6]).pvalue, rel=1e-12)


def test_small_n_and_zero_differences_are_na_not_errors() -> None:
    small = wilcoxon_arrays(np.array(A[:5]), np.array(B[:5]), "EN", "a", "b")
    assert small.p_value is None and "only 5 common pairs" in small.text
    same = wilcoxon_arrays(np.array(A), np.array(A), "EN", "a", "b")
    assert same.p_value is None and same.text == "n/a: all differences are zero"
    assert same.p_holm is None


def test_best_per_column_respects_direction() -> None:
    (main, *_), wide = _run({"a": A, "b": B}, metric="RMSE")  # lower is better: b is best
    comps = significance(main, wide)
    assert [(c.best, c.other) for c in comps] == [("b", "a")]
    assert comps[0].p_value == pytest.approx(wilcoxon(B, A).pvalue, rel=1e-12)
    assert comps[0].p_holm == pytest.approx(comps[0].p_value)  # a family of one
