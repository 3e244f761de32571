"""A stored score is reused only while the files behind it are unchanged (issue 11, first case:
`eval --name mine` twice with other images must not report the first folder's scores)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

SAMPLE = Path(__file__).resolve().parents[1] / "datasets" / "sample" / "ir-vi"


def _eval(fused: Path, out: Path) -> pd.DataFrame:
    proc = subprocess.run([sys.executable, "-m", "fusionbench.cli", "eval", "--fused", str(fused),
                           "--dataset", "sample", "--subset", "ir-vi", "--name", "mine",
                           "--metrics", "EN,SD", "--profile", "standard", "--workers", "1",
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    run = next(out.glob("*/*/mine"))
    return pd.read_csv(run / "scores.csv").set_index(["pair", "metric"])["value"]


def test_second_eval_with_other_images_is_rescored(tmp_path: Path) -> None:
    out = tmp_path / "results"
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(SAMPLE / "ir", first)
    shutil.copytree(SAMPLE / "vi", second)
    scores_first = _eval(first, out)
    scores_second = _eval(second, out)
    fresh = _eval(second, tmp_path / "fresh")
    pd.testing.assert_series_equal(scores_second, fresh)
    assert not scores_first.equals(scores_second)
