"""Cards of the large modern sets (LLVIP, M3FD, MSRS, FMB) on small synthetic copies of their
published layouts: the official test split is found (train files beside it are not), the run
works on it, and absent data says where to obtain it.

The layouts are those the sets' own archives unpack to (see each card's ``provenance``); the
copies here have a few tiny images with the sets' file naming, not the real pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.data import check_subset, dataset_cards, resolve_dataset
from fusionbench.errors import DatasetError
from fusionbench.imageio import write_image
from fusionbench.registry import Registry
from fusionbench.runner import RunConfig, run_method

#: name -> (test-split folders as published, {train or other folders}, pair names, extension,
#:          words of where to obtain it, pairs of the real test split)
LAYOUTS: dict[str, tuple[tuple[str, str], tuple[str, ...], list[str], str, str, int]] = {
    "llvip": (("llvip/infrared/test", "llvip/visible/test"),
              ("llvip/infrared/train", "llvip/visible/train", "llvip/Annotations"),
              ["190001", "190002", "260536"], ".jpg", "bupt-ai-cz", 3463),
    "msrs": (("msrs/test/ir", "msrs/test/vi"),
             ("msrs/train/ir", "msrs/train/vi", "msrs/test/Segmentation_labels"),
             ["00001D", "00537D", "01023N"], ".png", "Linfeng-Tang/MSRS", 361),
    "m3fd": (("m3fd/M3FD_Fusion/Ir", "m3fd/M3FD_Fusion/Vis"),
             ("m3fd/M3FD_Detection/Ir", "m3fd/M3FD_Detection/Vis"),
             ["00000", "00001", "00299"], ".png", "JinyuanLiu-CV/TarDAL", 300),
    "fmb": (("fmb/test/Infrared", "fmb/test/Visible"),
            ("fmb/train/Infrared", "fmb/train/Visible", "fmb/test/Label", "fmb/test/color"),
            ["00007", "00123", "01499"], ".png", "JinyuanLiu-CV/SegMiF", 280),
}


def _write_layout(root: Path, name: str) -> list[str]:
    """A synthetic copy of ``name``'s published layout; returns the test pairs' names."""
    (ir_dir, vi_dir), others, pairs, ext, _, _ = LAYOUTS[name]
    rng = np.random.default_rng(len(name))
    for stem in pairs:
        ir = rng.integers(0, 256, (24, 32), dtype=np.uint8)
        write_image(root / ir_dir / f"{stem}{ext}", np.repeat(ir[..., None], 3, axis=2))
        write_image(root / vi_dir / f"{stem}{ext}", rng.integers(0, 256, (24, 32, 3),
                                                                  dtype=np.uint8))
    for folder in others:  # train splits and labels beside the test split: never paired in
        write_image(root / folder / f"train_only{ext}", np.zeros((24, 32), np.uint8))
    return pairs


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_official_test_split_is_found_in_the_published_layout(tmp_path: Path, name: str) -> None:
    expected = _write_layout(tmp_path, name)
    ds = resolve_dataset(name, tmp_path)
    sub = ds.subset("test")
    assert sub.roles == ("ir", "vi") and ds.subsets[0] == sub  # the test split comes first
    assert [p.name for p in ds.pairs(sub)] == expected
    assert check_subset(ds, sub) == (len(expected), [])
    assert f"{LAYOUTS[name][5]:,}" in sub.description  # the real split's size, stated


def test_m3fd_detection_set_is_a_second_optional_subset(tmp_path: Path) -> None:
    _write_layout(tmp_path, "m3fd")
    ds = resolve_dataset("m3fd", tmp_path)
    detection = ds.subset("detection")
    assert detection.optional and [p.name for p in ds.pairs(detection)] == ["train_only"]


def test_a_run_on_the_llvip_layout_scores_every_test_pair(tmp_path: Path) -> None:
    data = tmp_path / "data"
    expected = _write_layout(data, "llvip")
    ds = resolve_dataset("llvip", data)
    config = RunConfig(metrics=("EN", "SD"), profiles=("standard",), workers=1)
    summary = run_method(Registry.builtin().get("average"), ds, ds.subset("test"),
                         tmp_path / "results", config, data_root=data)
    assert sorted(summary.ok) == expected and not summary.failed


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_absent_data_says_where_to_obtain_it(tmp_path: Path, name: str) -> None:
    source = LAYOUTS[name][4]
    ds = resolve_dataset(name, tmp_path)  # an empty data root
    with pytest.raises(DatasetError, match=f"{name}.*not found.*{source}"):
        ds.pairs(ds.subset("test"))
    (tmp_path / LAYOUTS[name][0][0]).mkdir(parents=True)  # half a layout: the vi folder lacks
    with pytest.raises(DatasetError, match=f"no folder for role 'vi'.*{source}"):
        ds.pairs(ds.subset("test"))


def test_run_without_the_data_says_where_to_obtain_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["run", "--method", "average", "--dataset", "llvip",
                                      "--data-root", str(tmp_path), "--out", str(tmp_path / "r")])
    assert result.exit_code == DatasetError.exit_code  # printed by the CLI's one error handler
    assert "bupt-ai-cz" in result.output and not (tmp_path / "r").exists()


def test_large_sets_are_optional_so_checks_pass_without_them(tmp_path: Path) -> None:
    """None of them is in the shared data; `datasets check` skips them unless present."""
    for name in LAYOUTS:
        result = CliRunner().invoke(cli, ["datasets", "--data-root", str(tmp_path), "check",
                                          name])
        assert result.exit_code == 0 and "optional subset not present" in result.output


def test_every_large_card_is_listed() -> None:
    assert set(LAYOUTS) <= set(dataset_cards(None))
