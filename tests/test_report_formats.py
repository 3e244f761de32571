"""Markdown / LaTeX / HTML / CSV output, escaping, template override, paper comparison."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from test_report_fixtures import SCORES, make_results

from fusionbench.report.build import build_report
from fusionbench.report.formats import md_cell, tex_cell, tex_escape
from fusionbench.report.load import ReportError
from fusionbench.report.paper import matches
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
    # my_method (3.0) is now best on EN, alpha and beta (2.0) tie second, gamma third.
    assert "| my\\_method 100% | 3 | **3.0000 ± 0.0000**¹ |" in md
    assert "| alpha | 3 | _2.0000 ± 1.0000_² |" in md
    assert "| gamma | 2 | 1.0000 ± 0.0000³ |" in md
    tex = (tmp_path / "out/tables.tex").read_text()
    assert _balanced(tex)
    assert r"my\_method 100\%" in tex and "my_method" not in tex
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 1
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
    assert "CUSTOM toy, 3 pairs — metric convention (profile) standard" in md
    assert "# fusionbench report" in md  # the packaged report.md.j2 is still used
    with pytest.raises(ReportError, match="template folder"):
        _build(tmp_path / "res", tmp_path / "out", template_dir=tmp_path / "nope")


def test_bad_format_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="unknown report format"):
        _build(make_results(tmp_path / "res"), tmp_path / "out", formats=["pdf"])


def test_paper_vs_measured(tmp_path: Path) -> None:
    paper = tmp_path / "paper.csv"
    paper.write_text("table,dataset,method,n_pairs,metric,value\n"
                     "II,toy,CLF-Net,20,EN,2.5\nII,toy,RFN-Nest,20,EN,7\n"
                     "VI,toy,CLF-Net,20,EN,9\n")
    tang = {"clfnet": {"EN": [1, 2, 3]}, "CLFNet-paper": {"EN": [4, 4]}}
    root = make_results(tmp_path / "res", extra_conventions={"tang2022": tang})
    _build(root, tmp_path / "out", formats=["csv", "md"], paper_scores=paper)
    with (tmp_path / "out/paper_vs_measured.csv").open() as fh:
        rows = {r["method"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"clfnet", "CLFNet-paper"}  # table VI is not a main comparison
    assert float(rows["clfnet"]["measured"]) == 2.0 and float(rows["clfnet"]["difference"]) == -0.5
    assert rows["CLFNet-paper"]["n_pairs_measured"] == "2"
    assert rows["clfnet"]["n_pairs_paper"] == "20" and rows["clfnet"]["same_pairs"] == "False"
    md = (tmp_path / "out/tables.md").read_text()
    assert "pair sets differ" in md and "2.5000 / 2.0000 (-0.5000)" in md
    assert "paper method RFN-Nest has no measured run" in md
    assert matches("RFN-Nest", "rfn_nest") and not matches("CLF-Net", "clfnetv2")


def test_missing_paper_file_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("fusionbench.report.build.default_paper_scores", lambda: None)
    index = build_report(make_results(tmp_path / "res"), tmp_path / "out", figures=False,
                         formats=["html"])
    assert "paper-vs-measured comparison omitted" in index.read_text()
