"""Metric kernels against independent formulations (their doctests run in
tests/test_metrics_doctests.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from fusionbench.metrics import histogram as H
from fusionbench.metrics import spatial as S
from fusionbench.metrics import visual_fidelity as V

u8_images = arrays(np.uint8, st.tuples(st.integers(2, 12), st.integers(2, 12)))


@settings(max_examples=40, deadline=None)
@given(u8_images, st.data())
def test_mutual_information_matches_histogram2d(x: np.ndarray, data) -> None:
    f = data.draw(arrays(np.uint8, x.shape))
    edges = np.arange(257) - 0.5  # integer-aligned bins, built independently of bincount
    joint, _, _ = np.histogram2d(x.ravel(), f.ravel(), bins=[edges, edges])
    p = joint / joint.sum()
    px, pf = p.sum(1, keepdims=True), p.sum(0, keepdims=True)
    nz = p > 0
    expected = float(np.sum(p[nz] * np.log2(p[nz] / (px @ pf)[nz])))
    assert H.mutual_information_u8(x, f) == pytest.approx(expected, abs=1e-12)
    nats = H.mutual_information_u8(x, f, unit="nats")
    assert nats == pytest.approx(expected * np.log(2), abs=1e-12)


def test_tang_joint_quirk_only_merges_254_and_255() -> None:
    x = np.array([254, 255], np.uint8)
    f = np.array([0, 0], np.uint8)
    assert H.mutual_information_u8(x, f) == 0.0
    # joint bins merge 254/255, marginals do not: H(X) + H(F) - H(X,F) = 1 + 0 - 0
    assert H.mutual_information_u8(x, f, tang_quirk=True) == pytest.approx(1.0)
    assert H.mutual_information_u8(x, x) == pytest.approx(1.0)
    assert H.mutual_information_u8(x, x, tang_quirk=True) == pytest.approx(2.0)


@settings(max_examples=40, deadline=None)
@given(u8_images)
def test_average_gradient_matches_numpy_gradient(img: np.ndarray) -> None:
    f = img.astype(np.float64)
    gy, gx = np.gradient(f)  # same rule as MATLAB gradient (central inside, one-sided edges)
    m, n = f.shape
    expected = np.sqrt((gx**2 + gy**2) / 2).sum() / ((m - 1) * (n - 1))
    assert S.ag_tang(f) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(u8_images)
def test_tang2022_sd_matches_elementwise_uint8_rules(img: np.ndarray) -> None:
    mean = img.mean()
    total = 0.0
    for v in img.ravel().tolist():  # MATLAB: uint8(v - mean) rounds half away, saturates
        d = min(max(int(np.floor(v - mean + 0.5)), 0), 255)
        total += min(d * d, 255)
    assert S.sd_tang2022(img) == pytest.approx(np.sqrt(total / img.size), rel=1e-12)
    assert S.sd_tang2022(img) <= np.sqrt(255)


def test_separable_filter_matches_octave_order_direct_filter() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (2, 40, 37)).astype(np.float64)
    for n in (17, 9, 5, 3):
        fast = V.filter_valid(x, n, step=2)
        exact = V.octave_filter_valid(x, V.octave_window_2d(n), step=2)
        assert fast.shape == exact.shape
        np.testing.assert_allclose(fast, exact, rtol=1e-13, atol=1e-10)


def test_octave_rounding_changes_nothing_on_textured_images() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.integers(1, 255, (2, 64, 64)).astype(np.float64)
    f = (a + b) / 2
    plain = V.viff_from_stats(V.vif_statistics(a, b, f))
    octave = V.viff_from_stats(V.vif_statistics(a, b, f, octave_rounding=True))
    assert octave == pytest.approx(plain, rel=1e-13)


def test_vif_of_identical_images_is_one_and_saturation_changes_it() -> None:
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (64, 64)).astype(np.float64)
    assert V.vifp_pair(a, a, a)[0] == pytest.approx(1.0, abs=1e-9)
    f = np.floor(a / 2)
    plain = V.vifp_pair(a, a, f)[0]
    sat = V.vifp_pair(a, a, f, saturate_first_scale=True)[0]
    assert abs(sat - plain) > 1e-3


@settings(max_examples=40, deadline=None)
@given(u8_images, st.sampled_from([1.0, 255.0]))
def test_spatial_frequency_matches_numpy_diff(img: np.ndarray, scale: float) -> None:
    x = img.astype(np.float64) / scale
    dv, dh = np.diff(x, axis=0), np.diff(x, axis=1)
    expected = np.sqrt(np.mean(dv * dv) + np.mean(dh * dh))
    assert S.sf_tang(img, scale=scale) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert S.sf_tang(img.astype(np.float64), scale=scale) == S.sf_tang(img, scale=scale)


@settings(max_examples=40, deadline=None)
@given(u8_images)
def test_sd_matches_numpy_std_and_histograms_match_bincount(img: np.ndarray) -> None:
    assert S.sd_population(img) == pytest.approx(np.std(img.astype(float)), rel=1e-12,
                                                 abs=1e-12)
    assert np.array_equal(H.histogram_u8(img), np.bincount(img.ravel(), minlength=256))


def test_spatial_kernels_on_a_large_image_agree_with_numpy_pairwise_sums() -> None:
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (576, 768)).astype(np.uint8)
    f = img.astype(np.float64)
    gy, gx = np.gradient(f)
    ag = np.sqrt((gx**2 + gy**2) / 2).sum() / (575 * 767)
    assert S.ag_tang(img) == pytest.approx(ag, rel=1e-14)
    assert S.ag_tang(img) == S.ag_tang(f)  # uint8 read directly: same numbers
    assert S.sd_population(img) == pytest.approx(np.std(f), rel=1e-14)
    dv, dh = np.diff(f / 255, axis=0), np.diff(f / 255, axis=1)
    sf = np.sqrt(np.mean(dv * dv) + np.mean(dh * dh))
    assert S.sf_tang(img, scale=255.0) == pytest.approx(sf, rel=1e-14)


@settings(max_examples=30, deadline=None)
@given(st.integers(11, 40), st.integers(11, 40), st.sampled_from([3, 7, 11]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_valid_filter_kernel_equals_scipy_bit_for_bit(rows: int, cols: int, n: int, box: bool,
                                                      seed: int) -> None:
    """The compiled 'valid' filter of structural.py rounds exactly as scipy's correlate1d
    (along axis 0, then 1, cropped), which the numba-less fallback uses."""
    from fusionbench.metrics import _filter_kernels, _filter_numpy, structural

    x = np.random.default_rng(seed).random((rows, cols)) * 255.0
    w = np.full(n, 1.0 / n) if box else structural.gaussian_window_1d(n, 1.5)
    got, want = (np.empty((rows - n + 1, cols - n + 1)) for _ in range(2))
    _filter_kernels.correlate_valid(x, w, got)
    _filter_numpy.correlate_valid(x, w, want)
    assert np.array_equal(got, want)


def _mef_triple(rows: int, cols: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Sources and F on 0..255 with flat patches (equal, flat and black windows: the clipped
    consistency ratios and the zero-norm structure vectors) beside noise."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 256, (2, rows, cols)).astype(float)
    a[: rows // 2, : cols // 2] = 200.0
    b[: rows // 2, : cols // 3] = 200.0
    a[rows // 2:, cols // 2:] = 0.0
    b[rows // 2:, cols // 2:] = 0.0
    f = np.round((a + b) / 2 + rng.normal(0, 4, (rows, cols)))
    f[rows // 3:, : cols // 4] = 37.0
    return np.stack([a, b]), f


@settings(max_examples=25, deadline=None)
@given(st.integers(11, 60), st.integers(11, 45), st.integers(0, 2**32 - 1), st.booleans())
def test_mef_ssim_kernel_equals_the_numpy_formulation_bit_for_bit(rows: int, cols: int,
                                                                  seed: int,
                                                                  integral: bool) -> None:
    """The compiled MEF-SSIM map (strips of 16 output rows, so up to four strips here, the
    last one partial) has the bits of the numpy formulation the numba-less fallback uses."""
    from fusionbench.metrics import _ssim_kernels, _ssim_numpy

    seq, f = _mef_triple(rows, cols, seed)
    if not integral:
        seq = seq + np.random.default_rng(seed).random(seq.shape)
    got = _ssim_kernels.mef_quality_map(seq, f)
    want = _ssim_numpy.mef_quality_map(seq, f)
    assert got.shape == want.shape == (rows - 10, cols - 10)
    assert np.array_equal(got, want)


def test_mef_ssim_kernel_hands_other_source_counts_to_numpy() -> None:
    """Three sources (the compiled map is for two) give the numpy formulation's map."""
    from fusionbench.metrics import _ssim_kernels, _ssim_numpy

    seq, f = _mef_triple(30, 28, 3)
    three = np.concatenate([seq, seq[:1] * 0.5])
    assert np.array_equal(_ssim_kernels.mef_quality_map(three, f),
                          _ssim_numpy.mef_quality_map(three, f))


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 5), (8, 7), (37, 29), (288, 384)])
def test_ms_ssim_downsample_kernel_equals_numpy_bit_for_bit(shape: tuple[int, int]) -> None:
    """MS-SSIM's 2 x 2 mean and down-sampling, compiled and numpy (odd sides read the
    replicated edge), on non-integer values where the order of additions shows."""
    from fusionbench.metrics import _ssim_kernels, _ssim_numpy

    x = np.random.default_rng(sum(shape)).random(shape) * 255.0
    out = [np.empty(((shape[0] + 1) // 2, (shape[1] + 1) // 2)) for _ in range(2)]
    _ssim_kernels.downsample_2x2(x, out[0])
    _ssim_numpy.downsample_2x2(x, out[1])
    assert np.array_equal(out[0], out[1])
    assert out[0][0, 0] == (((x[0, 0] + x[min(1, shape[0] - 1), 0]) + x[0, min(1, shape[1] - 1)])
                            + x[min(1, shape[0] - 1), min(1, shape[1] - 1)]) / 4.0
