"""Markdown / LaTeX / HTML / CSV / JSON output, escaping, template override, paper comparison."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from test_report_fixtures import SCORES, make_results

from fusionbench.errors import UsageError
from fusionbench.registry import Registry
from fusionbench.report.build import build_report
from fusionbench.report.formats import md_cell, md_code, tex_cell, tex_escape
from fusionbench.report.tables import Cell

EVIL = "<script>alert('x')</script>_50%&#${}"


def _build(root: Path, out: Path, **kw) -> Path:
    kw.setdefault("figures", False)
    kw.setdefault("paper_scores", None)
    return build_report(root, out, **kw)


def _balanced(tex: str) -> bool:
    depth = 0
    for token in re.findall(r"\\[{}]|[{}]", re.sub(r"\\\\", "", tex)):
        if token in "{}":
            depth += 1 if token == "{" else -1
            if depth < 0:
                return False
    return depth == 0


def test_cell_marks() -> None:
    assert md_cell(Cell(2.0, 1.0, 3, 1), 2, True) == "**2.00 ± 1.00**¹"
    assert md_cell(Cell(2.0, 1.0, 3, 2), 2, False) == "_2.00_²"
    assert md_cell(Cell(2.0, 1.0, 3, 3), 2, False) == "2.00³"
    assert md_cell(Cell(2.0, 1.0, 3, 4), 2, False) == "2.00"
    assert tex_cell(Cell(2.0, 1.0, 3, 1), 1, False) == r"\textcolor{red}{2.0}"
    assert tex_cell(Cell(2.0, 1.0, 3, 2), 1, True) == r"\textcolor{blue}{2.0 $\pm$ 1.0}"
    assert tex_cell(Cell(2.0, 1.0, 3, 3), 1, False) == r"\textbf{2.0}"


def test_markdown_and_latex_tables(tmp_path: Path) -> None:
    scores = {**SCORES, "my_method 100%": {"EN": [3, 3, 3]}}
    root = make_results(tmp_path / "res", scores=scores)
    _build(root, tmp_path / "out", formats=["md", "tex"])
    md = (tmp_path / "out/tables.md").read_text()
    assert "metric convention (profile) standard" in md
    # my_method (3.0) is best on EN, alpha and beta (2.0) tie second; gamma (2 of 3 pairs,
    # one failed) sits below the rule, unranked.
    assert "| my\\_method 100% | 3 | **3.0000 ± 0.0000**¹ |" in md
    assert "| alpha | 3 | _2.0000 ± 1.0000_² |" in md
    assert "| gamma \\[1 failed\\] | 2 | 1.0000 ± 0.0000 |" in md
    assert md.index("partial coverage — not ranked") < md.index("| gamma")
    tex = (tmp_path / "out/tables.tex").read_text()
    assert _balanced(tex)
    assert r"my\_method 100\%" in tex and "my_method" not in tex
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 2  # main + shared
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert "xcolor" in tex and "(profile) standard" in tex
    assert r"\textcolor{red}{3.0000 $\pm$ 0.0000}" in tex


def test_tex_escape_every_special_character() -> None:
    out = tex_escape(EVIL)
    assert _balanced(out)
    for ch in "_%&#$":
        assert "\\" + ch in out
    assert r"\{\}" in out


def test_html_escapes_malicious_names(tmp_path: Path) -> None:
    scores = {EVIL: {"EN": [1, 2, 3]}, "plain": {"EN": [1, 1, 1]}}
    root = make_results(tmp_path / "res", scores=scores, dataset="d<i>")
    index = _build(root, tmp_path / "out", formats=["html", "md", "tex", "csv"])
    html = index.read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<i>" not in html and "d&lt;i&gt;" in html
    assert "out of memory &lt;b&gt;&amp;&lt;/b&gt;" not in html  # plain has no failure
    assert "<script>" not in (tmp_path / "out/tables.md").read_text()
    assert _balanced((tmp_path / "out/tables.tex").read_text())
    with (tmp_path / "out/tables.csv").open() as fh:
        assert EVIL in {row["method"] for row in csv.DictReader(fh)}


def test_html_lists_failed_pairs_escaped(tmp_path: Path) -> None:
    html = _build(make_results(tmp_path / "res"), tmp_path / "out", formats=["html"]).read_text()
    assert "out of memory &lt;b&gt;&amp;&lt;/b&gt;" in html
    assert "1 failed" in html and "numpy" in html


def test_template_override_by_file_name(tmp_path: Path) -> None:
    custom = tmp_path / "tpl"
    custom.mkdir()
    (custom / "table.md.j2").write_text("CUSTOM {{ table.caption | md }}\n")
    _build(make_results(tmp_path / "res"), tmp_path / "out", formats=["md"],
           template_dir=custom)
    md = (tmp_path / "out/tables.md").read_text()
    assert ("CUSTOM toy — ranked: methods scored on all 3 pairs — metric convention (profile) "
            "standard") in md
    assert "# fusionbench report" in md  # the packaged report.md.j2 is still used
    with pytest.raises(UsageError, match="template-dir"):
        _build(tmp_path / "res", tmp_path / "out", template_dir=tmp_path / "nope")


def test_bad_format_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown report format"):
        _build(make_results(tmp_path / "res"), tmp_path / "out", formats=["pdf"])


def test_progress_goes_to_stderr(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from fusionbench.cli import cli

    root = make_results(tmp_path / "res")
    result = CliRunner().invoke(cli, ["report", "--results", str(root), "--out",
                                                 str(tmp_path / "out"), "--no-figures"])
    assert result.exit_code == 0, result.output
    assert "report:" in result.stderr and "step" in result.stderr
    assert "report:" not in result.stdout


def test_code_spans_have_no_backslashes(tmp_path: Path) -> None:
    root = make_results(tmp_path / "my_results_dir")
    _build(root, tmp_path / "out", formats=["md"])
    md = (tmp_path / "out/tables.md").read_text()
    assert f"`{root}`" in md and "my\\_results" not in md
    assert md_code("a`b") == "``a`b``"


PAPER_CSV = ("table,dataset,method,n_pairs,metric,value\n"
             "II,tno,CLF-Net,20,EN,2.5\nII,tno,DenseFuse,20,EN,7\nII,tno,GANMcC,20,EN,6\n"
             "IV,medical,CLF-Net,24,EN,4.8\nIV,medical,DenseFuse,24,EN,3.8\n"
             "VI,tno,CLF-Net,20,EN,9\n")


def test_paper_vs_measured_only_like_with_like(tmp_path: Path) -> None:
    paper = tmp_path / "paper.csv"
    paper.write_text(PAPER_CSV)
    tang = {"clfnet": {"EN": [1, 2, 3]}, "clfnet-paper": {"EN": [4, 4]}}
    root = make_results(tmp_path / "res", dataset="tno", extra_conventions={"tang2022": tang},
                        manifest={"clfnet": {"method_kind": "network"}})
    # Medical CT/MRI runs: the paper's Table IV is MR-T1/MR-T2, so they are not compared.
    make_results(tmp_path / "res", dataset="medical", subset="ct-mri",
                 scores={"densefuse": {"EN": [1, 1, 1]}}, convention="tang2022")
    _build(root, tmp_path / "out", formats=["csv", "md"], paper_scores=paper)
    with (tmp_path / "out/paper_vs_measured.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    measured = {r["method"]: r for r in rows if r["method"]}
    assert set(measured) == {"clfnet", "clfnet-paper"}  # table VI is not a preset's table
    assert float(measured["clfnet"]["measured"]) == 2.0
    assert float(measured["clfnet"]["difference"]) == -0.5
    assert measured["clfnet-paper"]["n_pairs_measured"] == "2"
    assert measured["clfnet"]["n_pairs_paper"] == "20"
    assert measured["clfnet"]["same_pairs"] == "False"
    status = {(r["table"], r["paper_method"]): r["status"] for r in rows if not r["method"]}
    assert status[("II", "GANMcC")] == "cannot be scored: no published fused images for tno"
    assert status[("II", "DenseFuse")] == "not measured: no run of densefuse"
    assert {r["table"] for r in rows if r["method"]} == {"II"}  # nothing medical compared
    md = (tmp_path / "out/tables.md").read_text()
    assert "2.5000 / 2.0000 (-0.5000)" in md and "Pair sets differ" in md
    # The network method's weights are stated with the paper table too.
    shipped = Registry.builtin().get("clfnet").extra["weights_sha256"]  # methods/clfnet/card.toml
    assert f"_CLF-Net (re-implementation): shipped weights, sha256 {shipped[:12]}" in md
    assert ("medical / ct-mri (CT / MRI): not compared, a different modality from the paper's "
            "MR-T1 / MR-T2") in md


def test_missing_paper_file_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fusionbench.report.build.default_paper_scores", lambda: None)
    index = build_report(make_results(tmp_path / "res"), tmp_path / "out", figures=False,
                         formats=["html"])
    assert "paper-vs-measured comparison omitted" in index.read_text()


def test_report_module_examples() -> None:
    """The docstring examples of the report modules run and hold."""
    import doctest
    import importlib

    for name in ("tables", "significance", "labels", "presets", "selection", "formats",
                 "figures", "grids", "build"):
        module = importlib.import_module(f"fusionbench.report.{name}")
        result = doctest.testmod(module)
        assert result.failed == 0, name
