"""CLF-Net training patches and the train/test disjointness of tno-train."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fusionbench.errors import DatasetError
from fusionbench.imageio import read_image, write_image
from fusionbench.methods.clfnet.data import list_pairs, load_patches, pair_patches, tile_starts


def test_tile_starts_cover_axis_without_padding() -> None:
    assert tile_starts(128) == [0]
    assert tile_starts(160) == [0, 32]
    assert tile_starts(161) == [0, 32, 33]
    assert tile_starts(439) == [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 311]
    with pytest.raises(ValueError, match="shorter"):
        tile_starts(100)


def test_pair_patches_edge_tiles_aligned_to_border() -> None:
    ir = np.arange(130 * 170, dtype=np.int64).reshape(130, 170).astype(np.uint8)
    vi = 255 - ir
    tiles = pair_patches(ir, vi)
    assert tiles.shape == (len(tile_starts(130)) * len(tile_starts(170)), 2, 128, 128)
    np.testing.assert_array_equal(tiles[-1, 0], ir[-128:, -128:])  # bottom-right tile
    np.testing.assert_array_equal(tiles[-1, 1], vi[-128:, -128:])
    np.testing.assert_array_equal(tiles[0, 0], ir[:128, :128])


def test_list_pairs_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="'ir/'"):
        list_pairs(tmp_path)
    (tmp_path / "ir").mkdir()
    (tmp_path / "vi").mkdir()
    with pytest.raises(DatasetError, match="no image pairs"):
        list_pairs(tmp_path)
    write_image(tmp_path / "ir" / "a.png", np.zeros((130, 130), np.uint8))
    with pytest.raises(DatasetError, match="without a partner"):
        list_pairs(tmp_path)
    write_image(tmp_path / "vi" / "a.png", np.zeros((100, 130), np.uint8))
    with pytest.raises(DatasetError, match="differ in size"):
        load_patches(tmp_path)


@pytest.mark.data
def test_tno_train_gives_3005_patches(data_root: Path) -> None:
    # 3,005: stated in data/tno-train/README.md and clfnet.md for 128x128 tiles at stride 32.
    patches, names = load_patches(data_root / "tno-train")
    assert tuple(patches.shape) == (3005, 2, 128, 128)
    assert len(names) == 17
    assert str(patches.dtype) == "torch.uint8"


@pytest.mark.data
def test_tno_train_disjoint_from_tno(data_root: Path) -> None:
    train, test = data_root / "tno-train", data_root / "tno"
    for role in ("ir", "vi"):
        train_stems = {p.stem.lower() for p in (train / role).iterdir()}
        test_stems = {p.stem.lower() for p in (test / role).iterdir()}
        assert train_stems and test_stems
        assert not train_stems & test_stems, role
    test_images: dict[tuple[int, ...], list[np.ndarray]] = {}
    for role in ("ir", "vi"):
        for p in sorted((test / role).iterdir()):
            img = read_image(p)
            test_images.setdefault(img.shape, []).append(img)
    for role in ("ir", "vi"):
        for p in sorted((train / role).iterdir()):
            img = read_image(p)
            for other in test_images.get(img.shape, []):
                assert not np.array_equal(img, other), p.name
