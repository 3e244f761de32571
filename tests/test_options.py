"""Bad `run` / `eval` options are usage errors (exit 2) caught before any work: no results
folder is created or changed (issue 11 "validate options before any work", issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BAD_RUNS = [
    (["--workers", "0"], "--workers must be at least 1"),
    (["--workers", "-3"], "--workers must be at least 1"),
    (["--metrics", "EN,FOO"], "has no metric 'FOO'"),
    (["--metrics", "EN,"], "empty name"),
    (["--profile", "tang2O22"], "unknown metric profile"),
    (["--profile", "tang2022", "--metrics", "VIFF"], "profile 'tang2022' has no metric 'VIFF'"),
]


def _cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fusionbench.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("extra", "message"), BAD_RUNS)
def test_bad_scoring_option_is_usage_error_and_writes_nothing(tmp_path: Path, extra: list[str],
                                                              message: str) -> None:
    out = tmp_path / "results"
    proc = _cli(["run", "--method", "average", "--dataset", "sample", "--out", str(out),
                 *extra], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert not out.exists()


def test_empty_method_is_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "results"
    proc = _cli(["run", "--method", " , ", "--dataset", "sample", "--out", str(out)], tmp_path)
    assert proc.returncode == 2
    assert "--method is empty" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", ""])
def test_eval_name_must_be_a_plain_name(tmp_path: Path, name: str) -> None:
    fused = tmp_path / "fused"
    fused.mkdir()
    out = tmp_path / "deep" / "results"
    proc = _cli(["eval", "--fused", str(fused), "--dataset", "sample", "--subset", "ir-vi",
                 "--name", name, "--out", str(out)], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "--name" in proc.stderr
    assert not (tmp_path / "deep").exists() and not (tmp_path / "x").exists()


@pytest.mark.parametrize(("pattern", "message"), [
    ("fused.png", "exactly once"), ("{pair}{pair}.png", "exactly once"),
    ("{pair}_{x}.png", "a brace other than"), ("../{pair}.png", "not a path")])
def test_eval_pattern_must_be_a_file_name_rule(tmp_path: Path, pattern: str, message: str) -> None:
    fused = tmp_path / "fused"
    fused.mkdir()
    out = tmp_path / "results"
    proc = _cli(["eval", "--fused", str(fused), "--dataset", "sample", "--subset", "ir-vi",
                 "--name", "mine", "--pattern", pattern, "--out", str(out)], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and "--pattern" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("extra", [["--rtol", "-1e-6"], ["--atol", "-1"], ["--rtol", "nan"]])
def test_negative_or_nan_tolerance_is_usage_error_and_writes_nothing(tmp_path: Path,
                                                                    extra: list[str]) -> None:
    reference = tmp_path / "ref.csv"
    proc = _cli(["regress", "--reference", str(reference), "--results", str(tmp_path / "r"),
                 "--update", *extra], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "must be a finite number >= 0" in proc.stderr
    assert not reference.exists()
