"""Box plots, qualitative grids and zoom regions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_report_fixtures import make_results

from fusionbench.cli import cli
from fusionbench.report.cli import report_command
from fusionbench.report.grids import choose_pairs, grid_tiles, parse_zoom, zoom_region
from fusionbench.report.load import ReportError, load_results


def test_zoom_region_default_clip_and_errors() -> None:
    assert zoom_region((40, 56), None) == (21, 15, 14, 10)  # w=56//4, h=40//4, centred
    assert zoom_region((40, 56), (50, 30, 20, 20)) == (50, 30, 6, 10)
    with pytest.raises(ReportError, match="outside the 56x40 image"):
        zoom_region((40, 56), (60, 0, 5, 5))
    with pytest.raises(ReportError, match="four integers"):
        parse_zoom("1,2,3")


def test_grid_pairs_and_tiles(tmp_path: Path) -> None:
    runs = load_results(make_results(tmp_path)).runs_of("toy", "all")
    assert choose_pairs(runs, None) == ["p1", "p2"]  # gamma failed on p3
    assert choose_pairs(runs, ["p3", "zz"]) == ["p3"]
    tiles = grid_tiles(runs, "p3")
    assert [t[0] for t in tiles] == ["_img (source)", "_img (source)", "alpha", "beta", "gamma"]
    assert tiles[2][1].shape == (40, 56) and tiles[4][1] is None
    assert tiles[4][2] == "failed: out of memory <b>&</b>"


def test_cli_writes_figures_and_grids(tmp_path: Path) -> None:
    root = make_results(tmp_path / "res")
    out = tmp_path / "out"
    result = CliRunner().invoke(report_command, [
        "--results", str(root), "--out", str(out), "--format", "html", "--format", "csv",
        "--pairs", "p1,p3", "--zoom", "5,5,20,10"])
    assert result.exit_code == 0, result.output
    assets = sorted(p.name for p in (out / "assets").iterdir())
    assert assets == ["box_toy__all__standard.png", "box_toy__all__standard.svg",
                      "grid_toy__all__p1.png", "grid_toy__all__p3.png"]
    for name in assets:
        if name.endswith(".png"):
            img = np.asarray(Image.open(out / "assets" / name))
            assert img.shape[0] > 100 and img.std() > 0  # a real, non-blank picture
    assert (out / "assets/box_toy__all__standard.svg").read_text().lstrip().startswith("<?xml")
    assert not (out / "tables.md").exists()
    bad = CliRunner().invoke(cli, ["report", "--results", str(tmp_path / "nope")])
    assert bad.exit_code != 0 and "does not exist" in bad.output
