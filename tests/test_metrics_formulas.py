"""The vectorised formulas against literal transcriptions of the original MATLAB loops, on small
images (the transcriptions follow mef_ssim.m, analysis_nabf.m and analysis_Qabf.m statement by
statement, with numpy for the elementwise parts)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusionbench.metrics import _fmi_kernels, edge_transfer, feature_mi, structural
from fusionbench.metrics._fmi_kernels import block_map_sum, fmi_map_sum, window_map_sum

EPS = np.finfo(float).eps


def _images(seed: int, shape=(26, 23), flat: bool = True) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    a, b = (rng.integers(0, 256, shape).astype(float) for _ in range(2))
    if flat:  # flat patches: the branches of the original's special cases
        a[:12, :12] = 200.0
        b[:9, :15] = 17.0
    return (a + b) / 2 + rng.normal(0, 3, shape).round(), a, b


def _mef_ssim_loops(seq: np.ndarray, f: np.ndarray) -> float:
    """mef_ssim.m, line by line (window 11, K 0.03); seq (k, H, W)."""
    w_size, k_src = 11, seq.shape[0]
    g = structural.gaussian_window_1d(11, 1.5)
    window = np.outer(g, g)
    bd = w_size // 2
    s1, s2 = f.shape
    mu = np.zeros((k_src, s1 - 2 * bd, s2 - 2 * bd))
    ed = np.zeros_like(mu)
    for k in range(k_src):
        for i in range(s1 - 2 * bd):
            for j in range(s2 - 2 * bd):
                block = seq[k, i:i + w_size, j:j + w_size]
                mu[k, i, j] = block.mean()
                sigma_sq = (block * block).mean() - mu[k, i, j] ** 2
                ed[k, i, j] = math.sqrt(max(w_size ** 2 * sigma_sq, 0)) + 0.001
    q_map = np.zeros((s1 - 2 * bd, s2 - 2 * bd))
    c = (0.03 * 255) ** 2
    for i in range(s1 - 2 * bd):
        for j in range(s2 - 2 * bd):
            vecs = seq[:, i:i + w_size, j:j + w_size].reshape(k_src, -1)
            den = sum(np.linalg.norm(vecs[k] - mu[k, i, j]) for k in range(k_src))
            tot = vecs.sum(axis=0)
            num = np.linalg.norm(tot - tot.mean())
            r = (num + EPS) / (den + EPS)
            r = 1 - EPS if r > 1 else (EPS if r < 0 else r)
            p = min(math.tan(math.pi / 2 * r), 10.0)
            w = np.array([(ed[k, i, j] / w_size) ** p + EPS for k in range(k_src)])
            w /= w.sum()
            r_block = sum(w[k] * (vecs[k] - mu[k, i, j]) / ed[k, i, j] for k in range(k_src))
            if np.linalg.norm(r_block) > 0:
                r_block = r_block / np.linalg.norm(r_block) * ed[:, i, j].max()
            f_vec = f[i:i + w_size, j:j + w_size].ravel()
            wv = window.ravel()
            mu1, mu2 = np.sum(wv * r_block), np.sum(wv * f_vec)
            s11 = np.sum(wv * (r_block - mu1) ** 2)
            s22 = np.sum(wv * (f_vec - mu2) ** 2)
            s12 = np.sum(wv * (r_block - mu1) * (f_vec - mu2))
            q_map[i, j] = (2 * s12 + c) / (s11 + s22 + c)
    return float(q_map.mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_mef_ssim_matches_the_loops_of_mef_ssim_m(seed: int) -> None:
    f, a, b = _images(seed)
    want = _mef_ssim_loops(np.stack([a, b]), f)
    assert structural.mef_ssim(np.stack([a, b]), f) == pytest.approx(want, rel=1e-10)


def _nabf_loops(f: np.ndarray, i1: np.ndarray, i2: np.ndarray) -> float:
    """analysis_nabf.m's NABF, pixel loops as written."""
    def sobel(x):
        e = np.pad(x, 1, mode="reflect")
        v = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]) / 8
        h = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]) / 8
        gv, gh = np.zeros_like(x), np.zeros_like(x)
        for r in range(x.shape[0]):
            for c in range(x.shape[1]):
                win = e[r:r + 3, c:c + 3]
                gv[r, c] = (win * v).sum(axis=0).sum()
                gh[r, c] = (win * h).sum(axis=0).sum()
        return gv, gh
    (gva, gha), (gvb, ghb), (gvf, ghf) = sobel(i1), sobel(i2), sobel(f)
    ga, gb, gf = np.hypot(gha, gva), np.hypot(ghb, gvb), np.hypot(ghf, gvf)
    num = den = 0.0
    for r in range(f.shape[0]):
        for c in range(f.shape[1]):
            qs, ws = [], []
            for g, gv, gh in ((ga[r, c], gva[r, c], gha[r, c]), (gb[r, c], gvb[r, c], ghb[r, c])):
                rel = 0.0 if g == 0 or gf[r, c] == 0 else min(g, gf[r, c]) / max(g, gf[r, c])
                ang = 0.0 if gv == 0 and gh == 0 else math.atan(gv / gh) if gh else math.copysign(
                    math.pi / 2, gv)
                ang_f = (0.0 if gvf[r, c] == 0 and ghf[r, c] == 0 else
                         math.atan(gvf[r, c] / ghf[r, c]) if ghf[r, c] else
                         math.copysign(math.pi / 2, gvf[r, c]))
                rel_a = abs(abs(ang - ang_f) - math.pi / 2) * 2 / math.pi
                qg = 0.9999 / (1 + math.exp(-19 * (rel - 0.5)))
                qa = 0.9995 / (1 + math.exp(-22 * (rel_a - 0.5)))
                qs.append(math.sqrt(qg * qa))
                ws.append(g ** 1.5 if g >= 2 else 0.001)
            den += ws[0] + ws[1]
            if gf[r, c] > ga[r, c] and gf[r, c] > gb[r, c]:
                num += (1 - qs[0]) * ws[0] + (1 - qs[1]) * ws[1]
    return num / den


@pytest.mark.parametrize("scale", [1.0, 255.0])
def test_nabf_matches_the_loops_of_analysis_nabf_m(scale: float) -> None:
    f, a, b = (x / scale for x in _images(3))
    assert edge_transfer.nabf(f, a, b) == pytest.approx(_nabf_loops(f, a, b), rel=1e-12)


@pytest.mark.parametrize("feature", feature_mi.FEATURES)
def test_fmi_kernel_compiled_equals_plain_python(feature: str) -> None:
    """The numba kernel and its plain-Python fallback (what runs without numba) agree."""
    f, a, b = _images(4, shape=(14, 13))
    feats = [np.ascontiguousarray(feature_mi.feature_image(x, feature)) for x in (a, b, f)]
    compiled = fmi_map_sum(*feats)
    assert compiled == pytest.approx(window_map_sum.py_func(*feats), rel=1e-13)
    blocks = [getattr(_fmi_kernels, name)
              for name in ("_block_windows", "_block_pairs", "_block_values")]
    try:  # the block path with its kernels as plain Python
        for kernel in blocks:
            setattr(_fmi_kernels, kernel.__name__, kernel.py_func)
        plain = block_map_sum(*feats)
    finally:
        for kernel in blocks:
            setattr(_fmi_kernels, kernel.__name__, kernel)
    assert compiled == pytest.approx(plain, rel=1e-13)


@pytest.mark.parametrize("columns", [1, 3, 7])
def test_fmi_block_width_leaves_the_total_unchanged(monkeypatch, columns: int) -> None:
    """The block path computes each window alone and sums the windows in the loop's order,
    so how many window columns a block holds (the last one partial) changes no bit."""
    f, a, b = _images(6, shape=(19, 23))
    f[:6, :6] = a[:6, :6]  # equal windows
    feats = [np.ascontiguousarray(feature_mi.feature_image(x, "dct")) for x in (a, b, f)]
    want = block_map_sum(*feats)
    monkeypatch.setattr(_fmi_kernels, "BLOCK_COLUMNS", columns)
    assert block_map_sum(*feats) == want


@pytest.mark.parametrize("feature", feature_mi.FEATURES)
@pytest.mark.parametrize("seed", [4, 5])
def test_fmi_kernel_matches_the_literal_loop_of_analysis_fmi_m(feature: str, seed: int) -> None:
    """The kernel (joint entropy's independent part in closed form) against the literal
    transcription of the original's loop (every cell, every sum in order), with flat and
    equal windows (the original's special cases)."""
    import fmi_literal

    f, a, b = _images(seed, shape=(20, 17))
    f[:6, :6] = a[:6, :6]  # F equal to A in some windows (the FMI = 1 shortcut)
    feats = [np.ascontiguousarray(feature_mi.feature_image(x, feature)) for x in (a, b, f)]
    assert fmi_map_sum(*feats) == pytest.approx(fmi_literal.fmi_map_sum(*feats), rel=1e-12)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_fmi_of_binary_features_by_pattern_equals_the_window_loop_bit_for_bit(seed: int) -> None:
    """0/1 feature images (FMI_pixel's edge maps) go through the pattern table: the same
    total as the window-by-window loop, exactly, also with windows where F equals A or B
    (raw or once normalised: all-zero F windows against all-one B windows)."""
    from fusionbench.metrics._fmi_kernels import binary_map_sum

    f, a, b = _images(seed, shape=(30, 27))
    feats = [np.ascontiguousarray(feature_mi.feature_image(x, "edge")) for x in (a, b, f)]
    feats[2][:8, :8] = feats[0][:8, :8]  # F = A
    feats[2][10:16, :] = 0.0  # F all zeros ...
    feats[1][10:16, :5] = 1.0  # ... against B all ones (equal once F is normalised)
    feats[0][10:16, 3:9] = 0.0  # ... and against A all zeros (F raw equal to A)
    assert set(np.unique(np.concatenate(feats))) == {0.0, 1.0}
    assert binary_map_sum(*feats) == window_map_sum(*feats)
    assert fmi_map_sum(*feats) == window_map_sum(*feats)
    assert binary_map_sum.py_func(*feats) == window_map_sum(*feats)


@pytest.mark.parametrize("shape", [(576, 768), (62, 63), (63, 62), (100, 61), (20, 17)])
def test_fmi_wavelet_subbands_are_pywavelets_bit_for_bit(shape: tuple[int, int]) -> None:
    """FMI_w's sub-bands by the compiled column DWT (columns at least as long as dmey's 62
    taps; PyWavelets itself otherwise) are ``pywt.dwt2``'s, exactly, flat regions included
    (where the detail bands are rounding noise that the window normalisation magnifies)."""
    import pywt

    x = np.random.default_rng(7).integers(0, 256, shape).astype(float)
    x[: shape[0] // 2, : shape[1] // 3] = 200.0
    c_a, (c_h, c_v, c_d) = pywt.dwt2(x, "dmey", mode="symmetric")
    got = feature_mi.wavelet_subbands(x, "dmey")
    assert all(np.array_equal(u, v) for u, v in zip(got, (c_a, c_h, c_v, c_d), strict=True))


@pytest.mark.parametrize("shape", [(61, 47), (3, 3), (1, 6), (2, 9), (9, 2)])
@pytest.mark.parametrize("integer", [True, False])
def test_fmi_edge_features_compiled_equal_scipy_bit_for_bit(shape: tuple[int, int],
                                                            integer: bool) -> None:
    """FMI_pixel's MATLAB ``edge`` maps by the compiled Sobel and thinning kernels are the
    scipy/numpy formulation's (what runs without numba), exactly: the thinning compares
    gradient magnitudes for equality, so any change of rounding could move an edge."""
    rng = np.random.default_rng(11)
    x = rng.integers(0, 256, shape).astype(float) if integer else rng.random(shape) * 255
    x[: shape[0] // 2, : shape[1] // 2] = 7.0  # flat: ties of b (the thinning's <=)
    got = feature_mi.matlab_sobel_edges(x)
    assert np.array_equal(got, feature_mi._sobel_edges_numpy(x))
    assert shape != (61, 47) or got.any()  # the large image has edges to compare


def test_fmi_uniform_windows_follow_the_rounding_of_the_original() -> None:
    """Two uniform 3 x 3 pdfs: mean(pdf) = sum/9 is 1/9 plus one ulp, so the centred pdfs are
    rounding noise with a nonzero product, the correlation is exactly 1 and the original's
    formula gives FMI 1 (not the 0 of the exact arithmetic); the kernel does the same."""
    from fusionbench.metrics._fmi_kernels import _nfmi

    assert _nfmi(np.ones(9), np.ones(9)) == pytest.approx(1.0, abs=1e-12)


def test_ms_ssim_needs_44_pixels() -> None:
    f, a, b = _images(5, shape=(43, 60), flat=False)
    assert math.isnan(structural.mef_ms_ssim(np.stack([a, b]), f))


def test_mef_ssim_below_one_window_is_nan_with_the_size_as_reason() -> None:
    """An image smaller than the 11 x 11 window has no 'valid' output (MATLAB's mean of the
    empty map is NaN): the engine says so; the compiled 'valid' filter once raised ValueError."""
    import warnings

    from fusionbench.metrics import score

    f, a, b = (x.astype(np.uint8) for x in _images(6, shape=(10, 30), flat=False))
    assert math.isnan(structural.mef_ssim(np.stack([a, b]), f))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = score(f, a, b, metrics=["SSIM", "MS_SSIM"], profile="tang2022")
    assert math.isnan(values["SSIM"]) and math.isnan(values["MS_SSIM"])
    messages = [str(w.message) for w in caught]
    assert "SSIM is NaN: image 10x30 is smaller than the 11x11 that SSIM needs" in messages
    assert "MS_SSIM is NaN: image 10x30 is smaller than the 44x44 that MS_SSIM needs" in messages
