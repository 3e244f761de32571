"""The results store never serves a stale score, never loses one, never duplicates one (issue 11:
each case at the top of the issue, as a test that fails on the code before the fix)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusionbench.data import resolve_dataset
from fusionbench.registry import Method, Registry
from fusionbench.report.load import ReportError, load_results
from fusionbench.runner import RunConfig, run_method

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "ir-vi"
FAST = RunConfig(metrics=("EN", "SD"), profiles=("standard",), workers=1)


class ScaledAverage:
    """A stand-in network: its "weights" file holds the weight of the first source (text)."""

    def __init__(self, weights: str | None = None, device: str | None = None) -> None:
        self.alpha = float(Path(weights).read_text()) if weights else 0.5

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.alpha * a + (1 - self.alpha) * b


NETWORK = Method(name="toynet", kind="network", title="toy", citation="", modalities=("ir-vi",),
                 entry=f"{__name__}:ScaledAverage")


def _sample():
    ds = resolve_dataset("sample")
    return ds, ds.subset("ir-vi")


def _values(run_dir: Path) -> pd.Series:
    stored = load_results(run_dir.parents[2])
    run = next(r for r in stored.runs if r.path == run_dir)
    return run.scores.set_index(["pair", "metric", "convention"])["value"].sort_index()


def test_other_weights_never_share_fused_images_or_scores(tmp_path: Path) -> None:
    ds, sub = _sample()
    w1, w2 = tmp_path / "w1.txt", tmp_path / "w2.txt"
    w1.write_text("0.9")
    w2.write_text("0.1")
    out = tmp_path / "results"
    first = run_method(NETWORK, ds, sub, out, RunConfig(**{**FAST.__dict__, "weights": str(w1)}))
    second = run_method(NETWORK, ds, sub, out, RunConfig(**{**FAST.__dict__, "weights": str(w2)}))
    assert first.paths.run_dir != second.paths.run_dir
    assert first.paths.method.startswith("toynet@") and second.skipped == 0
    fresh = run_method(NETWORK, ds, sub, tmp_path / "fresh",
                       RunConfig(**{**FAST.__dict__, "weights": str(w2)}))
    pd.testing.assert_series_equal(_values(second.paths.run_dir), _values(fresh.paths.run_dir))
    assert not _values(first.paths.run_dir).equals(_values(second.paths.run_dir))
    manifest = json.loads(second.paths.manifest.read_text())
    assert manifest["weights"] == str(w2) and len(manifest["weights_sha256"]) == 64


def test_changed_weights_file_under_the_same_path_is_redone(tmp_path: Path) -> None:
    ds, sub = _sample()
    weights = tmp_path / "w.txt"
    weights.write_text("0.9")
    config = RunConfig(**{**FAST.__dict__, "weights": str(weights)})
    first = run_method(NETWORK, ds, sub, tmp_path / "results", config)
    weights.write_text("0.2")
    second = run_method(NETWORK, ds, sub, tmp_path / "results", config)
    assert second.skipped == 0 and second.paths.run_dir != first.paths.run_dir
    fresh = run_method(NETWORK, ds, sub, tmp_path / "fresh", config)
    pd.testing.assert_series_equal(_values(second.paths.run_dir), _values(fresh.paths.run_dir))


def test_edited_fusion_code_redoes_the_pairs(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The method's code is part of its identity: after an edit to the module that fuses, the
    same command makes the fused images again instead of reusing the old ones."""
    mods = tmp_path / "mods"
    mods.mkdir()
    module = mods / "editable_fuse.py"
    module.write_text("def fuse(a, b):\n    return (a + b) / 2\n")
    monkeypatch.syspath_prepend(str(mods))
    method = Method(name="editable", kind="classic", title="", citation="",
                    modalities=("ir-vi",), entry="editable_fuse:fuse")
    ds, sub = _sample()
    first = run_method(method, ds, sub, tmp_path / "results", FAST)
    before = _values(first.paths.run_dir)
    module.write_text("import numpy as np\n\ndef fuse(a, b):\n    return np.maximum(a, b)\n")
    monkeypatch.delitem(sys.modules, "editable_fuse")
    second = run_method(method, ds, sub, tmp_path / "results", FAST)
    assert first.skipped == 0 and second.skipped == 0
    assert sorted(second.changed) == sorted(second.ok)
    fresh = run_method(method, ds, sub, tmp_path / "fresh", FAST)
    after = _values(second.paths.run_dir)
    pd.testing.assert_series_equal(after, _values(fresh.paths.run_dir))
    assert not np.allclose(after.to_numpy(), before.to_numpy())  # maximum, not the average


def test_two_folders_with_one_base_name_do_not_share_results(tmp_path: Path) -> None:
    for lab, role_source in (("labA", ("ir", "vi")), ("labB", ("vi", "ir"))):
        folder = tmp_path / lab / "mydata"
        shutil.copytree(SAMPLE / role_source[0], folder / "ir")
        shutil.copytree(SAMPLE / role_source[1], folder / "vi")
    out = tmp_path / "results"
    average = Registry.builtin().get("average")
    runs = []
    for lab in ("labA", "labB"):
        ds = resolve_dataset(str(tmp_path / lab / "mydata"))
        runs.append(run_method(average, ds, ds.subsets[0], out, FAST))
    assert runs[0].paths.run_dir != runs[1].paths.run_dir and runs[1].skipped == 0
    assert {r.dataset for r in load_results(out).runs} == {runs[0].paths.dataset,
                                                            runs[1].paths.dataset}
    assert all(r.paths.dataset.startswith("mydata-") for r in runs)


def test_scoring_another_profile_adds_rows_and_keeps_the_stored_ones(tmp_path: Path) -> None:
    ds, sub = _sample()
    average = Registry.builtin().get("average")
    first = run_method(average, ds, sub, tmp_path, FAST)
    before = _values(first.paths.run_dir)
    other = RunConfig(metrics=("EN",), profiles=("tang2022",), workers=1)
    run_method(average, ds, sub, tmp_path, other)
    after = _values(first.paths.run_dir)
    assert len(after) == len(before) + 4
    pd.testing.assert_series_equal(after.loc[before.index], before)
    manifest = json.loads(first.paths.manifest.read_text())
    assert manifest["profiles"] == ["standard", "tang2022"]
    # and the merged run is complete for both: a re-run of either computes nothing
    assert run_method(average, ds, sub, tmp_path, FAST).skipped == 4
    assert run_method(average, ds, sub, tmp_path, other).skipped == 4


def test_an_edited_or_duplicated_export_changes_no_reported_number(tmp_path: Path) -> None:
    ds, sub = _sample()
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    truth = _values(summary.paths.run_dir)
    table = pd.read_csv(summary.paths.scores_csv)
    table.loc[table["metric"] == "EN", "value"] = 99.0
    pd.concat([table, table]).to_csv(summary.paths.scores_csv, index=False)
    pd.testing.assert_series_equal(_values(summary.paths.run_dir), truth)


def test_the_store_cannot_hold_a_pair_or_a_score_twice(tmp_path: Path) -> None:
    """Primary keys make a duplicated pair or score impossible (a pair once appeared twice when
    a JSON record's ``pair`` field differed from its file name)."""
    import sqlite3

    ds, sub = _sample()
    run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    with sqlite3.connect(tmp_path / "fusionbench.sqlite") as conn:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO pairs SELECT * FROM pairs LIMIT 1")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO scores SELECT * FROM scores LIMIT 1")
        with pytest.raises(sqlite3.IntegrityError):  # an ok pair always names its images
            conn.execute("UPDATE pairs SET f = NULL WHERE status = 'ok'")
    stored = load_results(tmp_path)
    assert not stored.pairs["pair"].duplicated().any() and len(stored.pairs) == 4


def test_a_folder_of_duplicated_exported_rows_is_refused(tmp_path: Path) -> None:
    ds, sub = _sample()
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path / "mine", FAST)
    copied = tmp_path / "shared" / "sample" / "ir-vi" / "average"  # exports only, copied
    shutil.copytree(summary.paths.run_dir, copied)
    table = pd.read_csv(copied / "scores.csv")
    pd.concat([table, table.head(1)]).to_csv(copied / "scores.csv", index=False)
    with pytest.raises(ReportError, match="duplicated score row"):
        load_results(tmp_path / "shared")


def test_loose_exports_in_a_store_root_are_refused_not_mixed(tmp_path: Path) -> None:
    ds, sub = _sample()
    summary = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    shutil.copytree(summary.paths.run_dir, tmp_path / "sample" / "ir-vi" / "stranger")
    with pytest.raises(ReportError, match="stranger: a run folder the store .* does not hold"):
        load_results(tmp_path)


def test_clean_is_the_only_way_to_drop_results_and_says_what_it_dropped(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from fusionbench.cli import cli

    ds, sub = _sample()
    registry = Registry.builtin()
    kept = run_method(registry.get("average"), ds, sub, tmp_path, FAST)
    gone = run_method(registry.get("maximum"), ds, sub, tmp_path, FAST)
    listing = CliRunner().invoke(cli, ["clean", "--results", str(tmp_path), "--method", "maximum"])
    assert listing.exit_code == 0 and "would drop" in listing.output
    assert gone.paths.run_dir.is_dir()  # without --yes nothing is deleted
    result = CliRunner().invoke(cli, ["clean", "--results", str(tmp_path), "--method", "maximum",
                                      "--yes"])
    assert result.exit_code == 0
    assert f"dropped: {gone.paths.run_dir} (4 pairs, 8 scores)" in result.output
    assert not gone.paths.run_dir.exists() and kept.paths.run_dir.is_dir()
    assert [r.method for r in load_results(tmp_path).runs] == ["average"]


def _count_scoring(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Record the profiles of every metrics-engine call (runs stay serial, in this process)."""
    import fusionbench.metrics as metrics

    calls: list[tuple[str, ...]] = []
    real = metrics.score_many

    def counting(*args, **kwargs):
        calls.append(tuple(kwargs["profiles"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(metrics, "score_many", counting)
    return calls


def test_the_same_images_under_a_new_name_cost_no_scoring(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fusionbench.commands import eval_command

    calls = _count_scoring(monkeypatch)
    ds, sub = _sample()
    first = run_method(Registry.builtin().get("average"), ds, sub, tmp_path, FAST)
    assert len(calls) == 4
    done = eval_command(first.paths.fused_dir, "sample", "copy", "ir-vi", "{pair}.*", tmp_path,
                        None, "EN,SD", ("standard",), 1)
    assert not done.any_failed and len(calls) == 4  # answered from the content-addressed cache
    stored = {r.method: r.scores.set_index(["pair", "metric"])["value"].sort_index()
              for r in load_results(tmp_path).runs}
    pd.testing.assert_series_equal(stored["copy"], stored["average"])


def test_a_bumped_engine_version_recomputes_exactly_that_profile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    import fusionbench.metrics.profiles as profiles

    ds, sub = _sample()
    both = RunConfig(metrics=("EN",), profiles=("standard", "tang2022"), workers=1)
    average = Registry.builtin().get("average")
    run_method(average, ds, sub, tmp_path, both)
    calls = _count_scoring(monkeypatch)
    assert run_method(average, ds, sub, tmp_path, both).skipped == 4 and not calls
    bumped = dataclasses.replace(profiles.PROFILES["tang2022"], version="bumped-for-test")
    monkeypatch.setitem(profiles.PROFILES, "tang2022", bumped)
    again = run_method(average, ds, sub, tmp_path, both)
    assert again.skipped == 0 and calls == [("tang2022",)] * 4
    import sqlite3

    with sqlite3.connect(tmp_path / "fusionbench.sqlite") as conn:
        versions = set(conn.execute("SELECT DISTINCT profile, version FROM scores"))
    # the old version's scores stay content-addressed but are never shown
    assert versions == {("standard", "1"), ("tang2022", "1"), ("tang2022", "bumped-for-test")}
    assert len(load_results(tmp_path).scores) == 8


def test_two_runs_writing_one_results_root_at_once_both_finish(tmp_path: Path) -> None:
    import sqlite3
    import subprocess
    import sys

    out = tmp_path / "results"
    procs = [subprocess.Popen([sys.executable, "-m", "fusionbench.cli", "run", "--method", name,
                               "--dataset", "sample", "--metrics", "EN,SD", "--profile",
                               "standard", "--workers", "1", "--out", str(out)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name in ("average", "maximum")]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    conn = sqlite3.connect(out / "fusionbench.sqlite")
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = load_results(out)
    assert len(stored.runs) == 2 * len(resolve_dataset("sample").subsets)
    assert not stored.scores.duplicated(["method", "dataset", "subset", "pair", "metric",
                                         "convention"]).any()
    n_scores = conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    assert n_scores == len(stored.scores)  # every stored score is in the cache, once


def test_a_fused_image_changed_behind_the_stores_back_is_made_again(tmp_path: Path) -> None:
    from fusionbench.imageio import write_image

    ds, sub = _sample()
    average = Registry.builtin().get("average")
    first = run_method(average, ds, sub, tmp_path, FAST)
    truth = _values(first.paths.run_dir)
    tampered = first.paths.fused_dir / "scene_02.png"
    write_image(tampered, np.zeros((8, 8), np.uint8))
    again = run_method(average, ds, sub, tmp_path, FAST)
    assert again.changed == ["scene_02"] and again.skipped == 3
    pd.testing.assert_series_equal(_values(first.paths.run_dir), truth)
    assert tampered.stat().st_size > 200  # the real fused image is back


def test_metrics_all_or_lower_case_is_recognised_on_a_rerun(tmp_path: Path) -> None:
    ds, sub = _sample()
    average = Registry.builtin().get("average")
    for names in (("all",), ("en", "sd")):
        config = RunConfig(metrics=names, profiles=("standard",), workers=1)
        run_method(average, ds, sub, tmp_path / names[0], config)
        assert run_method(average, ds, sub, tmp_path / names[0], config).skipped == 4


def _open_and_write(args: tuple[str, int]) -> str:
    from fusionbench.store import PairRecord, Store

    root, worker = args
    try:
        with Store.create(Path(root)) as store:
            run = store.run_id("d", "s", f"m{worker}", create=True)
            for j in range(10):
                store.save_pair(run, PairRecord(f"p{j}", "ok", images={
                    "a": str(worker), "b": str(j), "f": "f"}, scores=[{
                        "metric": "EN", "convention": "standard", "value": float(j),
                        "version": "1"}]))
        return "ok"
    except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
        return repr(exc)


def test_processes_creating_the_store_at_once_all_succeed(tmp_path: Path) -> None:
    """SQLite answers "database is locked" at once (no busy wait) when several processes switch
    a new file to WAL together; before the retry in store.schema.connect, 12 of 30 such trials
    of 8 processes failed on the development machine."""
    from multiprocessing import Pool

    from fusionbench.store import Store

    for trial in range(8):
        root = tmp_path / f"t{trial}"
        with Pool(6) as pool:
            outcomes = pool.map(_open_and_write, [(str(root), w) for w in range(6)])
        assert outcomes == ["ok"] * 6
        with Store.create(root) as store:
            assert store.count_scores() == 60 and len(store.runs()) == 6
