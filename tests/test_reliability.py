"""Runs that survive interruption (SIGKILL), concurrent writers, bad pairs and parallel workers.

A slow test-only method lives in a temporary module put on ``PYTHONPATH``; runs that are killed
are separate processes started by the test (``python -c`` driving ``run_method``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fusionbench import cli as cli_module
from fusionbench.data import resolve_dataset
from fusionbench.imageio import read_image, write_image
from fusionbench.registry import Method, Registry
from fusionbench.runner import RunConfig, run_method

SLOW_MODULE = '''
import os, time
from pathlib import Path

def fuse(a, b):
    marks = os.environ.get("SLOWFUSE_MARKS")
    if marks:
        Path(marks, f"{time.monotonic_ns()}_{os.getpid()}").touch()
    time.sleep(float(os.environ.get("SLOWFUSE_SLEEP", "0.15")))
    hold, end = os.environ.get("SLOWFUSE_HOLD"), time.monotonic() + 60
    while hold and Path(hold).exists() and time.monotonic() < end:  # paused by the test
        time.sleep(0.01)
    return (a + b) / 2
'''

DRIVER = '''
import sys
from pathlib import Path
from fusionbench.data import resolve_dataset
from fusionbench.registry import Method
from fusionbench.runner import RunConfig, run_method

out, workers = Path(sys.argv[1]), int(sys.argv[2])
ds = resolve_dataset("sample")
method = Method(name="slow", kind="classic", title="slow", citation="", modalities=(),
                entry="slowfuse:fuse")
config = RunConfig(metrics=("EN", "SD", "SF"), profiles=("standard", "tang2022"),
                   workers=workers)
for sub in ("ir-vi", "multifocus"):
    run_method(method, ds, ds.subset(sub), out, config)
'''
N_PAIRS = 7  # sample: 4 ir-vi + 3 multi-focus


@pytest.fixture()
def slow_env(tmp_path: Path) -> dict[str, str]:
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "slowfuse.py").write_text(SLOW_MODULE)
    (mods / "driver.py").write_text(DRIVER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(mods), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def _start(env: dict[str, str], out: Path, workers: int = 1,
           marks: Path | None = None) -> subprocess.Popen:
    env = dict(env)
    if marks is not None:
        marks.mkdir(parents=True, exist_ok=True)
        env["SLOWFUSE_MARKS"] = str(marks)
    driver = Path(env["PYTHONPATH"].split(os.pathsep)[0]) / "driver.py"
    return subprocess.Popen([sys.executable, str(driver), str(out), str(workers)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _wait_marks(marks: Path, n: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while len(list(marks.iterdir())) < n:
        if proc.poll() is not None:
            return
        assert time.monotonic() < end, "the slow run never reached the kill point"
        time.sleep(0.005)


def _kill(proc: subprocess.Popen) -> int:
    """SIGKILL the run and any pool workers it started; returns its exit status."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=30)


def _stored_pairs(out: Path) -> int:
    """How many pairs the store under ``out`` holds (0 before it exists)."""
    import sqlite3

    if not (out / "fusionbench.sqlite").is_file():
        return 0
    with sqlite3.connect(out / "fusionbench.sqlite") as conn:
        return conn.execute("SELECT COUNT(*) FROM pairs").fetchone()[0]


def _snapshot(out: Path) -> dict[str, object]:
    """Everything a run stores that must not depend on interruptions (no paths or times)."""
    snap: dict[str, object] = {}
    for run in sorted(out.glob("sample/*/slow")):
        sub = run.parent.name
        snap[f"{sub}/scores.csv"] = (run / "scores.csv").read_text()
        pairs = pd.read_csv(run / "pairs.csv", keep_default_na=False)
        snap[f"{sub}/pairs"] = pairs[["method", "dataset", "subset", "pair", "status",
                                      "reason"]].to_csv(index=False)
        for img in sorted((run / "fused").iterdir()):
            snap[f"{sub}/fused/{img.name}"] = read_image(img).tobytes()
        manifest = json.loads((run / "manifest.json").read_text())
        snap[f"{sub}/counts"] = (manifest["n_pairs"], manifest["n_ok"], manifest["n_failed"])
    return snap


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_sigkill_at_several_points_then_resume_gives_identical_results(
        tmp_path: Path, slow_env: dict[str, str], workers: int) -> None:
    clean = _start(slow_env, tmp_path / "clean")
    assert clean.wait(timeout=120) == 0, clean.stderr.read().decode()
    expected = _snapshot(tmp_path / "clean")
    assert len([k for k in expected if "/fused/" in k]) == N_PAIRS

    out = tmp_path / "killed"
    # kill while fusing the 1st, 2nd and 1st pair of successive attempts (each attempt resumes
    # the previous one), then once just after a fuse returned (while it scores and writes).
    for attempt, kill_at in enumerate([1, 2, 1]):
        marks = tmp_path / f"marks{attempt}"
        proc = _start(slow_env, out, workers=workers, marks=marks)
        _wait_marks(marks, kill_at, proc)
        assert _kill(proc) == -signal.SIGKILL  # really killed mid-run
    marks = tmp_path / "marks_late"
    proc = _start(slow_env, out, workers=workers, marks=marks)
    _wait_marks(marks, 2, proc)
    time.sleep(0.15 + 0.02)  # the fuse sleeps 0.15 s: now scoring / writing records
    assert _kill(proc) == -signal.SIGKILL
    assert _stored_pairs(out) < N_PAIRS  # still unfinished
    final = _start(slow_env, out, workers=workers)
    assert final.wait(timeout=120) == 0, final.stderr.read().decode()

    assert _snapshot(out) == expected
    for run in out.glob("sample/*/slow"):
        scores = pd.read_csv(run / "scores.csv")
        assert not scores.duplicated(["pair", "metric", "convention"]).any()
        assert not list(run.rglob("*.tmp")), "half-written temporaries left behind"


def test_a_second_writer_of_the_same_run_finishes_with_identical_results(
        tmp_path: Path, slow_env: dict[str, str]) -> None:
    """Two processes writing one run at once (the first paused inside its first pair while
    the second does everything): both succeed, the store holds each pair once and passes
    SQLite's integrity check, and the results equal an undisturbed run's."""
    import sqlite3

    ref = _start(slow_env, tmp_path / "ref", workers=1)
    out = tmp_path / "shared"
    marks = tmp_path / "marks"
    hold = tmp_path / "hold"
    hold.touch()  # the first run pauses inside its first pair until this file goes
    first = _start(dict(slow_env, SLOWFUSE_HOLD=str(hold)), out, marks=marks)
    try:
        _wait_marks(marks, 1, first)
        assert first.poll() is None
        second = _start(slow_env, out, workers=1)
        assert second.wait(timeout=120) == 0, second.stderr.read().decode()
        assert first.poll() is None  # still inside its first pair
    finally:
        hold.unlink(missing_ok=True)
    assert first.wait(timeout=120) == 0, first.stderr.read().decode()
    assert ref.wait(timeout=120) == 0
    assert _snapshot(out) == _snapshot(tmp_path / "ref")
    with sqlite3.connect(out / "fusionbench.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM pairs").fetchone()[0] == N_PAIRS


# ----------------------------------------------------------------- bad pairs


def _picky(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Average, but raises on 41-row images and returns NaN on 42-row ones."""
    if a.shape[0] == 41:
        raise ValueError("picky refuses this pair")
    out = (a + b) / 2
    if a.shape[0] == 42:
        out[3, 3] = np.nan
    return out


PICKY = Method(name="picky", kind="classic", title="picky", citation="", modalities=(),
               entry=f"{__name__}:_picky")


def _bad_dataset(root: Path) -> Path:
    rng = np.random.default_rng(7)
    for role in ("ir", "vi"):
        (root / role).mkdir(parents=True)
    for name, rows in [("good_1", 40), ("raises", 41), ("nan", 42), ("good_2", 43),
                       ("corrupt", 44)]:
        for role in ("ir", "vi"):
            write_image(root / role / f"{name}.png",
                        rng.integers(0, 256, (rows, 48), dtype=np.uint8))
    (root / "ir" / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    return root


@pytest.mark.parametrize("workers", ["1", "2"])
def test_bad_pairs_fail_alone_with_reasons_and_exit_code_3(
        tmp_path: Path, workers: str, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    data = _bad_dataset(tmp_path / "bad")
    real = Registry.builtin.__func__

    def builtin(cls, *, entry_points: bool = True) -> Registry:
        reg = real(cls, entry_points=entry_points)
        reg.add(PICKY)
        return reg

    monkeypatch.setattr(Registry, "builtin", classmethod(builtin))
    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["fusionbench", "run", "--method", "picky", "--dataset",
                                      str(data), "--out", str(out), "--metrics", "EN,SD",
                                      "--profile", "standard", "--workers", workers])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 3
    err = capsys.readouterr().err
    assert "FAILED corrupt:" in err and "cannot decode image" in err
    assert "FAILED raises: ValueError: picky refuses this pair" in err
    assert re.search(r"FAILED nan: method '_?picky' returned 1 NaN/inf pixels", err)
    run = next(out.glob("bad-*/all/picky"))  # an ad-hoc folder: base name + hash of its path
    pairs = pd.read_csv(run / "pairs.csv", keep_default_na=False).set_index("pair")
    assert pairs["status"].to_dict() == {"corrupt": "failed", "good_1": "ok", "good_2": "ok",
                                         "nan": "failed", "raises": "failed"}
    assert "corrupt.png" in pairs.loc["corrupt", "reason"]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["n_ok"] == 2 and sorted(manifest["pairs_failed"]) == ["corrupt", "nan",
                                                                          "raises"]
    scores = pd.read_csv(run / "scores.csv")
    assert sorted(scores["pair"].unique()) == ["good_1", "good_2"]
    assert not (run / "fused" / "nan.png").exists()  # no image is written for a failed pair


# ----------------------------------------------------------------- parallel workers


def _run_all(out: Path, workers: int, methods: tuple[str, ...] = ("average", "gff")
             ) -> list[int]:
    ds = resolve_dataset("sample")
    ticks: list[int] = []
    config = RunConfig(metrics=("EN", "MI", "SD"), profiles=("standard", "tang2022"),
                       workers=workers)
    for name in methods:
        for sub in ("ir-vi", "multifocus"):
            run_method(Registry.builtin().get(name), ds, ds.subset(sub), out, config,
                       progress=ticks.append)
    return ticks


def test_workers_give_results_identical_to_serial(tmp_path: Path) -> None:
    serial_ticks = _run_all(tmp_path / "serial", 1)
    parallel_ticks = _run_all(tmp_path / "parallel", 2)
    assert sum(serial_ticks) == sum(parallel_ticks) == 2 * N_PAIRS  # progress counts each pair
    for csv in sorted((tmp_path / "serial").rglob("scores.csv")):
        twin = tmp_path / "parallel" / csv.relative_to(tmp_path / "serial")
        assert csv.read_text() == twin.read_text()
    for img in sorted((tmp_path / "serial").rglob("fused/*.png")):
        twin = tmp_path / "parallel" / img.relative_to(tmp_path / "serial")
        assert np.array_equal(read_image(img), read_image(twin))


def test_progress_stays_correct_when_resuming_in_parallel(tmp_path: Path) -> None:
    ds = resolve_dataset("sample")
    sub = ds.subset("ir-vi")
    config = RunConfig(metrics=("EN",), profiles=("standard",), workers=2)
    method = Registry.builtin().get("average")
    run_method(method, ds, sub, tmp_path, config)
    import sqlite3

    with sqlite3.connect(tmp_path / "fusionbench.sqlite") as conn:  # forget two pairs
        conn.execute("DELETE FROM pairs WHERE pair IN ('scene_02', 'scene_04')")
    ticks: list[int] = []
    again = run_method(method, ds, sub, tmp_path, config, progress=ticks.append)
    assert sum(ticks) == 4 and again.skipped == 2 and len(again.ok) == 4


def test_cli_progress_bar_reaches_the_total(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["fusionbench", "run", "--method", "average", "--dataset",
                                      "sample", "--subset", "ir-vi", "--out", str(tmp_path),
                                      "--metrics", "EN", "--profile", "standard",
                                      "--workers", "2"])
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main()
    assert exit_info.value.code == 0
    err = capsys.readouterr().err
    assert "4/4" in err and "5/4" not in err
