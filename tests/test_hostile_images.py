"""Hostile images (issue 13): 12-bit data in 16-bit files, odd ranges, decompression bombs."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from fusionbench.cli import cli
from fusionbench.errors import ImageError
from fusionbench.imageio import MAX_PIXELS_ENV, read_image, write_image


@pytest.mark.parametrize("suffix", [".png", ".tif"])
@pytest.mark.parametrize("depth", [10, 12, 14, 16])
def test_16bit_file_is_scaled_from_its_real_bit_depth(tmp_path: Path, suffix: str,
                                                      depth: int) -> None:
    top = (1 << depth) - 1
    arr = np.array([[0, top // 2, top]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / f"x{suffix}")
    got = read_image(tmp_path / f"x{suffix}")
    # 0, the middle and the top of a depth-bit range land at 0, ~128 and 255 of 8 bits
    assert got.dtype == np.uint8 and got.tolist() == [[0, round(top // 2 * 255 / top), 255]]


def test_12bit_data_is_not_read_as_an_almost_black_image(tmp_path: Path) -> None:
    # the case of the issue: 0..4095 was read as 0..16
    ramp = np.linspace(0, 4095, 64).astype(np.uint16).reshape(8, 8)
    Image.fromarray(ramp).save(tmp_path / "ir.png")
    got = read_image(tmp_path / "ir.png")
    assert got.max() == 255 and got.min() == 0 and got.mean() > 100


def test_8bit_values_in_a_16bit_file_stay_as_they_are(tmp_path: Path) -> None:
    arr = np.array([[0, 100, 255]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "x.png")
    assert read_image(tmp_path / "x.png").tolist() == [[0, 100, 255]]


@pytest.mark.parametrize("values,words", [([[-5.0, 1.0]], "values -5..1"),
                                          ([[0.0, 300.0]], "values 0..300"),
                                          ([[0.0, np.nan]], "NaN")])
def test_float_images_outside_both_ranges_are_refused(tmp_path: Path, values: list,
                                                      words: str) -> None:
    Image.fromarray(np.array(values, np.float32), "F").save(tmp_path / "f.tif")
    with pytest.raises(ImageError, match=words) as info:
        read_image(tmp_path / "f.tif")
    assert "f.tif" in str(info.value)


def test_float_images_on_0_1_and_0_255(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], np.float32), "F").save(tmp_path / "a.tif")
    Image.fromarray(np.array([[0.0, 128.0, 255.0]], np.float32), "F").save(tmp_path / "b.tif")
    assert read_image(tmp_path / "a.tif").tolist() == [[0, 128, 255]]
    assert read_image(tmp_path / "b.tif").tolist() == [[0, 128, 255]]


def test_32bit_integer_outside_16_bits_is_refused(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0, 70000]], np.int32), "I").save(tmp_path / "i.tif")
    with pytest.raises(ImageError, match="0..70000"):
        read_image(tmp_path / "i.tif")


def _bomb_png(path: Path, width: int, height: int) -> None:
    """A valid 1x1 PNG whose header is rewritten to announce ``width`` x ``height``."""
    write_image(path, np.zeros((1, 1), np.uint8))
    data = bytearray(path.read_bytes())
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("side", [9000, 20000])  # above our limit; above Pillow's own too
def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path, side: int) -> None:
    _bomb_png(tmp_path / "bomb.png", side, side)
    with pytest.raises(ImageError, match="decompression bomb") as info:
        read_image(tmp_path / "bomb.png")
    assert "bomb.png" in str(info.value)


def test_pixel_limit_can_be_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_image(tmp_path / "x.png", np.zeros((10, 10), np.uint8))
    monkeypatch.setenv(MAX_PIXELS_ENV, "99")
    with pytest.raises(ImageError, match="limit of 99"):
        read_image(tmp_path / "x.png")
    monkeypatch.setenv(MAX_PIXELS_ENV, "100")
    assert read_image(tmp_path / "x.png").shape == (10, 10)


def test_datasets_check_reports_a_bomb_as_a_problem(tmp_path: Path) -> None:
    write_image(tmp_path / "ir" / "p.png", np.zeros((16, 16), np.uint8))
    _bomb_png(tmp_path / "vi" / "p.png", 30000, 30000)
    result = CliRunner().invoke(cli, ["datasets", "check", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "decompression bomb" in result.output and "Traceback" not in result.output
