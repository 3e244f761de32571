"""The store's commands: ``import`` (the earlier JSON layout, refused until imported),
``verify`` (exports and fused images against the store), ``run --force`` (drops, and says so),
and NaN scores kept with their reason (issue 11 and 13)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.data import resolve_dataset
from fusionbench.imageio import write_image
from fusionbench.registry import Registry
from fusionbench.report.load import load_results
from fusionbench.runner import RunConfig, run_method
from fusionbench.store import StoreError

FAST = RunConfig(metrics=("EN", "SD"), profiles=("standard",), workers=1)


def _sample():
    ds = resolve_dataset("sample")
    return ds, ds.subset("ir-vi")


def _values(root: Path) -> pd.Series:
    scores = load_results(root).scores
    return scores.set_index(["method", "pair", "metric", "convention"])["value"].sort_index()


def _write_legacy(source: Path, legacy: Path) -> None:
    """The results under ``source`` written in the earlier layout (one JSON record per pair,
    a scores.sqlite cache), as fusionbench 0.x wrote them."""
    conn = sqlite3.connect(source / "fusionbench.sqlite")
    (run_id, dataset, subset, method), = conn.execute(
        "SELECT id, dataset, subset, method FROM runs")
    folder = legacy / dataset / subset / method
    (folder / "records").mkdir(parents=True)
    for pair, status, ids, a, b, f in conn.execute(
            "SELECT pair, status, p.a || ',' || p.b || ',' || p.f, ia.sha256, ib.sha256, "
            "i_f.sha256 FROM pairs p JOIN images ia ON ia.id = p.a JOIN images ib ON "
            "ib.id = p.b JOIN images i_f ON i_f.id = p.f WHERE run_id = ?", (run_id,)):
        scores = [{"metric": m, "convention": p, "value": v, "version": ver}
                  for m, p, v, ver in conn.execute(
                      "SELECT metric, profile, value, version FROM scores "
                      "WHERE a = ? AND b = ? AND f = ?", tuple(map(int, ids.split(","))))]
        (folder / "records" / f"{pair}.json").write_text(json.dumps({
            "pair": pair, "status": status, "reason": "", "fused_path": "", "a_path": "",
            "b_path": "", "seconds": 0.1, "scores": scores, "fingerprint": "old",
            "images": {"a": a, "b": b, "f": f}}))
    (folder / "manifest.json").write_text(json.dumps({"method": method, "dataset": dataset,
                                                      "subset": subset}))
    old = sqlite3.connect(legacy / "scores.sqlite")
    old.execute("CREATE TABLE scores (a, b, f, profile, version, metric, value)")
    old.commit()


def test_the_earlier_layout_is_refused_until_imported_then_reads_the_same(
        tmp_path: Path) -> None:
    ds, sub = _sample()
    run_method(Registry.builtin().get("average"), ds, sub, tmp_path / "new", FAST)
    legacy = tmp_path / "legacy"
    _write_legacy(tmp_path / "new", legacy)
    with pytest.raises(StoreError, match="fusionbench import --results"):
        load_results(legacy)
    with pytest.raises(StoreError, match="earlier per-pair JSON layout"):
        run_method(Registry.builtin().get("average"), ds, sub, legacy, FAST)
    result = CliRunner().invoke(cli, ["import", "--results", str(legacy)])
    assert result.exit_code == 0, result.output
    assert "imported 1 run(s), 4 pairs, 8 scores" in result.output
    assert not list(legacy.rglob("records")) and not (legacy / "scores.sqlite").exists()
    pd.testing.assert_series_equal(_values(legacy), _values(tmp_path / "new"))


def test_verify_finds_an_edited_export_and_a_changed_fused_image(tmp_path: Path) -> None:
    ds, sub = _sample()
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    clean = CliRunner().invoke(cli, ["verify", "--results", str(tmp_path)])
    assert clean.exit_code == 0 and "agree" in clean.output
    table = pd.read_csv(summary.paths.scores_csv)
    table.loc[table["metric"] == "EN", "value"] = 99.0
    table.to_csv(summary.paths.scores_csv, index=False)
    write_image(summary.paths.fused_dir / "scene_03.png", np.zeros((8, 8), np.uint8))
    found = CliRunner().invoke(cli, ["verify", "--results", str(tmp_path)])
    assert found.exit_code == 1
    assert f"{summary.paths.scores_csv}: export does not match the store" in found.output
    assert "scene_03.png: fused image changed since it was scored" in found.output
    fixed = CliRunner().invoke(cli, ["verify", "--results", str(tmp_path), "--fix"])
    assert "export rewritten from the store" in fixed.output and fixed.exit_code == 1
    assert (pd.read_csv(summary.paths.scores_csv)["value"] < 99).all()


def test_force_drops_the_run_first_and_says_what_it_dropped(tmp_path: Path) -> None:
    args = ["run", "--method", "average", "--dataset", "sample", "--subset", "ir-vi",
            "--metrics", "EN,SD", "--profile", "standard", "--workers", "1",
            "--out", str(tmp_path)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, args)
    assert "4 already done" in again.output
    forced = CliRunner().invoke(cli, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert "dropped (--force)" in forced.output and "(4 pairs, 8 scores)" in forced.output
    assert "0 already done" in forced.output


def test_a_nan_score_is_stored_with_its_reason_and_shown_not_dropped(tmp_path: Path) -> None:
    """A constant source makes VIF 0/0: the value is kept as NaN with the reason, the summary
    says n = 3 of 4, and the other pairs' mean is not presented as over 4 pairs."""
    data = tmp_path / "flat"
    rng = np.random.default_rng(3)
    for role in ("ir", "vi"):
        (data / role).mkdir(parents=True)
        for i in range(4):
            img = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            if i == 0 and role == "ir":
                img[:] = 128
            write_image(data / role / f"p{i}.png", img)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["run", "--method", "average", "--dataset", str(data),
                                      "--metrics", "VIF,EN", "--profile", "standard",
                                      "--workers", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "VIF (standard): n = 3 of 4; 1 NaN: p0 (VIF is NaN: source" in result.output
    scores = load_results(out).scores
    vif = scores[(scores["metric"] == "VIF") & (scores["pair"] == "p0")].iloc[0]
    assert np.isnan(vif["value"]) and "constant" in vif["reason"]
    assert len(scores) == 8  # the NaN row is kept


def test_a_read_only_copy_of_a_results_root_is_read(tmp_path: Path) -> None:
    """`report`, `regress` and `verify` only read: a results root on a read-only file system
    (a colleague's share) is read in full, and writing there is a clear error (exit 6)."""
    import os
    import subprocess

    ds, sub = _sample()
    run_method(Registry.builtin().get("average"), ds, sub, tmp_path / "src", FAST)
    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "--bind", str(tmp_path / "src"), str(ro)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root and bind mounts to make a read-only file system")
    try:
        assert subprocess.run(["mount", "-o", "remount,ro,bind", str(ro)]).returncode == 0
        pd.testing.assert_series_equal(_values(ro), _values(tmp_path / "src"))
        checked = CliRunner().invoke(cli, ["verify", "--results", str(ro)])
        assert checked.exit_code == 0, checked.output
        dropped = CliRunner().invoke(cli, ["clean", "--results", str(ro), "--yes"])
        assert dropped.exit_code == 6 and "cannot write in" in dropped.output
    finally:
        subprocess.run(["umount", str(ro)])
