"""Comparable tables against hand-computed toy results (see test_report_fixtures)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from test_report_fixtures import EXPECTED, EXPECTED_SHARED, make_results

from fusionbench.report.build import build_report
from fusionbench.report.load import ReportError, load_results
from fusionbench.report.tables import (
    comparable_tables,
    metric_order,
    rank_values,
    table_frame,
    wide_scores,
)


def _tables(scores: pd.DataFrame, methods=None, **kw):
    wide = wide_scores(scores, "toy", "all", "standard")
    methods = methods or sorted(set(scores["method"]))
    return comparable_tables(wide, "toy", "all", "standard", methods=methods, **kw)


@pytest.fixture()
def toy_tables(tmp_path: Path):
    results = load_results(make_results(tmp_path))
    return _tables(results.scores, n_pairs=3)


def test_main_table_ranks_only_methods_on_all_pairs(toy_tables) -> None:
    main, shared = toy_tables
    assert [c.name for c in main.columns] == ["EN", "SD", "RMSE"]
    assert [(r.method, r.ranked) for r in main.rows] == [
        ("alpha", True), ("beta", True), ("gamma", False)]
    assert main.pairs == ("p1", "p2", "p3") and main.n_pairs == 3
    seen = 0
    for row in main.rows:
        for col, cell in zip(main.columns, row.cells, strict=True):
            if (row.method, col.name) not in EXPECTED:
                continue
            mean, std, n, rank = EXPECTED[(row.method, col.name)]
            assert cell.mean == pytest.approx(mean, abs=1e-12)
            assert cell.std == pytest.approx(std, abs=1e-12)
            assert (cell.n, cell.rank) == (n, rank), (row.method, col.name)
            seen += 1
    assert seen == len(EXPECTED)


def test_shared_table_ranks_everyone_on_the_common_pairs(toy_tables) -> None:
    shared = toy_tables[1]
    assert shared.scope == "shared" and shared.pairs == ("p1", "p2")
    assert all(r.ranked for r in shared.rows)
    assert "on the 2 pairs all 3 methods share" in shared.caption
    got = {(r.method, c.name): (cell.mean, cell.rank) for r in shared.rows
           for c, cell in zip(shared.columns, r.cells, strict=True) if cell.n}
    assert got == EXPECTED_SHARED  # exact: means of small integers


def test_no_shared_table_when_every_method_is_complete(tmp_path: Path) -> None:
    scores = {"alpha": {"EN": [1, 2, 3]}, "beta": {"EN": [2, 2, 2]}}
    tables = _tables(load_results(make_results(tmp_path, scores=scores)).scores)
    assert [t.scope for t in tables] == ["main"] and not tables[0].partial_rows


def test_a_partial_method_with_better_values_is_never_marked(tmp_path: Path) -> None:
    """The issue's case: a method on 2 of 8 pairs with the best values, an interrupted run."""
    pairs = tuple(f"p{i}" for i in range(8))
    scores = {"full1": {"EN": [5, 6, 5, 6, 5, 6, 5, 6]}, "full2": {"EN": [4] * 8},
              "paperlike": {"EN": [9, 9]}, "killed": {"EN": [8, 8, 8, 8]}}
    root = make_results(tmp_path, scores=scores, pairs=pairs,
                        manifest={"killed": {"interrupted": True}},
                        status={"paperlike": {p: "missing" for p in pairs[2:]},
                                "killed": {p: "absent" for p in pairs[4:]}})
    index = build_report(root, tmp_path / "out", formats=["md", "csv"], figures=False,
                         paper_scores=None)
    report = json.loads((index / "report.json").read_text())
    main = next(t for t in report["tables"] if t["table"] == "main")
    rows = {r["method"]: r for r in main["rows"]}
    assert main["ranked_set"] == ["full1", "full2"] and main["n_pairs_table"] == 8
    cell = rows["paperlike"]["cells"]["EN"]
    assert {k: cell[k] for k in ("mean", "std", "n", "rank")} == pytest.approx(
        {"mean": 9.0, "std": 0.0, "n": 2, "rank": None})
    assert (cell["note"], cell["nonfinite"]) == ("", [])
    assert rows["killed"]["cells"]["EN"]["rank"] is None and not rows["killed"]["ranked"]
    assert rows["full1"]["cells"]["EN"]["rank"] == 1
    assert rows["killed"]["label"] == "killed [interrupted (4 of 8 pairs)]"
    assert rows["paperlike"]["label"] == "paperlike [no output for 6 pair(s)]"
    shared = next(t for t in report["tables"] if t["table"] == "shared")
    assert shared["pairs"] == ["p0", "p1"] and len(shared["ranked_set"]) == 4
    # Tests only among ranked rows, over the 8 pairs of the main table (n shown).
    assert {(s["other"], s["n_common_pairs"]) for s in main["significance"]} == {("full2", 8)}
    md = (index / "tables.md").read_text()
    assert "partial coverage — not ranked" in md
    assert "| killed \\[interrupted (4 of 8 pairs)\\] | 4 | 8.0000 ± 0.0000 |" in md


def test_without_a_complete_method_the_largest_common_set_is_ranked(tmp_path: Path) -> None:
    scores = {"a": {"EN": [1, 2]}, "b": {"EN": [3, 4]}, "c": {"EN": [5]}}
    main, shared = _tables(load_results(make_results(tmp_path, scores=scores)).scores,
                           n_pairs=3)
    assert main.pairs == ("p1", "p2") and [r.method for r in main.ranked_rows] == ["a", "b"]
    assert "same 2 of 3 pairs" in main.caption
    assert shared.pairs == ("p1",)


def test_order_metrics_and_labels_are_kept(toy_tables, tmp_path: Path) -> None:
    scores = load_results(make_results(tmp_path)).scores
    main = _tables(scores, methods=["gamma", "beta", "alpha"], metrics=["RMSE", "EN"],
                   labels={"beta": "Beta (display)"})[0]
    assert [r.method for r in main.rows] == ["beta", "alpha", "gamma"]  # ranked, then partial
    assert [c.name for c in main.columns] == ["RMSE", "EN"]
    assert main.rows[0].label == "Beta (display)"


def test_nan_cells_are_not_ranked_and_n_column_shown(toy_tables) -> None:
    main = toy_tables[0]
    beta = next(r for r in main.rows if r.method == "beta")
    assert math.isnan(beta.cells[1].mean) and beta.cells[1].n == 0 and beta.cells[1].rank is None
    assert main.show_n
    frame = table_frame(main)
    assert len(frame) == 9 and set(frame["table"]) == {"main"}
    assert frame.loc[frame["method"] == "gamma", "ranked_set"].eq(False).all()


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
