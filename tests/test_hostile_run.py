"""Hostile datasets for ``run`` (issue 13): a file without a partner, a dataset without any
pair, and ``--method all`` skipping methods are each said, never silent."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from cli_exit import main_exit_code

from fusionbench import commands
from fusionbench.errors import NothingToScoreError
from fusionbench.imageio import write_image
from fusionbench.registry import Method, Registry
from fusionbench.report.load import load_results


def _images(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    ramp = np.linspace(20, 230, 24 * 32).reshape(24, 32).astype(np.uint8)
    for name in names:
        write_image(folder / name, ramp)


def _run(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str]:
    code = main_exit_code(["run", "--metrics", "EN", "--profile", "standard", "--workers", "1",
                           *args])
    return code, capsys.readouterr().err


def test_run_on_a_dataset_with_zero_pairs_exits_1_naming_the_files(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    _images(tmp_path / "ds" / "ir", ["a.png"])
    _images(tmp_path / "ds" / "vi", ["b.png"])
    out = tmp_path / "res"
    code, err = _run(["--method", "average", "--dataset", str(tmp_path / "ds"), "--out",
                      str(out)], capsys)
    assert code == NothingToScoreError("x").exit_code == 1, err
    assert "Traceback" not in err and "a.png" in err and "b.png" in err
    assert not out.exists()


def test_run_names_every_file_without_a_partner(tmp_path: Path,
                                                capsys: pytest.CaptureFixture) -> None:
    _images(tmp_path / "ds" / "ir", ["p1.png", "lonely_ir.png"])
    _images(tmp_path / "ds" / "vi", ["p1.png", "lonely_vi.png"])
    code, err = _run(["--method", "average", "--dataset", str(tmp_path / "ds"), "--out",
                      str(tmp_path / "res")], capsys)
    assert code == 0, err
    skipped = [line for line in err.splitlines() if "skipped file:" in line]
    assert len(skipped) == 2, err
    assert any("lonely_ir.png" in line for line in skipped)
    assert any("lonely_vi.png" in line for line in skipped)


def test_method_all_names_the_methods_it_skips(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture) -> None:
    real = Registry.builtin(entry_points=False)
    # one method that runs anywhere, and two published ones without files for this dataset
    small = Registry({"average": real.get("average"),
                      **{name: Method(name=name, kind="published", title=name, citation="",
                                      modalities=(), outputs={"tno": "fused/tno/x"})
                         for name in ("ganmcc", "ifsepr")}})
    monkeypatch.setattr(commands.Registry, "builtin", classmethod(lambda cls, **kw: small))
    _images(tmp_path / "ds" / "ir", ["p1.png"])
    _images(tmp_path / "ds" / "vi", ["p1.png"])
    code, err = _run(["--method", "all", "--dataset", str(tmp_path / "ds"), "--out",
                      str(tmp_path / "res")], capsys)
    assert code == 0, err
    assert re.search(r"^--method all: skipped 2 method\(s\) without published outputs for "
                     r"ds-\w+: ganmcc, ifsepr$", err, re.MULTILINE), err
    # the method that covers the dataset did run
    assert [r.method for r in load_results(tmp_path / "res").runs] == ["average"]
