"""Hostile report options (issue 13): a broken ``--template-dir`` template and an unwritable
output folder (``report``, ``regress --update``) end in one line naming the file or folder, not
a traceback."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from cli_exit import main_exit_code
from test_report_fixtures import make_results
from unwritable import refuse_writes_under

from fusionbench.errors import EXIT_OUTPUT, TemplateError


@pytest.mark.parametrize("text,words", [
    ("{% for x in %}\n", "line 1: Expected an expression"),
    ("{{ no_such_variable.x }}\n", "UndefinedError"),
])
def test_broken_template_names_its_file(tmp_path: Path, capsys: pytest.CaptureFixture,
                                        text: str, words: str) -> None:
    results = make_results(tmp_path / "res")
    templates = tmp_path / "tpl"
    templates.mkdir()
    (templates / "report.md.j2").write_text(text)
    code = main_exit_code(["report", "--results", str(results), "--out", str(tmp_path / "out"),
                  "--format", "md", "--no-progress", "--template-dir", str(templates)])
    err = capsys.readouterr().err
    assert code == TemplateError("x").exit_code == 1, err
    assert "Traceback" not in err and words in err
    assert err.startswith(f"error: template {templates / 'report.md.j2'}")


@pytest.mark.parametrize("exists", [False, True])
def test_read_only_report_folder_is_one_line_exit_6(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture,
                                                    exists: bool) -> None:
    results = make_results(tmp_path / "res")
    out = tmp_path / "out"
    if exists:
        out.mkdir()
    refuse_writes_under(monkeypatch, out)
    code = main_exit_code(["report", "--results", str(results), "--out", str(out), "--format", "md",
                  "--no-figures"])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err and "read-only" in err
    assert err.startswith(f"error: cannot write in {out}")


@pytest.mark.parametrize("figures", [False, True])
def test_disk_full_during_report_is_one_line_exit_6(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture,
                                                   figures: bool) -> None:
    results = make_results(tmp_path / "res")
    out = tmp_path / "out"
    (out / "assets").mkdir(parents=True)  # the folders exist; writing a file fails
    refuse_writes_under(monkeypatch, out, errno.ENOSPC)
    code = main_exit_code(["report", "--results", str(results), "--out", str(out),
                           "--no-progress", *([] if figures else ["--no-figures"])])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith(f"error: cannot write in {out}") and "the disk is full" in err


def test_regress_update_into_a_read_only_folder_is_one_line_exit_6(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    results = make_results(tmp_path / "res")
    ci = tmp_path / "ci"
    ci.mkdir()
    refuse_writes_under(monkeypatch, ci)
    code = main_exit_code(["regress", "--reference", str(ci / "reference.csv"), "--results",
                  str(results), "--update"])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err and err.startswith(f"error: cannot write in {ci}")


# ------------------------------------------------------------------ NaN scores are shown

def _constant_pair_results(tmp_path: Path, capsys: pytest.CaptureFixture) -> tuple[Path, str]:
    """``eval`` of a 3-pair folder whose pair ``flat`` is constant (VIF 0/0 = NaN there)."""
    import numpy as np

    from fusionbench.imageio import write_image

    rng = np.random.default_rng(0)
    dataset, fused = tmp_path / "cds", tmp_path / "fused"
    for role in ("ir", "vi"):
        (dataset / role).mkdir(parents=True)
        for pair in ("p1", "p2"):
            write_image(dataset / role / f"{pair}.png",
                        rng.integers(0, 255, (32, 40)).astype(np.uint8))
        write_image(dataset / role / "flat.png", np.full((32, 40), 128, np.uint8))
    fused.mkdir()
    for pair in ("p1", "p2", "flat"):
        (fused / f"{pair}.png").write_bytes((dataset / "ir" / f"{pair}.png").read_bytes())
    results = tmp_path / "res"
    code = main_exit_code(["eval", "--fused", str(fused), "--dataset", str(dataset), "--name",
                           "con", "--out", str(results), "--profile", "standard",
                           "--metrics", "EN,VIF", "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return results, captured.out + captured.err


def test_a_nan_score_is_shown_in_every_report_format(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    import json

    import numpy as np
    import pandas as pd

    from fusionbench.report.load import load_results

    results, eval_out = _constant_pair_results(tmp_path, capsys)
    # the eval summary does not claim a mean over 3 pairs for VIF
    assert "VIF (standard): n = 2 of 3; 1 NaN: flat (VIF is NaN" in eval_out
    scores = load_results(results).scores
    vif = scores[scores["metric"] == "VIF"].set_index("pair")["value"]
    assert np.isnan(vif["flat"]) and np.isfinite(vif[["p1", "p2"]]).all()  # kept as a NaN row
    out = tmp_path / "rep"
    code = main_exit_code(["report", "--results", str(results), "--out", str(out),
                           "--format", "md", "--format", "tex", "--format", "html",
                           "--format", "csv", "--no-figures", "--no-progress"])
    assert code == 0, capsys.readouterr().err
    note = "(n = 2 of 3; 1 NaN: flat)"
    mean = f"{vif[['p1', 'p2']].mean():.4f}"  # the mean over the two finite values
    md = (out / "tables.md").read_text()
    assert f"| {mean} ± " in md and f"{note} |" in md
    assert "- con, VIF: NaN for flat" in md
    assert note in (out / "tables.tex").read_text()
    html = (out / "index.html").read_text()
    assert f'<span class="n nonfinite">{note}</span>' in html and "con, VIF: NaN for flat" in html
    report = json.loads((out / "report.json").read_text())
    cells = report["tables"][0]["rows"][0]["cells"]
    assert cells["VIF"]["n"] == 2 and cells["VIF"]["rank"] is None  # never ranked as if over 3
    assert cells["VIF"]["mean"] == pytest.approx(float(mean), abs=1e-4)
    assert [v["pair"] for v in cells["VIF"]["nonfinite"]] == ["flat"]
    assert cells["EN"]["n"] == 3 and cells["EN"]["nonfinite"] == [] and cells["EN"]["rank"] == 1
    csv_rows = pd.read_csv(out / "tables.csv").set_index("metric")
    assert csv_rows.loc["VIF", "n_nonfinite"] == 1 and csv_rows.loc["VIF", "nonfinite_pairs"] \
        == "flat"


def test_nan_reason_is_listed_and_a_nan_pair_counts_as_scored() -> None:
    import pandas as pd

    from fusionbench.report.tables import comparable_tables, nonfinite_scores, wide_scores

    reason = "VIF is NaN: source a is constant (0/0)"
    scores = pd.DataFrame({
        "method": ["a", "a", "b", "b"], "dataset": "d", "subset": "all",
        "pair": ["p1", "flat", "p1", "flat"], "metric": "VIF", "convention": "standard",
        "value": [0.5, float("nan"), 0.6, 0.7], "reason": ["", reason, "", ""]})
    wide = wide_scores(scores, "d", "all", "standard")
    (main,) = comparable_tables(wide, "d", "all", "standard", methods=["a", "b"],
                                nonfinite=nonfinite_scores(scores, "d", "all", "standard"))
    rows = {r.method: r for r in main.rows}
    # a was scored on both pairs (one value is NaN): it stays in the ranked set, but its VIF
    # mean over 1 pair is neither ranked nor passed off as a mean over 2
    assert rows["a"].ranked and main.pairs == ("flat", "p1")
    assert (rows["a"].cells[0].mean, rows["a"].cells[0].n, rows["a"].cells[0].rank) == (
        0.5, 1, None)
    assert rows["a"].cells[0].note(rows["a"].n) == "(n = 1 of 2; 1 NaN: flat)"
    assert rows["b"].cells[0].rank == 1
    assert main.nonfinite_notes == [f"a, VIF: NaN for flat ({reason})"]


def test_a_nan_score_is_stated_beside_the_paper_table(tmp_path: Path) -> None:
    import csv

    from fusionbench.report.build import build_report

    paper = tmp_path / "paper.csv"
    paper.write_text("table,dataset,method,n_pairs,metric,value\nII,tno,CLF-Net,20,EN,2.5\n")
    tang = {"clfnet": {"EN": [1.0, float("nan"), 3.0]}}
    root = make_results(tmp_path / "res", dataset="tno", extra_conventions={"tang2022": tang},
                        manifest={"clfnet": {"method_kind": "network"}})
    out = build_report(root, tmp_path / "out", formats=["csv", "md"], figures=False,
                       paper_scores=paper)
    with (out / "paper_vs_measured.csv").open() as fh:
        (row,) = [r for r in csv.DictReader(fh) if r["method"] == "clfnet"]
    # the measured mean is over the two finite values, and says so
    assert (float(row["measured"]), row["n_pairs_measured"], row["n_nonfinite_measured"]) == (
        2.0, "2", "1")
    md = (out / "tables.md").read_text()
    assert "EN measured: n = 2 of 3; 1 NaN: p2 (left out of the measured mean)" in md


def test_box_plot_says_how_many_values_are_not_finite(tmp_path: Path) -> None:
    from fusionbench.report.build import build_report

    # the toy results: beta's SD is NaN on all 3 pairs (test_report_fixtures)
    out = build_report(make_results(tmp_path / "res"), tmp_path / "out", formats=["csv"])
    svg = (out / "assets" / "box_toy__all__standard__main.svg").read_text()
    # matplotlib's SVG keeps each line of text as a comment: under beta's empty SD box
    assert svg.count("<!-- n=0 -->") == 1 and svg.count("<!-- +3 not finite -->") == 1


def test_metric_warnings_recorded_for_a_pair_are_shown_in_the_report(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    import json

    results, _ = _constant_pair_results(tmp_path, capsys)  # pair flat: a constant fused image
    out = tmp_path / "rep"
    code = main_exit_code(["report", "--results", str(results), "--out", str(out),
                           "--format", "md", "--format", "html", "--no-figures",
                           "--no-progress"])
    assert code == 0, capsys.readouterr().err
    line = "con: metric warning for 1 pair(s) (flat): fused image fused is constant"
    assert f"> {line}" in (out / "tables.md").read_text()
    html = (out / "index.html").read_text()
    assert line in html and "<caption>Metric warnings</caption>" in html
    (run,) = json.loads((out / "report.json").read_text())["groups"][0]["runs"]
    assert [w["pair"] for w in run["warnings"]] == ["flat"]
    assert run["warnings"][0]["warning"].startswith("fused image fused is constant")
