"""How results read on the screen (:mod:`fusionbench.presenting`), from results built here by
hand: which stream each line goes to, the "+N more" limits, the mean table's order."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fusionbench.commands import RunDone, RunSkipped, SubsetCheck
from fusionbench.presenting import (
    Line,
    format_check,
    format_clean,
    format_event,
    format_means,
    format_run,
    format_verify,
)
from fusionbench.runner import RunSummary
from fusionbench.store import RunPaths
from fusionbench.store.clean import DroppedRun
from fusionbench.store.verify import Problem

PATHS = RunPaths(Path("/r"), "tno", "all", "average")


def _scores(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    """Score rows (pair, metric, convention, value, reason) of the run at :data:`PATHS`."""
    return pd.DataFrame([("average", "tno", "all", pair, metric, conv, value, reason)
                         for pair, metric, conv, value, reason in rows],
                        columns=["method", "dataset", "subset", "pair", "metric", "convention",
                                 "value", "reason"])


def test_a_run_summary_puts_the_counts_on_stdout_and_the_notes_on_stderr() -> None:
    summary = RunSummary(paths=PATHS, n_pairs=14, ok=["p1", "p2"], skipped=1,
                         failed={"p9": "cannot decode image", "p3": "too small"},
                         changed=[f"c{i:02d}" for i in range(12)], dropped=(5, 30),
                         missing=["m1"])
    lines = format_run(RunDone(summary, ("standard",), _scores([])))
    assert [line.err for line in lines] == [True, False, True, True, True, False]
    assert lines[0].text == "dropped (--force): /r/tno/all/average (5 pairs, 30 scores)"
    assert lines[1].text == ("average | tno/all: 2 of 14 pairs scored (1 already done), "
                             "2 failed, 1 not covered -> /r/tno/all/average")
    assert lines[2].text.endswith(": c00, c01, c02, c03, c04, c05, c06, c07, c08, c09 (+2 more)")
    assert [line.text for line in lines[3:5]] == ["  FAILED p3: too small",
                                                  "  FAILED p9: cannot decode image"]
    assert lines[5].text.startswith("  published outputs cover 13 of 14 pairs; not covered (1, "
                                    "status 'missing' in pairs.csv")


def test_the_mean_table_follows_the_profiles_and_lists_each_nan_on_stderr() -> None:
    nan = float("nan")
    scores = _scores([("p1", "SD", "tang2022", 2.0, ""), ("p1", "EN", "tang2022", 6.0, ""),
                      ("p1", "EN", "standard", 7.0, ""), ("p2", "EN", "standard", 8.0, ""),
                      ("p1", "VIF", "standard", 0.5, ""),
                      ("p2", "VIF", "standard", nan, "VIF is NaN: flat")])
    head, table, *nans = format_means(scores, ("tang2022", "standard"))
    assert head == Line("mean over 2 scored pairs (convention in the first column; NaN values "
                        "are listed below and left out of their mean):")
    body = table.text.splitlines()
    assert body[0].split() == ["metric", "EN", "VIF", "SD"]  # the paper's metric order
    assert [row.split()[0] for row in body[2:]] == ["tang2022", "standard"]
    assert body[3].split()[1:3] == ["7.5000", "0.5000"]  # EN: mean of 7 and 8; VIF: NaN out
    assert nans == [Line("  VIF (standard): n = 1 of 2; 1 NaN: p2 (VIF is NaN: flat)",
                         err=True)]
    assert format_means(_scores([]), ("standard",)) == []


def test_each_event_has_its_lines() -> None:
    assert format_event(RunSkipped("m", "tno", "all")) == [
        Line("m: skipped on tno/all (no published outputs there)", err=True)]


def test_store_commands_say_what_they_did_or_that_there_was_nothing() -> None:
    dropped = [DroppedRun(Path("/r/tno/all/x"), 3, 9)]
    assert format_clean(dropped, Path("/r"), dry_run=True) == [
        Line("would drop (pass --yes to delete): /r/tno/all/x (3 pairs, 9 scores)")]
    assert format_clean(dropped, Path("/r"), dry_run=False)[0].text.startswith("dropped: ")
    assert format_clean([], Path("/r"), dry_run=False) == [
        Line("no stored run under /r matches")]
    assert format_verify([], Path("/r")) == [
        Line("/r: the store and every file beside it agree")]
    assert format_verify([Problem(Path("/r/a.csv"), "edited")], Path("/r")) == [
        Line("/r/a.csv: edited")]


def test_a_dataset_check_lists_problems_under_their_subset() -> None:
    lines = format_check([SubsetCheck("ds", "a", 2, ("x.png: missing partner",)),
                          SubsetCheck("ds", "b", absent=True)])
    assert [str(line) for line in lines] == ["ds/a: 2 pairs, 1 problem(s)",
                                            "  - x.png: missing partner",
                                            "ds/b: optional subset not present (skipped)"]
