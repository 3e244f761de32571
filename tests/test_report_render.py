"""Figures drawn in worker processes are the same files as drawn in this process; a figure is
kept only when its exact inputs (scores, images, code) and its files are unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from test_report_fixtures import make_results

from fusionbench.report.build import build_report
from fusionbench.report.render import INDEX_NAME, FigureJob, FigureRenderer


def _assets(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "assets").iterdir())
            if p.name != INDEX_NAME}


def _report(root: Path, out: Path, workers: int) -> dict[str, bytes]:
    build_report(root, out, paper_scores=None, workers=workers, formats=["csv"])
    return _assets(out)


def _drawn(monkeypatch) -> list[Path]:
    """Every renderer's drawn files, collected as the renderers close."""
    drawn: list[Path] = []
    close = FigureRenderer.close

    def closing(self: FigureRenderer) -> None:
        close(self)
        drawn.extend(self.drawn)

    monkeypatch.setattr(FigureRenderer, "close", closing)
    return drawn


def test_workers_write_the_same_files_as_this_process(tmp_path: Path) -> None:
    root = make_results(tmp_path / "res")
    serial = _report(root, tmp_path / "serial", workers=0)
    parallel = _report(root, tmp_path / "parallel", workers=2)
    assert {n.rsplit(".", 1)[-1] for n in serial} == {"png", "svg"}
    assert len(serial) == 4  # one box plot (png + svg) and two grids
    assert parallel == serial
    assert (tmp_path / "serial/tables.csv").read_bytes() == \
        (tmp_path / "parallel/tables.csv").read_bytes()


def test_cli_workers_option(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from fusionbench.cli import cli

    root = make_results(tmp_path / "res")
    outs = []
    for workers in ("0", "3"):
        out = tmp_path / f"out{workers}"
        result = CliRunner().invoke(cli, ["report", "--results", str(root), "--out", str(out),
                                          "--format", "csv", "--workers", workers])
        assert result.exit_code == 0, result.output
        outs.append(_assets(out))
    assert outs[0] == outs[1] and len(outs[0]) == 4
    bad = CliRunner().invoke(cli, ["report", "--results", str(root), "--workers", "-1"])
    assert bad.exit_code == 2 and "--workers" in bad.output


def test_unchanged_figures_are_kept_and_changed_ones_redrawn(tmp_path: Path,
                                                             monkeypatch) -> None:
    root = make_results(tmp_path / "res")
    out = tmp_path / "out"
    drawn = _drawn(monkeypatch)
    first = _report(root, out, workers=0)
    assert sorted(p.name for p in drawn) == sorted(first)
    drawn.clear()
    assert _report(root, out, workers=2) == first and drawn == []  # nothing changed
    # a figure file edited behind the report's back is drawn again
    box = next(out.glob("assets/box_*.png"))
    box.write_bytes(b"not a png")
    assert _report(root, out, workers=0) == first
    assert [p.name for p in drawn] == [box.name, box.with_suffix(".svg").name]
    drawn.clear()
    # a fused image that changed (same path, other pixels) redraws the grids that show it
    fused = root / "_img/f_0_p1.png"  # alpha's fused image of p1 (test_report_fixtures)
    Image.open(fused).point(lambda v: 255 - v).save(fused)
    second = _report(root, out, workers=0)
    assert [p.name for p in drawn] == ["grid_toy__all__p1.png"]
    assert [n for n in first if second[n] != first[n]] == ["grid_toy__all__p1.png"]


def test_other_matplotlib_settings_redraw(tmp_path: Path, monkeypatch) -> None:
    import matplotlib

    root = make_results(tmp_path / "res")
    drawn = _drawn(monkeypatch)
    _report(root, tmp_path / "out", workers=0)
    drawn.clear()
    monkeypatch.setitem(matplotlib.rcParams, "font.size", 13.0)  # e.g. a matplotlibrc
    _report(root, tmp_path / "out", workers=0)
    assert len(drawn) == 4  # every figure: the settings are part of each key


def test_other_inputs_other_keys_and_a_broken_index_draws_everything(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    jobs = [FigureJob(Path.write_text, (target, text), (target,)) for text in ("x", "y", "x")]
    drawn = []
    for job in jobs:
        with FigureRenderer(tmp_path, workers=0) as renderer:
            renderer.submit(job)
        drawn.append(list(renderer.drawn))
        assert target.read_text() == job.args[1]
    assert drawn == [[target], [target], [target]]  # x, then y, then x again: all drawn
    with FigureRenderer(tmp_path, workers=0) as renderer:
        renderer.submit(jobs[2])
    assert renderer.drawn == []
    (tmp_path / INDEX_NAME).write_text("{not json")
    with FigureRenderer(tmp_path, workers=0) as renderer:
        renderer.submit(jobs[2])
    assert renderer.drawn == [target]
    assert json.loads((tmp_path / INDEX_NAME).read_text())["version"] == 1


def _fail(path: Path) -> None:
    raise ValueError(f"cannot draw {path.name}")


def test_a_worker_error_reaches_the_caller(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot draw b.png"):
        with FigureRenderer(tmp_path, workers=2) as renderer:
            renderer.submit(FigureJob(_fail, (tmp_path / "b.png",), (tmp_path / "b.png",)))
    assert json.loads((tmp_path / INDEX_NAME).read_text())["jobs"] == {}


def test_the_image_decoder_and_its_pixel_limit_are_part_of_every_key(tmp_path: Path,
                                                                     monkeypatch) -> None:
    """A grid shows the images as ``fusionbench.imageio`` decodes them (bit-depth rule,
    pixel limit): another decoder or ``$FUSIONBENCH_MAX_PIXELS`` must redraw, not keep."""
    import fusionbench.imageio
    from fusionbench.imageio import MAX_PIXELS_ENV
    from fusionbench.report.render import _code_digest

    monkeypatch.delenv(MAX_PIXELS_ENV, raising=False)
    before = _code_digest()
    edited = tmp_path / "imageio.py"
    edited.write_bytes(Path(fusionbench.imageio.__file__).read_bytes() + b"\n# another rule\n")
    original = fusionbench.imageio.__file__
    monkeypatch.setattr(fusionbench.imageio, "__file__", str(edited))
    assert _code_digest() != before
    monkeypatch.setattr(fusionbench.imageio, "__file__", original)
    assert _code_digest() == before
    monkeypatch.setenv(MAX_PIXELS_ENV, "100")
    assert _code_digest() != before
