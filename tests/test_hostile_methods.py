"""Hostile method outputs (issue 13): a broken output is an error naming the method, never a
clipped image that gets scored."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from fusionbench.data import resolve_dataset
from fusionbench.errors import MethodError
from fusionbench.fusion import check_output, fuse_images
from fusionbench.registry import Method
from fusionbench.runner import RunConfig, run_method

A = np.full((4, 4), 100, np.uint8)
B = np.full((4, 4), 200, np.uint8)


@pytest.mark.parametrize("output,words", [
    (lambda a, b: np.rint((a + b) / 2 * 255).astype(np.uint8), "integer array (uint8)"),
    (lambda a, b: (a + b) / 2 * 255, "values up to 150"),
    (lambda a, b: a > 0.5, "integer array (bool)"),
    (lambda a, b: None, "expected a float array"),
    (lambda a, b: np.stack([a, a, a], axis=-1), "shape (4, 4, 3)"),
    (lambda a, b: a - 1.0, "values down to -0.6"),
    (lambda a, b: a.astype(np.complex128), "dtype complex128"),
    (lambda a, b: np.full_like(a, np.inf), "NaN/inf"),
])
def test_output_breaking_the_contract_names_the_method(output, words: str) -> None:
    with pytest.raises(MethodError, match="method 'mine'") as info:
        fuse_images(output, A, B, name="mine")
    assert words in str(info.value)


def test_small_overshoot_is_clipped_and_float32_accepted() -> None:
    out = fuse_images(lambda a, b: (a * 0 + 1.3).astype(np.float32), A, B, name="m")
    assert out.dtype == np.uint8 and out.max() == 255
    assert check_output(np.full((2, 2), -0.2), (2, 2), "m").min() == 0.0


def test_callable_name_is_used_when_none_given() -> None:
    def scaled_fuse(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * 255

    with pytest.raises(MethodError, match="method 'scaled_fuse'"):
        fuse_images(scaled_fuse, A, B)


PLUGIN = '''
import numpy as np

def fuse_0_255(a, b):
    return (a + b) / 2 * 255.0
'''


def test_run_marks_a_0_255_method_failed_instead_of_scoring_white(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the case: such a method was clipped to white and scored (EN 0.57)
    (tmp_path / "mod").mkdir()
    (tmp_path / "mod" / "bad255.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path / "mod"))
    monkeypatch.delitem(sys.modules, "bad255", raising=False)
    method = Method(name="bad255", kind="classic", title="x", citation="", modalities=(),
                    entry="bad255:fuse_0_255")
    ds = resolve_dataset("sample")
    summary = run_method(method, ds, ds.subset("ir-vi"), tmp_path / "out",
                         RunConfig(metrics=("EN",), profiles=("standard",), workers=1))
    assert summary.ok == [] and len(summary.failed) == summary.n_pairs == 4
    assert all("returned values up to" in reason for reason in summary.failed.values())
    assert not list((tmp_path / "out").rglob("fused/*.png"))
