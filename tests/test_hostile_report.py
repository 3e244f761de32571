"""Hostile report options (issue 13): a broken ``--template-dir`` template and an unwritable
output folder end in one line naming the file or folder, not a traceback."""

from __future__ import annotations

import builtins
import errno
import io
import os
from pathlib import Path

import pytest
from test_report_fixtures import make_results

from fusionbench import cli as cli_module
from fusionbench.errors import EXIT_OUTPUT, TemplateError


def _main(args: list[str]) -> int:
    try:
        cli_module.main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


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
    code = _main(["report", "--results", str(results), "--out", str(tmp_path / "out"),
                  "--format", "md", "--template-dir", str(templates)])
    err = capsys.readouterr().err
    assert code == TemplateError("x").exit_code == 1, err
    assert "Traceback" not in err and words in err
    assert err.startswith(f"error: template {templates / 'report.md.j2'}")


@pytest.mark.parametrize("exists", [False, True])
def test_read_only_report_folder_is_one_line_exit_6(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture,
                                                    exists: bool) -> None:
    results = make_results(tmp_path / "res")
    out = tmp_path / "out"
    if exists:
        out.mkdir()

    def guard(real):  # every way of creating a file or folder under `out` fails with EROFS
        def call(path, *args, **kwargs):
            if str(path).startswith(str(out)) and (real is not io.open or "r" not in (
                    args[0] if args else kwargs.get("mode", "r"))):
                raise OSError(errno.EROFS, "Read-only file system", str(path))
            return real(path, *args, **kwargs)
        return call

    monkeypatch.setattr(os, "mkdir", guard(os.mkdir))
    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(builtins, "open", io.open)
    code = _main(["report", "--results", str(results), "--out", str(out), "--format", "md",
                  "--no-figures"])
    err = capsys.readouterr().err
    assert code == EXIT_OUTPUT, err
    assert "Traceback" not in err and "read-only" in err
    assert err.startswith(f"error: cannot write in {out}")
