"""Hostile report options (issue 13): a broken ``--template-dir`` template and an unwritable
output folder (``report``, ``regress --update``) end in one line naming the file or folder, not
a traceback."""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

import pytest
from cli_exit import main_exit_code
from test_report_fixtures import make_results

from fusionbench.errors import EXIT_OUTPUT, TemplateError


@pytest.mark.parametrize("text,words", [
    ("{% for x in %}\n", "line 1: Expected an expression"),
    ("{{ no_such_variable.x }}\n", "UndefinedError"),
])
def test_broken_template_names_its_file(tmp_path: Path, capsys: pytest.CaptureFixture,
                                        text: str, words: str) -> None:
    results = make_results(tmp_path / "res")
    templates = tmp_path / "tpl"
    templates.mkdir()
    (templates / "report.md.j2").write_text(text)
    code = main_exit_code(["report", "--results", str(results), "--out", str(tmp_path / "out"),
                  "--format", "md", "--no-progress", "--template-dir", str(templates)])
    err = capsys.readouterr().err
    assert code == TemplateError("x").exit_code == 1, err
    assert "Traceback" not in err and words in err
    assert err.startswith(f"error: template {templates / 'report.md.j2'}")


def _read_only(monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    """Make creating any file or folder under ``out`` fail with EROFS (we run as root)."""
    def guard(real):
        def call(path, *args, **kwargs):
            mode = args[0] if args else kwargs.get("mode", "r")
            writing = real is not io.open or any(c in str(mode) for c in "wax+")
            if str(path).startswith(str(out)) and writing:
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "mkdir", guard(os.mkdir))
    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(builtins, "open", io.open)


@pytest.mark.parametrize("exists", [False, True])
def test_read_only_report_folder_is_one_line_exit_6(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture,
                                                    exists: bool) -> None:
    results = make_results(tmp_path / "res")
    out = tmp_path / "out"
    if exists:
        out.mkdir()
    _read_only(monkeypatch, out)
    code = main_exit_code(["report", "--results", str(results), "--out", str(out), "--format", "md",
                  "--no-figures"])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err and "read-only" in err
    assert err.startswith(f"error: cannot write in {out}")


def test_regress_update_into_a_read_only_folder_is_one_line_exit_6(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    results = make_results(tmp_path / "res")
    ci = tmp_path / "ci"
    ci.mkdir()
    _read_only(monkeypatch, ci)
    code = main_exit_code(["regress", "--reference", str(ci / "reference.csv"), "--results",
                  str(results), "--update"])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err and err.startswith(f"error: cannot write in {ci}")
