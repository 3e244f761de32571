"""Hostile cases of issue 13: every failure is one clear line with its documented exit code.

OS errors (disk full, permission denied, read-only file system) are simulated by making the
system call fail (the tests run as root, where a ``chmod 0o555`` folder stays writable).
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import click
import pytest

from fusionbench import cli as cli_module
from fusionbench.atomic import atomic_write_text
from fusionbench.errors import (
    EXIT_INTERNAL,
    EXIT_LOCKED,
    EXIT_OUTPUT,
    EXIT_USAGE,
    DatasetError,
    FusionbenchError,
    ImageError,
    MethodError,
    MetricError,
    OutputError,
    RunLockedError,
    UsageError,
)


def _fail_with(monkeypatch: pytest.MonkeyPatch, call: str, code: int) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, call, broken)


def _main(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        cli_module.main(args)
    code = exit_info.value.code
    return 0 if code is None else int(code)


def test_every_kind_has_its_documented_exit_code() -> None:
    # the table in fusionbench/errors.py's docstring
    assert FusionbenchError("x").exit_code == 1
    assert UsageError("x").exit_code == EXIT_USAGE == 2
    for kind in (DatasetError, MethodError, MetricError):
        assert kind("x").exit_code == 1
    assert ImageError("a.png", "x").exit_code == 1
    assert RunLockedError("x").exit_code == EXIT_LOCKED == 5
    assert OutputError("d", "x").exit_code == EXIT_OUTPUT == 6
    assert cli_module.describe_error(ValueError("boom"))[1] == EXIT_INTERNAL == 70


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_files_get_the_process_umask(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        target = tmp_path / "sub" / "table.csv"
        atomic_write_text(target, "a,b\n")
        assert stat.S_IMODE(target.stat().st_mode) == mode
        atomic_write_text(target, "a,b\n1,2\n")  # a replacement keeps it
        assert stat.S_IMODE(target.stat().st_mode) == mode
    finally:
        os.umask(old)
    assert [p.name for p in target.parent.iterdir()] == ["table.csv"]


@pytest.mark.parametrize("code,words", [(errno.ENOSPC, "disk is full"),
                                        (errno.EACCES, "permission denied"),
                                        (errno.EROFS, "read-only")])
def test_atomic_write_failure_names_the_folder_and_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, words: str) -> None:
    target = tmp_path / "out" / "scores.csv"
    target.parent.mkdir()
    _fail_with(monkeypatch, "fsync", code)
    with pytest.raises(OutputError, match=words) as info:
        atomic_write_text(target, "x")
    assert info.value.folder == str(target.parent)
    assert list(target.parent.iterdir()) == []  # no temporary file left


def test_unwritable_folder_at_creation_is_an_output_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_with(monkeypatch, "mkdir", errno.EROFS)
    with pytest.raises(OutputError, match="read-only"):
        atomic_write_text(tmp_path / "new" / "x.txt", "x")


def test_disk_full_during_run_is_one_line_exit_6(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "results"
    _fail_with(monkeypatch, "fsync", errno.ENOSPC)
    code = _main(monkeypatch, ["run", "--method", "average", "--dataset", "sample",
                               "--subset", "ir-vi", "--out", str(out), "--workers", "1",
                               "--metrics", "EN", "--profile", "standard"])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "disk is full" in lines[0] and str(out) in lines[0]


def test_raw_os_error_from_any_command_becomes_an_output_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", "/mnt/ro/reports/index.html")

    monkeypatch.setattr("fusionbench.commands.list_metrics", read_only)
    assert _main(monkeypatch, ["metrics"]) == EXIT_OUTPUT
    err = capsys.readouterr().err
    assert err.strip() == ("error: cannot write in /mnt/ro/reports: the file system is "
                           "read-only: choose a writable folder")


def test_unexpected_exception_is_internal_error_and_debug_shows_traceback(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def bug() -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("fusionbench.commands.list_metrics", bug)
    monkeypatch.setenv(cli_module.DEBUG_ENV, "0")  # restored after the test
    assert _main(monkeypatch, ["metrics"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error: ZeroDivisionError" in err
    assert "--debug" in err
    assert _main(monkeypatch, ["--debug", "metrics"]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "internal error" in err


def test_fusionbench_error_prints_one_line_without_traceback(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "fusionbench", "run", "--method", "average",
                             "--dataset", str(tmp_path / "nowhere")], capture_output=True,
                            text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown dataset") and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_click_usage_errors_keep_exit_2(monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture) -> None:
    assert _main(monkeypatch, ["run", "--nope"]) == click.UsageError.exit_code == 2
    assert "No such option" in capsys.readouterr().err
