"""The colour rule of fusion and MATLAB-exact gray conversion."""

from __future__ import annotations

import numpy as np
import pytest

from fusionbench.colour import rgb2gray_matlab, rgb_to_ycbcr
from fusionbench.errors import MethodError
from fusionbench.fusion import fuse_images


def _average(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a + b) / 2


def test_rgb2gray_matlab_matches_formula() -> None:
    # Golden values: 0.298936021293775*R + 0.587043074451121*G + 0.114020904255103*B rounded
    # half away from zero (MATLAB rgb2gray on uint8), computed by hand.
    rgb = np.array([[[255, 255, 255], [1, 1, 1], [100, 50, 25], [0, 0, 255]]], np.uint8)
    assert rgb2gray_matlab(rgb).tolist() == [[255, 1, 62, 29]]


def test_gray_inputs_stay_gray() -> None:
    a = np.full((4, 5), 10, np.uint8)
    b = np.full((4, 5), 30, np.uint8)
    out = fuse_images(_average, a, b)
    assert out.shape == (4, 5) and np.all(out == 20)


def test_equal_rgb_is_treated_as_gray() -> None:
    a = np.full((3, 3), 0, np.uint8)
    b = np.stack([np.full((3, 3), 100, np.uint8)] * 3, -1)
    assert fuse_images(_average, a, b).shape == (3, 3)


def test_colour_visible_gives_its_colour_back() -> None:
    rng = np.random.default_rng(1)
    vis = rng.integers(30, 220, (6, 7, 3), dtype=np.uint8)
    ir = rng.integers(0, 256, (6, 7), dtype=np.uint8)
    # A method that returns the visible luminance untouched must give back the visible image.
    out = fuse_images(lambda a, b: b, ir, vis)
    assert out.shape == vis.shape
    assert np.abs(out.astype(int) - vis.astype(int)).max() <= 1
    # With another luminance the chroma is still the visible image's (moderate colours, so
    # that no channel clips after the luminance change).
    vis = rng.integers(100, 150, (6, 7, 3), dtype=np.uint8)
    ir = rng.integers(90, 160, (6, 7), dtype=np.uint8)
    out2 = fuse_images(_average, ir, vis)
    chroma_out = rgb_to_ycbcr(out2)[..., 1:]
    chroma_vis = rgb_to_ycbcr(vis)[..., 1:]
    assert np.abs(chroma_out - chroma_vis).max() < 1.5


def test_two_colour_sources_blend_chroma() -> None:
    a = np.zeros((2, 2, 3), np.uint8)
    a[..., 0] = 200  # saturated red
    b = np.full((2, 2, 3), 120, np.uint8)
    b[..., 2] = 121  # almost neutral
    out = fuse_images(_average, a, b)
    assert out.shape == (2, 2, 3) and out[0, 0, 0] > out[0, 0, 2]


@pytest.mark.parametrize("bad, match", [
    (lambda a, b: np.full_like(a, np.nan), "NaN"),
    (lambda a, b: a[:-1], "shape"),
])
def test_bad_method_output_is_an_error(bad, match) -> None:
    a = np.zeros((4, 4), np.uint8)
    with pytest.raises(MethodError, match=match):
        fuse_images(bad, a, a)


def test_size_mismatch_is_an_error() -> None:
    with pytest.raises(MethodError, match="differ"):
        fuse_images(_average, np.zeros((4, 4), np.uint8), np.zeros((4, 5), np.uint8))
