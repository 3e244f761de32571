"""The runner on the embedded sample: fuse, score, store, resume; and the CLI around it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.data import resolve_dataset
from fusionbench.errors import OutputError
from fusionbench.imageio import read_image
from fusionbench.registry import Method, Registry
from fusionbench.runner import RunConfig, run_method

FAST = RunConfig(metrics=("EN", "SD"), profiles=("standard",), workers=1)


def _sample(subset: str):
    ds = resolve_dataset("sample")
    return ds, ds.subset(subset)


def test_run_stores_fused_images_scores_and_manifest(tmp_path: Path) -> None:
    ds, sub = _sample("ir-vi")
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    assert len(summary.ok) == 4 and not summary.failed
    scores = pd.read_csv(summary.paths.scores_csv)
    assert len(scores) == 4 * 2 and set(scores["convention"]) == {"standard"}
    colour = read_image(summary.paths.fused_dir / "scene_04.png")
    assert colour.ndim == 3  # the colour visible image gives its colour back
    assert read_image(summary.paths.fused_dir / "scene_01.png").ndim == 2
    manifest = summary.paths.manifest.read_text()
    assert '"n_ok": 4' in manifest and '"git_revision"' in manifest


def test_rerun_resumes_without_duplicates(tmp_path: Path) -> None:
    ds, sub = _sample("ir-vi")
    method = Registry.builtin().get("maximum")
    first = run_method(method, ds, sub, tmp_path, FAST)
    second = run_method(method, ds, sub, tmp_path, FAST)
    assert second.skipped == 4
    a = pd.read_csv(first.paths.scores_csv)
    b = pd.read_csv(second.paths.scores_csv)
    assert len(b) == len(a) and b.duplicated(["pair", "metric", "convention"]).sum() == 0


def _explode_on_scene_02(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape == (144, 192):
        raise RuntimeError("boom")
    return (a + b) / 2


def test_a_failing_pair_does_not_stop_the_others(tmp_path: Path) -> None:
    ds, sub = _sample("ir-vi")
    method = Method(name="flaky", kind="classic", title="t", citation="", modalities=(),
                    entry=f"{__name__}:_explode_on_scene_02")
    summary = run_method(method, ds, sub, tmp_path, FAST)
    assert list(summary.failed) == ["scene_02"] and "RuntimeError: boom" in summary.failed[
        "scene_02"]
    assert len(summary.ok) == 3
    pairs = pd.read_csv(summary.paths.pairs_csv)
    assert pairs.set_index("pair").loc["scene_02", "status"] == "failed"


def test_cli_run_prints_table_and_convention(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--method", "average", "--dataset", "sample",
                                      "--subset", "multifocus", "--out", str(tmp_path),
                                      "--metrics", "EN,SF", "--profile", "tang2022",
                                      "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "3 of 3 pairs scored" in result.output and "tang2022" in result.output


def test_cli_unknown_method_did_you_mean(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "fusionbench.cli", "run", "--method",
                             "maximun", "--dataset", "sample"], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 1
    assert "Did you mean 'maximum'" in result.stderr and "Traceback" not in result.stderr


def test_help_does_not_import_torch() -> None:
    code = ("import sys; from click.testing import CliRunner; from fusionbench.cli import cli;"
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0;"
            "r = CliRunner().invoke(cli, ['methods']); assert r.exit_code == 0, r.output;"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_unwritable_output_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ds, sub = _sample("ir-vi")
    with pytest.raises(OutputError, match="cannot create the store"):
        run_method(Registry.builtin().get("average"), ds, sub, blocker / "out", FAST)


def test_manifest_has_timings_per_pair(tmp_path: Path) -> None:
    import json

    ds, sub = _sample("multifocus")
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    manifest = json.loads(summary.paths.manifest.read_text())
    assert set(manifest["seconds_per_pair"]) == {"focus_01", "focus_02", "focus_03"}
    assert manifest["device"] == "cpu" and manifest["profiles"] == ["standard"]


def test_report_loader_counts_the_records_of_an_interrupted_run(tmp_path: Path) -> None:
    from fusionbench.report.load import load_results

    ds, sub = _sample("ir-vi")
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    # an interrupted run: two of three pairs stored, the exports not (re)written yet
    import sqlite3

    summary.paths.scores_csv.unlink()
    summary.paths.pairs_csv.unlink()
    summary.paths.manifest.unlink()
    with sqlite3.connect(tmp_path / "fusionbench.sqlite") as conn:
        conn.execute("DELETE FROM pairs WHERE pair = (SELECT MIN(pair) FROM pairs)")
    stored = load_results(tmp_path)
    assert len(stored.runs) == 1
    assert stored.scores.groupby("pair").size().to_dict() == {p: 2 for p in stored.pairs["pair"]}
    assert len(stored.pairs) == 3 and set(stored.pairs["status"]) == {"ok"}


def test_report_loader_never_writes_into_a_run_folder(tmp_path: Path) -> None:
    from fusionbench.report.load import load_results

    ds, sub = _sample("ir-vi")
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    summary.paths.scores_csv.unlink()
    summary.paths.run_dir.chmod(0o555)
    try:
        stored = load_results(tmp_path)
    finally:
        summary.paths.run_dir.chmod(0o755)
    assert len(stored.pairs) == 4 and len(stored.scores) == 8
    assert not summary.paths.scores_csv.exists()
