"""Properties of the classic fusion methods (methods/classic), independent of any dataset."""

from __future__ import annotations

import doctest
import importlib
import inspect
import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

import fusionbench.methods.classic as classic_pkg
from fusionbench.errors import MethodError
from fusionbench.methods.classic import _common, basic, cbf, gff, mgff, pyramid, wavelet

CARD_DIR = Path(classic_pkg.__file__).parent
CARDS = sorted(CARD_DIR.glob("*.toml"))
EXPECTED = {"average", "maximum", "max-abs", "laplacian", "dwt", "gff", "cbf", "mgff"}


def _load(card_path: Path):
    with open(card_path, "rb") as fh:
        card = tomllib.load(fh)
    module, func = card["entry"].split(":")
    return card, getattr(importlib.import_module(module), func)


FUSERS = {p.stem: _load(p) for p in CARDS}
# Methods whose output is a convex combination of the sources (stays in [0, 1] without a clip).
CONVEX = {"average", "maximum", "max-abs", "cbf"}


def _fuse(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    card, func = FUSERS[name]
    return func(a, b, **card.get("params", {}))


def _texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Smooth random texture stretched to [0, 1]."""
    x = gaussian_filter(np.random.default_rng(seed).random(shape), 1.0)
    return (x - x.min()) / (x.max() - x.min())


def test_all_expected_cards_present():
    assert {p.stem for p in CARDS} == EXPECTED


@pytest.mark.parametrize("path", CARDS, ids=lambda p: p.stem)
def test_card_fields_and_params(path: Path):
    card, func = _load(path)
    assert card["name"] == path.stem
    assert card["kind"] == "classic"
    for key in ("title", "citation", "description", "entry"):
        assert isinstance(card[key], str) and card[key].strip()
    assert set(card["modalities"]) <= {"ir-vi", "medical", "multifocus"}
    assert callable(func)
    # the card's parameters are accepted by the function, with the same values as its defaults
    params = card.get("params", {})
    inspect.signature(func).bind(np.zeros((8, 8)), np.zeros((8, 8)), **params)
    defaults = {k: v.default for k, v in inspect.signature(func).parameters.items()}
    for key, value in params.items():
        assert defaults[key] == pytest.approx(value), key


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("shape", [(8, 8), (9, 13), (31, 17)])
def test_self_fusion_returns_input(name: str, shape: tuple[int, int]):
    x = _texture(shape, seed=1)
    out = _fuse(name, x, x)
    assert out.shape == shape and out.dtype == np.float64
    # gff adds 1e-12 to each weight before normalising: exact only up to ~1e-12
    np.testing.assert_allclose(out, x, atol=1e-9, rtol=0)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_range_shape_determinism_and_no_mutation(name: str):
    rng = np.random.default_rng(3)
    a, b = rng.random((23, 37)), rng.random((23, 37))
    a[0, 0], b[1, 1] = 0.0, 1.0
    a_copy, b_copy = a.copy(), b.copy()
    out1 = _fuse(name, a, b)
    out2 = _fuse(name, a, b)
    assert out1.shape == (23, 37)
    assert np.array_equal(out1, out2)
    assert np.array_equal(a, a_copy) and np.array_equal(b, b_copy)
    assert out1.min() >= 0.0 and out1.max() <= 1.0
    if name in CONVEX:  # no clip needed: between the two sources everywhere
        assert np.all(out1 >= np.minimum(a, b) - 1e-12)
        assert np.all(out1 <= np.maximum(a, b) + 1e-12)


@pytest.mark.parametrize("name", ["laplacian", "dwt", "gff", "cbf", "mgff"])
def test_multifocus_recovers_sharp_halves(name: str):
    """Each source is blurred on one half; multi-scale rules should keep the sharp halves.

    Measured mean errors (interior) on this seed: average 0.0465, laplacian 0.0058, dwt 0.0105,
    gff 0.0074, cbf 0.0029, mgff 0.0205; the bound 0.6 x average leaves room for all.
    """
    img = _texture((64, 80), seed=7)
    blurred = gaussian_filter(img, 2.5)
    a, b = img.copy(), img.copy()
    a[:, 40:] = blurred[:, 40:]
    b[:, :40] = blurred[:, :40]

    def err(f):
        return np.abs(f - img)[4:-4, 4:-4].mean()

    assert err(_fuse(name, a, b)) < 0.6 * err(basic.average_fuse(a, b))


def test_basic_rules():
    a = np.tile(np.linspace(0, 1, 8), (8, 1))
    b = a[:, ::-1].copy()
    np.testing.assert_array_equal(basic.maximum_fuse(a, b), np.maximum(a, b))
    np.testing.assert_allclose(basic.average_fuse(a, b), 0.5)
    # max-abs compares each source with its own mean: a has a bright spot, b a dark spot; both
    # spots win. Elsewhere |0.2 - mean(a)| = 0.0109 < |0.8 - mean(b)| = 0.0125, so b wins.
    a = np.full((8, 8), 0.2)
    a[1, 1] = 0.9
    b = np.full((8, 8), 0.8)
    b[5, 5] = 0.0
    out = basic.max_abs_fuse(a, b)
    assert out[1, 1] == 0.9 and out[5, 5] == 0.0
    assert out[3, 3] == 0.8


@pytest.mark.parametrize("r", [1, 3, 20])
def test_box_and_guided_filter_match_brute_force(r: int):
    rng = np.random.default_rng(5)
    guide, src = rng.random((11, 14)), rng.random((11, 14))
    eps = 0.01
    h, w = guide.shape

    def win(i, j):
        return slice(max(i - r, 0), i + r + 1), slice(max(j - r, 0), j + r + 1)

    coef_a = np.zeros((h, w))
    coef_b = np.zeros((h, w))
    box = np.zeros((h, w))
    for i in range(h):
        for j in range(w):
            g, p = guide[win(i, j)], src[win(i, j)]
            box[i, j] = src[win(i, j)].sum()
            coef_a[i, j] = ((g * p).mean() - g.mean() * p.mean()) / (g.var() + eps)
            coef_b[i, j] = p.mean() - coef_a[i, j] * g.mean()
    expected = np.array([[coef_a[win(i, j)].mean() * guide[i, j] + coef_b[win(i, j)].mean()
                          for j in range(w)] for i in range(h)])
    np.testing.assert_allclose(_common.box_sum(src, r), box, atol=1e-12)
    np.testing.assert_allclose(_common.guided_filter(guide, src, r, eps), expected, atol=1e-10)


def test_cbf_parts_match_direct_definitions():
    rng = np.random.default_rng(9)
    x, y = rng.random((12, 15)), rng.random((12, 15))
    # cross bilateral filter, direct per-pixel definition with mirrored borders
    xp, yp = np.pad(x, 5, mode="reflect"), np.pad(y, 5, mode="reflect")
    t = np.arange(-5, 6)
    spatial = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * 1.8**2))
    direct = np.zeros_like(x)
    for i in range(12):
        for j in range(15):
            wy = yp[i:i + 11, j:j + 11]
            w = spatial * np.exp(-((wy - y[i, j]) ** 2) / (2 * 0.1**2))
            direct[i, j] = (w * xp[i:i + 11, j:j + 11]).sum() / w.sum()
    np.testing.assert_allclose(cbf.cross_bilateral(x, y, 1.8, 0.1, 11), direct, atol=1e-12)
    # edge strength = sum of eigenvalues of the column and row covariance of each 5x5 window
    dp = np.pad(x, 2, mode="reflect")
    strength = np.zeros_like(x)
    for i in range(12):
        for j in range(15):
            block = dp[i:i + 5, j:j + 5]
            strength[i, j] = (np.linalg.eigvalsh(np.cov(block, rowvar=False)).sum()
                              + np.linalg.eigvalsh(np.cov(block.T, rowvar=False)).sum())
    np.testing.assert_allclose(cbf.edge_strength(x, 5), strength, atol=1e-12)


def test_pyramid_and_wavelet_reconstruct_exactly():
    x = np.random.default_rng(2).random((33, 47))
    np.testing.assert_allclose(pyramid.collapse(pyramid.laplacian_pyramid(x, 3)), x, atol=1e-12)
    np.testing.assert_allclose(wavelet.dwt_fuse(x, x, wavelet="haar", levels=2), x, atol=1e-12)


@pytest.mark.parametrize("func", [basic.average_fuse, pyramid.laplacian_fuse, wavelet.dwt_fuse,
                                  gff.gff_fuse, cbf.cbf_fuse, mgff.mgff_fuse])
def test_bad_input_is_a_clear_error(func):
    good = np.zeros((10, 10))
    with pytest.raises(MethodError, match="differ in shape"):
        func(good, np.zeros((10, 11)))
    with pytest.raises(MethodError, match="2-D"):
        func(np.zeros((10, 10, 3)), good)
    with pytest.raises(MethodError, match="at least 8"):
        func(np.zeros((7, 10)), np.zeros((7, 10)))
    bad = good.copy()
    bad[2, 2] = np.nan
    with pytest.raises(MethodError, match="NaN"):
        func(good, bad)


def test_bad_parameters_are_clear_errors():
    x = np.zeros((10, 10))
    with pytest.raises(MethodError, match="unknown wavelet"):
        wavelet.dwt_fuse(x, x, wavelet="nope")
    with pytest.raises(MethodError, match="levels"):
        pyramid.laplacian_fuse(x, x, levels=0)
    with pytest.raises(MethodError, match="odd"):
        cbf.cbf_fuse(x, x, ksize=4)
    with pytest.raises(MethodError, match="eps1"):
        gff.gff_fuse(x, x, eps1=0)


@pytest.mark.parametrize("module", [_common, basic, pyramid, wavelet, gff, cbf, mgff],
                         ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
