"""Report presets: the CLF-Net paper's Tables II-V laid out in one command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_report_fixtures import make_results

from fusionbench.cli import cli
from fusionbench.errors import UsageError
from fusionbench.metrics.catalog import METRICS
from fusionbench.metrics.profiles import PROFILES
from fusionbench.paper import read_paper_scores
from fusionbench.registry import Registry
from fusionbench.report.presets import load_preset, packaged_presets, read_preset

TABLES = {"clfnet-table2": "II", "clfnet-table3": "III", "clfnet-table4": "IV",
          "clfnet-table5": "V"}


def test_one_preset_per_paper_table_with_known_names() -> None:
    presets = {p.name: p for p in packaged_presets()}
    assert {n: p.paper.table for n, p in presets.items()} == TABLES
    registry = Registry.builtin()
    for preset in presets.values():
        assert preset.profile == "tang2022" and preset.profile in PROFILES
        assert preset.metrics == ("EN", "MI", "VIF", "SD", "AG", "SF")
        assert all(m in METRICS for m in preset.metrics)
        assert all(m in registry for m in preset.methods), preset.name


@pytest.mark.data
def test_preset_method_order_is_the_papers(reference_dir: Path) -> None:
    """Through the cards' paper_name, each preset lists the paper table's rows in its order
    (clfnet-paper and clfnet both stand for the paper's CLF-Net row)."""
    scores = read_paper_scores(reference_dir / "clfnet_paper_scores.csv")
    registry = Registry.builtin()
    for preset in packaged_presets():
        table = preset.paper.table
        paper_order = [m for m, rows in scores.items()
                       if any(r.table == table and r.dataset == preset.paper.dataset
                              for r in rows)]
        ours = list(dict.fromkeys(registry.get(m).extra["paper_name"] for m in preset.methods))
        assert ours == paper_order, preset.name
        n = {r.n_pairs for m in paper_order for r in scores[m] if r.table == table}
        assert n == {preset.paper.n_pairs}


def test_preset_lays_out_the_table(tmp_path: Path) -> None:
    tang = {"clfnet": {"SF": [1, 2, 3], "EN": [1, 2, 3], "Qabf": [1, 1, 1]},
            "densefuse": {"EN": [2, 2, 2], "SF": [3, 3, 3]},
            "average": {"EN": [0, 0, 0]}}
    root = make_results(tmp_path / "res", dataset="tno", scores=tang, convention="tang2022",
                        extra_conventions={"standard": {"clfnet": {"EN": [5, 5, 5]}}})
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report",
        "--results", str(root), "--out", str(out), "--preset", "clfnet-table2",
        "--no-figures", "--no-progress"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert [t["profile"] for t in report["tables"]] == ["tang2022"]  # the preset's profile
    table = report["tables"][0]
    rows = table["rows"]
    assert table["ranked_set"] == ["densefuse", "clfnet"]  # in the paper's order
    assert [r["label"] for r in rows[:2]] == ["DenseFuse", "CLF-Net (re-implementation)"]
    # The paper's other rows are listed, unranked and empty, in the paper's order.
    assert [(r["label"], r["n"], r["ranked"]) for r in rows[2:5]] == [
        ("RFN-Nest [not measured]", 0, False), ("FusionGAN [not measured]", 0, False),
        ("GANMcC [cannot be scored]", 0, False)]
    assert [r["method"] for r in rows[5:]] == ["ifcnn", "pmgi", "u2fusion", "stdfusionnet",
                                               "ifsepr", "clfnet-paper"]
    assert all(c["mean"] is None and c["rank"] is None for c in rows[4]["cells"].values())
    assert [c["metric"] for c in table["columns"]] == ["EN", "MI", "VIF", "SD", "AG", "SF"]
    notes = report["groups"][0]["notes"]
    assert "GANMcC: cannot be scored on tno — no published fused images (card ganmcc)" in notes
    assert "IFSepR: cannot be scored on tno — no published fused images (card ifsepr)" in notes
    assert any(n.startswith("RFN-Nest: not measured — no run of rfn-nest") for n in notes)
    md = (out / "tables.md").read_text()
    assert md.startswith("# CLF-Net paper, Table II: TNO")
    assert "Average" not in md  # not one of the paper's methods


def test_options_override_the_preset(tmp_path: Path) -> None:
    tang = {"clfnet": {"EN": [1, 2, 3]}, "densefuse": {"EN": [2, 2, 2]}}
    root = make_results(tmp_path / "res", dataset="tno", scores=tang, convention="tang2022")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report",
        "--results", str(root), "--out", str(out), "--preset", "clfnet-table2",
        "--methods", "clfnet,densefuse", "--metrics", "EN", "--no-figures", "--no-progress"])
    assert result.exit_code == 0, result.output
    table = json.loads((out / "report.json").read_text())["tables"][0]
    assert [r["method"] for r in table["rows"]] == ["clfnet", "densefuse"]
    assert [c["metric"] for c in table["columns"]] == ["EN"]


def test_preset_from_a_file_and_bad_files(tmp_path: Path) -> None:
    good = tmp_path / "mine.toml"
    good.write_text('title = "Mine"\ndataset = "tno"\nprofile = "standard"\n'
                    'metrics = ["EN"]\nmethods = ["average"]\n')
    preset = load_preset(str(good))
    assert (preset.name, preset.subset, preset.paper) == ("mine", "all", None)
    bad = tmp_path / "bad.toml"
    bad.write_text('title = "Bad"\ndataset = "tno"\nprofile = "standard"\nmetrics = "EN"\n')
    with pytest.raises(UsageError, match=r"bad\.toml: 'metrics' must be a non-empty list"):
        read_preset(bad)
    broken = tmp_path / "broken.toml"
    broken.write_text("title = \n")
    with pytest.raises(UsageError, match=r"broken\.toml: cannot be read"):
        read_preset(broken)
