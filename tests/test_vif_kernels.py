"""The compiled VIF kernels against plain numpy/scipy formulations of the same computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import correlate1d

from fusionbench.metrics import _vif_kernels as K
from fusionbench.metrics import _vif_numpy as N
from fusionbench.metrics import visual_fidelity as V

WINDOWS = (17, 9, 5, 3)


def _scipy_valid(stack: np.ndarray, n: int) -> np.ndarray:
    """Separable 'valid' correlation with scipy (an independent implementation)."""
    w = V.window_1d(n)
    full = correlate1d(correlate1d(stack.astype(np.float64), w, axis=-1, mode="constant"),
                       w, axis=-2, mode="constant")
    h = n // 2
    return full[..., h:stack.shape[-2] - h, h:stack.shape[-1] - h]


def _numpy_rules(maps: np.ndarray) -> np.ndarray:
    """The vifp rules of ``vifp_mscale.m`` written with whole-array numpy operations (the
    numpy formulation that also serves as the fallback without numba)."""
    terms = np.empty((6,) + maps.shape[1:])
    N.apply_vifp_rules_2d(maps, terms)
    return terms


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    """(A, B, F) uint8 with textured, flat and saturated regions (all vifp rules fire)."""
    rng = np.random.default_rng(11)
    imgs = rng.integers(0, 256, (3, 61, 53)).astype(np.uint8)
    imgs[:, :20, :20] = 128      # flat everywhere: sigma1 and sigma2 below eps
    imgs[2, 30:, 30:] = 255      # flat fused image only
    imgs[0, 40:, :15] = 7        # flat source A only
    imgs[2, :25, 30:] = 255 - imgs[0, :25, 30:]  # anti-correlated: negative gains
    return imgs


@pytest.mark.parametrize("n", WINDOWS)
def test_filter_matches_scipy(images: np.ndarray, n: int) -> None:
    got = V.filter_valid(images, n)
    np.testing.assert_allclose(got, _scipy_valid(images, n), rtol=1e-13, atol=1e-11)


@pytest.mark.parametrize("n", WINDOWS)
def test_uint8_and_float_inputs_agree_bit_for_bit(images: np.ndarray, n: int) -> None:
    assert np.array_equal(V.filter_valid(images, n), V.filter_valid(images.astype(float), n))


@pytest.mark.parametrize("n", WINDOWS)
def test_step_two_keeps_every_other_row_and_column(images: np.ndarray, n: int) -> None:
    full = V.filter_valid(images, n)
    assert np.array_equal(V.filter_valid(images, n, step=2), full[:, ::2, ::2])


@pytest.mark.parametrize("saturate", [False, True])
def test_products_are_filtered_like_explicit_product_maps(images: np.ndarray,
                                                          saturate: bool) -> None:
    a, b, f = images.astype(np.float64)
    prods = np.stack([a, b, f, a * a, b * b, f * f, a * f, b * f])
    if saturate:
        prods[3:] = np.minimum(prods[3:], 255.0)
    got = V._filter_products(images, 9, saturate=saturate)
    assert np.array_equal(got, V.filter_valid(prods, 9))


def test_rules_match_numpy_formulation_bit_for_bit(images: np.ndarray) -> None:
    maps = V._filter_products(images.astype(np.float64), 17)
    terms = np.empty((6,) + maps.shape[1:])
    K.apply_vifp_rules_2d(maps, terms)
    expected = _numpy_rules(maps)
    assert np.array_equal(terms, expected)
    # every rule fired somewhere, so the comparison covers all branches
    g_a, sv_a, s1_a = expected[:3]
    assert (g_a == 0).any() and (g_a > 0).any() and (s1_a == 0).any() and (sv_a == 1e-10).any()


@pytest.mark.parametrize("saturate", [False, True])
def test_scale_terms_equal_filter_then_rules(images: np.ndarray, saturate: bool) -> None:
    maps = V._filter_products(images, 17, saturate=saturate)
    terms = V._scale_terms(images, 17, saturate)
    assert np.array_equal(terms, _numpy_rules(maps))


def test_log_arguments_match_numpy_expressions() -> None:
    rng = np.random.default_rng(2)
    g, sv, s1 = rng.random((3, 1000)) * [[3.0], [50.0], [400.0]]
    out = np.empty((4, 1000))
    K.vif_log_arguments(g, sv, s1, g[::-1].copy(), sv, s1, 2.0, out)
    assert np.array_equal(out[0], g * g * s1 / (sv + 2.0) + 1.0)
    assert np.array_equal(out[1], s1 / 2.0 + 1.0)
    assert np.array_equal(out[2], g[::-1] * g[::-1] * s1 / (sv + 2.0) + 1.0)
    assert np.array_equal(out[3], out[1])


def test_window_longer_than_image_gives_empty_result() -> None:
    x = np.ones((3, 10, 40))
    assert V.filter_valid(x, 17).shape == (3, 0, 24)
    assert V._scale_terms(x, 17, False).shape == (6, 0, 24)


def _vifp_from_terms(stats: list, ref: int) -> float:
    """vifp from the full per-pixel terms, summed with plain numpy (the reference formula)."""
    num = den = 0.0
    for per_ref in stats:
        t = per_ref[ref]
        num += float(np.log10(1.0 + t.g * t.g * t.sigma1_sq / (t.sv_sq + 2.0)).sum())
        den += float(np.log10(1.0 + t.sigma1_sq / 2.0).sum())
    return num / den


@pytest.mark.parametrize("saturate", [False, True])
def test_streamed_vifp_equals_sums_of_full_terms(saturate: bool) -> None:
    rng = np.random.default_rng(8)
    a, b = rng.integers(0, 256, (2, 150, 97)).astype(np.uint8)
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    f[:40, :40] = 0  # flat region: the rules fire
    stats = V.vif_statistics(a, b, f, saturate_first_scale=saturate)
    cache: dict = {}
    got = V.vifp_pair(a, b, f, saturate_first_scale=saturate, cache=cache)
    assert got[0] == pytest.approx(_vifp_from_terms(stats, 0), rel=1e-13)
    assert got[1] == pytest.approx(_vifp_from_terms(stats, 1), rel=1e-13)
    assert 150 - 16 > V.STRIP_ROWS  # several strips were streamed
    # the other variant reuses the shared scales and still gives its own answer
    other = V.vifp_pair(a, b, f, saturate_first_scale=not saturate, cache=cache)
    assert other == V.vifp_pair(a, b, f, saturate_first_scale=not saturate)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from(WINDOWS), st.sampled_from([1, 2]),
       st.integers(0, 2**32 - 1))
def test_filter_any_shape_and_step_matches_scipy(rows: int, cols: int, n: int, step: int,
                                                 seed: int) -> None:
    x = np.random.default_rng(seed).integers(0, 256, (2, rows, cols)).astype(np.uint8)
    got = V.filter_valid(x, n, step=step)
    if rows < n or cols < n:
        assert got.size == 0
        return
    expected = _scipy_valid(x, n)[:, ::step, ::step]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-11)


def _numpy_octave_filter(stack: np.ndarray, w2: np.ndarray, step: int) -> np.ndarray:
    """Octave's ``conv2`` order with whole-array numpy operations (one window element at a
    time, column by column from the bottom-right)."""
    n = w2.shape[0]
    rows, cols = stack.shape[-2] - n + 1, stack.shape[-1] - n + 1
    acc = np.zeros(stack.shape[:-2] + (len(range(0, rows, step)), len(range(0, cols, step))))
    for j in range(n):
        for i in range(n):
            ro, co = n - 1 - i, n - 1 - j
            acc += w2[ro, co] * stack[..., ro:ro + rows:step, co:co + cols:step]
    return acc


@pytest.mark.parametrize("step", [1, 2])
def test_octave_order_filter_equals_numpy_formulation(images: np.ndarray, step: int) -> None:
    """The compiled direct filter adds in Octave's order exactly as the numpy formulation
    does (bit for bit), on the whole image and at chosen pixels, for every window size."""
    stack = images.astype(np.float64)
    rng = np.random.default_rng(4)
    for n in WINDOWS:
        w2 = V.octave_window_2d(n)
        whole = V.octave_filter_valid(stack, w2, step=step)
        assert np.array_equal(whole, _numpy_octave_filter(stack, w2, step))
        if step == 1:
            rr = rng.integers(0, whole.shape[1], 50)
            cc = rng.integers(0, whole.shape[2], 50)
            assert np.array_equal(V._octave_filter_at(stack, w2, rr, cc), whole[:, rr, cc])


def test_constant_windows_match_min_equals_max(images: np.ndarray) -> None:
    from scipy.ndimage import maximum_filter, minimum_filter

    x = images[0].astype(np.float64)
    for n in WINDOWS:
        h = n // 2
        want = (maximum_filter(x, n) == minimum_filter(x, n))[h:x.shape[0] - h, h:x.shape[1] - h]
        assert np.array_equal(V.constant_windows(x, n), want)


@pytest.mark.parametrize("saturate", [False, True])
def test_flat_window_shortcut_changes_no_bit(images: np.ndarray, saturate: bool) -> None:
    """The Octave-order filter of the interleaved maps, told where all windows are constant
    (computed once per value) and filtering runs of pixels together, gives exactly the values
    of filtering every pixel tap by tap, compiled and as numpy."""
    imgs = images.astype(np.float64)
    imgs[:, 45:, 35:] = 0.0  # a black corner in all three (products constantly 0)
    for n in WINDOWS:
        w2 = V.octave_window_2d(n)
        stack = N._products(imgs, saturate)
        rows, cols = imgs.shape[1] - n + 1, imgs.shape[2] - n + 1
        rr, cc = (x.ravel() for x in np.indices((rows, cols)))
        keep = (rr + cc) % 7 != 3  # runs of several lengths along the rows
        rr, cc = rr[keep], cc[keep]
        flat = V._flat_pixels(imgs, n, rr, cc)
        assert flat.any() and not flat.all()
        fast = V._octave_filter_at(stack, w2, rr, cc, flat=flat)
        assert np.array_equal(fast, V._octave_filter_at(stack, w2, rr, cc))
        assert np.array_equal(fast, V.octave_filter_valid(stack, w2)[:, rr, cc])
        x = np.empty(imgs.shape[1:] + (8,))
        K.interleaved_products(imgs, saturate, 0, x)
        assert np.array_equal(x, np.moveaxis(stack, 0, -1))
        x_numpy = np.empty_like(x)
        N.interleaved_products(imgs, saturate, 0, x_numpy)
        assert np.array_equal(x_numpy, x)
        numpy = np.empty((rr.size, 8))
        order = np.array(V._octave_order(n), dtype=np.int64)
        N.direct_filter_pixels(x, w2, order, rr, cc, flat, numpy)
        assert np.array_equal(fast, numpy.T)


@pytest.mark.parametrize("step", [1, 2])
def test_all_true_windows_match_minimum_filter(step: int) -> None:
    from scipy.ndimage import minimum_filter

    rng = np.random.default_rng(12)
    mask = rng.random((2, 45, 38)) < 0.97
    mask[0, 10:30, 5:30] = True
    for n in WINDOWS:
        h = n // 2
        want = minimum_filter(mask, (1, n, n))[:, h:45 - h:step, h:38 - h:step]
        assert np.array_equal(V.all_true_windows(mask, n, step=step), want)


def _black_background_triple() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Medical-like 8-bit sources: textured discs on black, one of them partly saturated, and
    their pixel maximum as the fused image."""
    rng = np.random.default_rng(13)
    rows, cols = np.indices((192, 192))
    a = np.where((rows - 70) ** 2 + (cols - 70) ** 2 < 45**2,
                 rng.integers(1, 256, (192, 192)), 0).astype(np.uint8)
    b = np.where((rows - 110) ** 2 + (cols - 100) ** 2 < 40**2,
                 rng.integers(60, 120, (192, 192)), 0).astype(np.uint8)
    a[50:75, 40:80] = 255
    return a, b, np.maximum(a, b)


def test_zero_windows_have_exactly_zero_moments_in_both_orders() -> None:
    """Where :func:`_zero_windows` says a source's window is zeros back to the input, its mean,
    variance and covariance with F are exactly 0 from the fast filters and from Octave's
    order, at every scale (so there is nothing to recompute)."""
    a, b, f = _black_background_triple()
    cache: dict = {}
    V.vif_statistics(a, b, f, octave_rounding=True, cache=cache)
    exact = cache["imgs", 1].astype(np.float64)
    for scale in range(1, V.N_SCALES + 1):
        n = V._window_size(scale)
        if scale > 1:
            exact = V.octave_filter_valid(exact, V.octave_window_2d(n), step=2)
        zero = V._zero_windows(cache, scale)
        assert zero[0].any() and zero[1].any() and not zero.all()
        fast = V._filter_products(cache["imgs", scale], n)
        slow = V.octave_filter_valid(N._products(exact, False), V.octave_window_2d(n))
        for maps in (fast, slow):
            for x in (0, 1):  # source A, B: mean, E[XX], E[XF], variance, covariance with F
                z = zero[x]
                assert not maps[x][z].any() and not maps[3 + x][z].any()
                assert not maps[6 + x][z].any()
                assert not (maps[3 + x] - maps[x] * maps[x])[z].any()
                assert not (maps[6 + x] - maps[x] * maps[2])[z].any()


def test_zero_window_exemption_changes_no_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """VIFF with the zero windows exempted equals VIFF recomputing every near-zero pixel in
    Octave's order (the rule before the exemption), and the exemption removes most of them."""
    a, b, f = _black_background_triple()
    flagged: dict[bool, dict[tuple, int]] = {True: {}, False: {}}
    near_zero = K.near_zero_moments

    def counting(maps, limit, zero, out, *, exempt: bool):
        near_zero(maps, limit, zero if exempt else np.zeros_like(zero), out)
        flagged[exempt][maps.shape] = int(out.sum())  # a scale's last call decides

    values = {}
    for exempt in (True, False):
        monkeypatch.setattr(K, "near_zero_moments",
                            lambda *args, e=exempt: counting(*args, exempt=e))
        values[exempt] = V.viff_from_stats(V.vif_statistics(a, b, f, octave_rounding=True))
    assert values[True] == values[False]
    exempted, every = sum(flagged[True].values()), sum(flagged[False].values())
    assert 0 < exempted < every / 4
