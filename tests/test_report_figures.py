"""Box plots (distinct styles, n under each box), qualitative grids, zoom regions, and the
usage errors of --pairs and --zoom."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from test_report_fixtures import make_results

from fusionbench.cli import cli
from fusionbench.errors import UsageError
from fusionbench.report.figures import method_styles
from fusionbench.report.grids import choose_pairs, grid_tiles, parse_zoom, zoom_region
from fusionbench.report.load import load_results


def test_zoom_region_default_clip_and_errors() -> None:
    assert zoom_region((40, 56), None) == (21, 15, 14, 10)  # w=56//4, h=40//4, centred
    assert zoom_region((40, 56), (50, 30, 20, 20)) == (50, 30, 6, 10)
    with pytest.raises(UsageError, match="outside the 56x40 image"):
        zoom_region((40, 56), (60, 0, 5, 5))
    with pytest.raises(UsageError, match="four integers"):
        parse_zoom("1,2,3")


def test_every_method_gets_its_own_style() -> None:
    names = [f"m{i}" for i in range(25)]
    styles = method_styles(names)
    assert len(set(styles.values())) == 25
    assert len({c for c, _ in styles.values()}) == 10 and styles["m0"][1] == ""


def test_grid_pairs_and_tiles(tmp_path: Path) -> None:
    runs = load_results(make_results(tmp_path)).runs_of("toy", "all")
    assert choose_pairs(runs, None) == ["p1", "p2"]  # gamma failed on p3
    assert choose_pairs(runs, ["p3"]) == ["p3"]
    with pytest.raises(UsageError, match="no run lists pair.s. zz"):
        choose_pairs(runs, ["p3", "zz"])
    tiles = grid_tiles(runs, "p3", {"alpha": "Alpha"})
    assert [t[0] for t in tiles] == ["_img (source)", "_img (source)", "Alpha", "beta", "gamma"]
    assert tiles[2][1].shape == (40, 56) and tiles[4][1] is None
    assert tiles[4][2] == "failed: out of memory <b>&</b>"


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_cli_writes_figures_and_grids(tmp_path: Path) -> None:
    root = make_results(tmp_path / "res")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report",
        "--results", str(root), "--out", str(out), "--format", "html", "--format", "csv",
        "--pairs", "p1,p3", "--zoom", "5,5,20,10", "--no-progress"])
    assert result.exit_code == 0, result.output
    assets = sorted(p.name for p in (out / "assets").iterdir())
    assert assets[0] == ".figure-inputs.json"  # what each figure was drawn from (render.py)
    assets = assets[1:]
    assert assets == ["box_toy__all__standard__main.png", "box_toy__all__standard__main.svg",
                      "grid_toy__all__p1.png", "grid_toy__all__p3.png"]
    for name in assets:
        if name.endswith(".png"):
            img = _png(out / "assets" / name)
            assert img.shape[0] > 100 and img.std() > 0  # a real, non-blank picture
    box = _png(out / "assets/box_toy__all__standard__main.png")
    assert box.shape[1] == 1000  # 10 inches at 100 dpi: sized for the page
    svg = (out / "assets/box_toy__all__standard__main.svg").read_text()
    assert svg.lstrip().startswith("<?xml")
    # matplotlib's SVG keeps each text as a comment: the n of every box is written under it
    # (EN, SD, RMSE: alpha 3, 3, 3; beta 3, 0 (SD all NaN), 3; gamma 2, 2, 2).
    assert [svg.count(f"<!-- n={n} -->") for n in (3, 2, 0)] == [5, 3, 1]
    assert not (out / "tables.md").exists() and (out / "report.json").is_file()
    bad = CliRunner().invoke(cli, ["report", "--results", str(tmp_path / "nope")])
    assert bad.exit_code == 1 and "does not exist" in bad.output


@pytest.mark.parametrize("args, message", [
    (["--pairs", "doesnotexist"], "no run lists pair(s) doesnotexist"),
    (["--zoom", "500,500,10,10"], "lies outside the 56x40 image"),
    (["--zoom", "1,2"], "expected x,y,w,h"),
    (["--methods", "alpha,nosuch"], "unknown method(s) nosuch"),
    (["--metrics", "EN,BOGUS"], "unknown metric(s) BOGUS"),
    (["--profile", "nosuch"], "unknown profile(s) nosuch"),
    (["--preset", "nosuch"], "no such preset"),
])
def test_bad_options_are_usage_errors_and_write_nothing(tmp_path: Path, args: list[str],
                                                        message: str) -> None:
    root = make_results(tmp_path / "res")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "--results", str(root), "--out", str(out),
                                                 "--no-progress", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not out.exists()


def test_a_run_without_images_does_not_remove_the_grids(tmp_path: Path) -> None:
    root = make_results(tmp_path / "res")
    empty = root / "toy/all/broken"
    empty.mkdir()
    shutil.copy(root / "toy/all/alpha/manifest.json", empty / "manifest.json")
    (empty / "manifest.json").write_text('{"method": "broken", "dataset": "toy", '
                                         '"subset": "all", "n_pairs": 3}')
    (empty / "pairs.csv").write_text(
        "method,dataset,subset,pair,status,reason,fused_path,a_path,b_path,seconds\n"
        "broken,toy,all,p1,failed,crashed,,,,\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "--results", str(root), "--out", str(out),
                                                 "--format", "html", "--no-progress"])
    assert result.exit_code == 0, result.output
    grids = sorted(p.name for p in (out / "assets").glob("grid_*"))
    assert grids == ["grid_toy__all__p1.png", "grid_toy__all__p2.png"]
    html = (out / "index.html").read_text()
    assert "no fused images, left out of the qualitative grids" in html
