"""Hostile dataset folders (issue 13): every file left out is named, case-insensitive pairing
where unambiguous, and ``datasets check`` applies exactly the checks ``run`` applies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.data import MIN_SIDE, Pair, check_subset, load_pair, pair_files, resolve_dataset
from fusionbench.errors import DatasetError, NothingToScoreError
from fusionbench.imageio import write_image
from fusionbench.registry import Registry
from fusionbench.runner import RunConfig, run_method


def _img(path: Path, shape: tuple[int, int] = (16, 16), value: int = 0) -> None:
    rng = np.random.default_rng(abs(hash(path.name)) % 1000)
    write_image(path, (rng.integers(0, 255, shape) if value is None else
                       np.full(shape, value)).astype(np.uint8))


def test_every_unpaired_file_is_named(tmp_path: Path) -> None:
    for name in ("ir/a.png", "vi/a.png", "ir/only_ir.png", "vi/only_vi.jpg"):
        _img(tmp_path / name)
    report = pair_files(tmp_path / "ir", tmp_path / "vi")
    assert [p.name for p in report.pairs] == ["a"]
    assert report.problems() == [f"{tmp_path}/ir/only_ir.png: missing partner in {tmp_path}/vi",
                                 f"{tmp_path}/vi/only_vi.jpg: missing partner in {tmp_path}/ir"]


def test_case_insensitive_pairing_where_unambiguous(tmp_path: Path) -> None:
    for name in ("ir/Marne_01.png", "vi/marne_01.png",  # pairs, named after the first role
                 "ir/x.png", "ir/X.png", "vi/x.png",   # ambiguous ignoring case: exact only
                 "ir/Y.png", "ir/y.png", "vi/Y2.png"):
        _img(tmp_path / name)
    report = pair_files(tmp_path / "ir", tmp_path / "vi")
    assert [p.name for p in report.pairs] == ["Marne_01", "x"]
    assert report.notes() == ["Marne_01: paired ignoring case (Marne_01.png with marne_01.png)"]
    left_out = {path.name for path, _ in report.unpaired}
    assert left_out == {"X.png", "Y.png", "y.png", "Y2.png"}


def test_several_files_for_one_stem_are_left_out_and_named(tmp_path: Path) -> None:
    for name in ("ir/p.png", "ir/p.jpg", "vi/p.png", "ir/q.png", "vi/q.png"):
        _img(tmp_path / name)
    report = pair_files(tmp_path / "ir", tmp_path / "vi")
    assert [p.name for p in report.pairs] == ["q"]  # never silently the first of two files
    assert any("several files for pair 'p': p.jpg, p.png" in line for line in report.problems())


def test_zero_pairs_is_an_error_naming_the_files(tmp_path: Path) -> None:
    _img(tmp_path / "ir" / "01.png")
    _img(tmp_path / "vi" / "1.png")
    with pytest.raises(NothingToScoreError, match="no pairs in") as info:
        pair_files(tmp_path / "ir", tmp_path / "vi").require_pairs()
    assert "01.png: missing partner" in str(info.value) and info.value.exit_code == 1


def test_load_pair_refuses_what_run_refuses(tmp_path: Path) -> None:
    for name, shape in (("ir/t.png", (1, 1)), ("vi/t.png", (1, 1)),
                        ("ir/m.png", (16, 16)), ("vi/m.png", (16, 17))):
        _img(tmp_path / name, shape)
    with pytest.raises(DatasetError, match=f"at least {MIN_SIDE} pixels"):
        load_pair(Pair("t", tmp_path / "ir" / "t.png", tmp_path / "vi" / "t.png"))
    with pytest.raises(DatasetError, match="size mismatch"):
        load_pair(Pair("m", tmp_path / "ir" / "m.png", tmp_path / "vi" / "m.png"))


def test_datasets_check_flags_exactly_the_pairs_run_fails(tmp_path: Path) -> None:
    # the case: `datasets check` called a 1x1 pair "ok" that `run` then rejected
    cases = {"fine": ((20, 20), (20, 20)), "tiny": ((1, 1), (1, 1)),
             "thin": ((7, 30), (7, 30)), "mismatch": ((20, 20), (20, 21))}
    for name, (shape_a, shape_b) in cases.items():
        _img(tmp_path / "ir" / f"{name}.png", shape_a, None)
        _img(tmp_path / "vi" / f"{name}.png", shape_b, None)
    (tmp_path / "ir" / "corrupt.png").write_bytes(b"not a png")
    _img(tmp_path / "vi" / "corrupt.png")
    ds = resolve_dataset(str(tmp_path))
    n, problems = check_subset(ds, ds.subsets[0])
    flagged = {p.split(":")[0].rsplit("/", 1)[-1].removesuffix(".png") for p in problems}
    summary = run_method(Registry.builtin().get("average"), ds, ds.subsets[0], tmp_path / "r",
                         RunConfig(metrics=("EN",), profiles=("standard",), workers=1))
    assert n == 5 and flagged == set(summary.failed) == {"tiny", "thin", "mismatch", "corrupt"}
    result = CliRunner().invoke(cli, ["datasets", "check", str(tmp_path)])
    assert result.exit_code == 1 and ": 5 pairs, 4 problem(s)" in result.output
    assert "tiny.png and tiny.png are 1x1; both sides must be at least 8" in result.output
