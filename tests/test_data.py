"""Dataset cards, pairing by stem, published layouts, ad-hoc folders and layout checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fusionbench.data import check_subset, dataset_cards, resolve_data_root, resolve_dataset
from fusionbench.errors import DatasetError
from fusionbench.imageio import read_image, write_image
from fusionbench.sample import generate, sample_dir

EXPECTED_CARDS = {"tno", "tno-train", "roadscene", "medical", "multifocus", "vifb", "sample"}


def test_every_card_parses_and_names_roles() -> None:
    cards = dataset_cards(None)
    assert EXPECTED_CARDS <= set(cards)
    for ds in cards.values():
        assert ds.licence and ds.provenance and ds.how_to_get, ds.name
        for sub in ds.subsets:
            assert len(sub.roles) == 2
    medical = {s.name: s.roles for s in cards["medical"].subsets}
    assert medical["ct-mri"] == ("ct", "mri") and medical["pet-mri"] == ("pet", "mri")
    assert cards["sample"].synthetic


def test_sample_is_embedded_and_matches_its_generator() -> None:
    ds = resolve_dataset("sample")
    pairs = {s.name: ds.pairs(s) for s in ds.subsets}
    assert len(pairs["ir-vi"]) == 4 and len(pairs["multifocus"]) == 3
    for rel, image in generate().items():
        assert np.array_equal(read_image(sample_dir() / rel), image), rel


def test_sample_check_is_clean() -> None:
    ds = resolve_dataset("sample")
    for sub in ds.subsets:
        n, problems = check_subset(ds, sub)
        assert n > 0 and problems == []


def _pair_folder(root: Path, roles: tuple[str, str], names: list[str],
                 shape: tuple[int, int] = (8, 8)) -> None:
    for role in roles:
        for name in names:
            write_image(root / role / f"{name}.png", np.zeros(shape, np.uint8))


def test_adhoc_folder_with_published_roadscene_layout(tmp_path: Path) -> None:
    _pair_folder(tmp_path, ("cropinfrared", "crop_LR_visible"), ["FLIR_1", "FLIR_2"])
    ds = resolve_dataset(str(tmp_path))
    assert ds.roles == ("cropinfrared", "crop_LR_visible")
    assert [p.name for p in ds.pairs(ds.subsets[0])] == ["FLIR_1", "FLIR_2"]


def test_roadscene_card_accepts_published_folder_names(tmp_path: Path) -> None:
    _pair_folder(tmp_path / "roadscene", ("cropinfrared", "crop_LR_visible"), ["FLIR_1"])
    ds = resolve_dataset("roadscene", tmp_path)
    a_dir, b_dir = ds.role_dirs(ds.subsets[0])
    assert (a_dir.name, b_dir.name) == ("cropinfrared", "crop_LR_visible")


def test_check_reports_every_problem(tmp_path: Path) -> None:
    _pair_folder(tmp_path, ("ir", "vi"), ["ok", "lonely_ir"])
    (tmp_path / "vi" / "lonely_ir.png").unlink()
    write_image(tmp_path / "vi" / "lonely_vi.png", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "ir" / "big.png", np.zeros((8, 8), np.uint8))
    write_image(tmp_path / "vi" / "big.png", np.zeros((9, 8), np.uint8))
    (tmp_path / "ir" / "broken.png").write_bytes(b"garbage")
    write_image(tmp_path / "vi" / "broken.png", np.zeros((8, 8), np.uint8))
    ds = resolve_dataset(str(tmp_path))
    n, problems = check_subset(ds, ds.subsets[0])
    text = "\n".join(problems)
    assert n == 3
    assert "lonely_ir.png: missing partner" in text and "lonely_vi.png: missing partner" in text
    assert "big: size mismatch" in text and "broken.png: cannot decode" in text


def test_unknown_dataset_suggests(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="Did you mean 'roadscene'"):
        resolve_dataset("roadscen", tmp_path)


def test_folder_without_roles_is_refused(tmp_path: Path) -> None:
    (tmp_path / "only").mkdir()
    with pytest.raises(DatasetError, match="two role sub-folders"):
        resolve_dataset(str(tmp_path))


def test_data_root_accepts_shared_folder(tmp_path: Path) -> None:
    (tmp_path / "data" / "tno").mkdir(parents=True)
    assert resolve_data_root(tmp_path) == tmp_path / "data"


def test_real_datasets_resolve(data_root: Path) -> None:
    counts = {"tno": 42, "tno-train": 17, "roadscene": 221, "multifocus": 63, "vifb": 21}
    for name, n in counts.items():
        ds = resolve_dataset(name, data_root)
        assert len(ds.pairs(ds.subsets[0])) == n, name
    medical = resolve_dataset("medical", data_root)
    assert {s.name for s in medical.available_subsets()} == {
        "ct-mri", "pet-mri", "spect-mri", "ifcnn-md"}
