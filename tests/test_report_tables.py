"""Summary tables against the hand-computed toy results (see test_report_fixtures)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from test_report_fixtures import EXPECTED, make_results

from fusionbench.report.load import ReportError, load_results
from fusionbench.report.tables import metric_order, rank_values, summary_table, table_frame


@pytest.fixture()
def toy_table(tmp_path: Path):
    results = load_results(make_results(tmp_path))
    return summary_table(results.scores, "toy", "all", "standard", n_pairs=3)


def test_means_std_n_and_ranks_match_hand_computed(toy_table) -> None:
    assert [c.name for c in toy_table.columns] == ["EN", "SD", "RMSE"]
    assert [r.method for r in toy_table.rows] == ["alpha", "beta", "gamma"]
    seen = 0
    for row in toy_table.rows:
        for col, cell in zip(toy_table.columns, row.cells, strict=True):
            if (row.method, col.name) not in EXPECTED:
                continue
            mean, std, n, rank = EXPECTED[(row.method, col.name)]
            assert cell.mean == pytest.approx(mean, abs=1e-12)
            assert cell.std == pytest.approx(std, abs=1e-12)
            assert (cell.n, cell.rank) == (n, rank), (row.method, col.name)
            seen += 1
    assert seen == len(EXPECTED)


def test_nan_is_never_ranked_and_lower_is_better_for_rmse(toy_table) -> None:
    beta = next(r for r in toy_table.rows if r.method == "beta")
    sd = beta.cells[1]
    assert math.isnan(sd.mean) and sd.n == 0 and sd.rank is None
    rmse = {r.method: r.cells[2].rank for r in toy_table.rows}
    assert rmse == {"alpha": 1, "gamma": 1, "beta": 2}  # 1.0 == 1.0 < 3.0


def test_n_column_shown_when_counts_differ(toy_table) -> None:
    assert toy_table.show_n  # gamma covers 2 of 3 pairs
    assert {r.method: r.n for r in toy_table.rows} == {"alpha": 3, "beta": 3, "gamma": 2}
    frame = table_frame(toy_table)
    assert len(frame) == 9 and set(frame["metric"]) == {"EN", "SD", "RMSE"}


def test_rank_values_ties_rounding_and_direction() -> None:
    assert rank_values([0.30001, 0.29999, 0.1], True, digits=3) == [1, 1, 2]
    assert rank_values([0.30001, 0.29999, 0.1], True) == [1, 2, 3]
    assert rank_values([2.0, float("nan"), 1.0, 3.0], False) == [2, None, 1, 3]
    assert rank_values([1.0, 2.0], None) == [None, None]


def test_metric_order_paper_first_then_alphabetical() -> None:
    assert metric_order(["SSIM", "Qabf", "SF", "CE", "MI", "EN"]) == [
        "EN", "MI", "SF", "CE", "Qabf", "SSIM"]


def test_loader_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="does not exist"):
        load_results(tmp_path / "missing")
    with pytest.raises(ReportError, match="no runs found"):
        load_results(tmp_path)
    root = make_results(tmp_path / "r")
    scores = root / "toy/all/alpha/scores.csv"
    scores.write_text(scores.read_text().replace("standard,1\n", "standard,oops\n", 1))
    with pytest.raises(ReportError, match=r"scores.csv: column 'value' row \d+ is not a number"):
        load_results(root)
    scores.write_text("method,pair\nalpha,p1\n")
    with pytest.raises(ReportError, match="missing column"):
        load_results(root)
