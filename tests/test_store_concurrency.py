"""Two ``fusionbench run`` processes writing to one results root at the same time (issue 11).

Both must finish correctly, or one must stop cleanly (exit 5, one ``error:`` line saying another
run is writing, no traceback) and succeed when run again; the stored results then equal those
of serial runs into a fresh root, and every ``*.sqlite`` under the root passes
``PRAGMA integrity_check``. The store is read through ``load_results`` only.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from store_checks import (
    PAIR_KEY,
    child_env,
    duplicated_keys,
    fusionbench_command,
    integrity_problems,
    load_or_none,
    score_values,
    start_child,
    wait_for_new_png,
    write_pairs,
    wrong_scores,
)

from fusionbench.imageio import read_image

EXIT_LOCKED = 5
#: Enough work per run (8 pairs of 64x64, two profiles) for the two processes to overlap.
N_PAIRS, SIZE = 8, 64


def _run_args(method: str, dataset: Path, out: Path) -> list[str]:
    return ["run", "--method", method, "--dataset", str(dataset), "--profile", "standard",
            "--profile", "tang2022", "--workers", "1", "--out", str(out)]


def _serial(method: str, dataset: Path, out: Path) -> None:
    proc = subprocess.run(fusionbench_command(*_run_args(method, dataset, out)),
                          capture_output=True, text=True, env=child_env(), timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_pairs(tmp_path_factory.mktemp("data") / "conc", n=N_PAIRS, size=SIZE, seed=5)


@pytest.fixture(scope="module")
def serial_root(dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``average`` then ``maximum``, one after the other, into a fresh root."""
    out = tmp_path_factory.mktemp("serial") / "results"
    for method in ("average", "maximum"):
        _serial(method, dataset, out)
    return out


def _fused_images(root: Path) -> dict[tuple, np.ndarray]:
    results = load_or_none(root)
    assert results is not None
    return {tuple(row[:4]): read_image(row[4])
            for row in results.pairs[[*PAIR_KEY, "fused_path"]].itertuples(index=False)}


@pytest.mark.parametrize("methods", [("average", "maximum"), ("average", "average")],
                         ids=["different methods", "same method"])
def test_two_runs_into_one_root_at_once_equal_serial_runs(
        methods: tuple[str, str], dataset: Path, serial_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "results"
    logs = [tmp_path / f"run{i}.log" for i in range(2)]
    procs = [start_child(_run_args(m, dataset, out), log)
             for m, log in zip(methods, logs, strict=True)]
    overlapped = all(p.poll() is None for p in procs)  # both alive once both had started
    codes = [p.wait(timeout=300) for p in procs]
    outputs = [log.read_text() for log in logs]
    assert overlapped, "the first run ended before the second started: nothing was tested"
    for method, code, text in zip(methods, codes, outputs, strict=True):
        assert code in (0, EXIT_LOCKED), f"{method}: exit {code}\n{text}"
        assert "Traceback" not in text, text
        if code == EXIT_LOCKED:
            errors = [line for line in text.splitlines() if line.startswith("error:")]
            assert len(errors) == 1 and str(out) in errors[0], text  # names where
            _serial(method, dataset, out)  # the run that waited its turn
    assert codes.count(EXIT_LOCKED) < 2, outputs

    assert not integrity_problems(out)
    stored = load_or_none(out)
    assert stored is not None and not duplicated_keys(stored)
    assert not wrong_scores(stored)
    expected = load_or_none(serial_root)
    wanted = set(methods)
    pd.testing.assert_series_equal(
        score_values(stored), score_values(expected)[lambda s: s.index.get_level_values(
            "method").isin(wanted)])
    got, reference = _fused_images(out), _fused_images(serial_root)
    assert sorted(got) == sorted(k for k in reference if k[0] in wanted)
    assert all(np.array_equal(got[key], reference[key]) for key in got)


def test_clean_while_a_run_writes_leaves_the_run_whole_or_gone(
        dataset: Path, serial_root: Path, tmp_path: Path) -> None:
    """``clean`` started while a run is storing its pairs waits, fails cleanly (exit 5) or
    drops the run: in the end the run is either stored whole (as a serial run stores it) or
    not at all, never a part of it reported as done."""
    out = tmp_path / "results"
    run = start_child(_run_args("average", dataset, out), tmp_path / "run.log")
    wait_for_new_png(out, 0, run, limit=120)
    assert run.poll() is None, "the run ended before clean started: nothing was tested"
    cleaned = subprocess.run(fusionbench_command("clean", "--results", str(out), "--method",
                                                 "average", "--yes"),
                             capture_output=True, text=True, env=child_env(), timeout=300,
                             check=False)
    code = run.wait(timeout=300)
    text = (tmp_path / "run.log").read_text()
    assert code in (0, EXIT_LOCKED) and "Traceback" not in text, f"run: exit {code}\n{text}"
    assert cleaned.returncode in (0, EXIT_LOCKED), cleaned.stdout + cleaned.stderr
    assert "Traceback" not in cleaned.stderr, cleaned.stderr
    assert not integrity_problems(out)
    stored = load_or_none(out)
    if stored is None or not len(stored.pairs):
        return  # dropped whole
    assert not duplicated_keys(stored) and not wrong_scores(stored)
    expected = score_values(load_or_none(serial_root))
    pd.testing.assert_series_equal(score_values(stored), expected[
        expected.index.get_level_values("method") == "average"])
