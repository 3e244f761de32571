"""Image reading: odd files are normalised by a stated rule or refused with a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fusionbench.errors import ImageError
from fusionbench.imageio import read_image, write_image


def test_roundtrip_gray_and_colour(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for shape in [(7, 5), (6, 9, 3)]:
        img = rng.integers(0, 256, shape, dtype=np.uint8)
        write_image(tmp_path / "x.png", img)
        assert np.array_equal(read_image(tmp_path / "x.png"), img)


def test_16bit_scaled_to_8bit(tmp_path: Path) -> None:
    arr = np.array([[0, 257, 65535]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "a.png")
    assert read_image(tmp_path / "a.png").tolist() == [[0, 1, 255]]


def test_rgba_drops_alpha_and_palette_expands(tmp_path: Path) -> None:
    rgba = np.zeros((3, 4, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 200, 10
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    assert out.shape == (3, 4, 3) and out[0, 0].tolist() == [200, 0, 0]
    pal = Image.fromarray(np.array([[0, 1]], np.uint8), "P")
    pal.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    pal.save(tmp_path / "p.png")
    assert read_image(tmp_path / "p.png").tolist() == [[[10, 20, 30], [40, 50, 60]]]


@pytest.mark.parametrize("content, problem", [(b"", "empty"), (b"not an image", "cannot decode")])
def test_bad_files_name_the_file(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageError, match=problem) as info:
        read_image(path)
    assert "bad.png" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not found"):
        read_image(tmp_path / "nope.png")


def test_write_refuses_float(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="uint8"):
        write_image(tmp_path / "x.png", np.zeros((2, 2)))
