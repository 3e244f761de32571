"""The compiled Sobel kernels of Qabf and Nabf against their numpy formulations, bit for bit
(signed zeros included: Nabf's angle atan(gv / gh) tells gh = -0 from +0)."""

from __future__ import annotations

import numpy as np
import pytest

from fusionbench.metrics import _edge_kernels as K
from fusionbench.metrics import _edge_numpy as N
from fusionbench.metrics.matlab_ops import SOBEL_X, SOBEL_Y, conv2_same


def _image(scale: float) -> np.ndarray:
    """Noise with flat patches (zero responses of both signs) and a ramp, on 0..255 / scale."""
    rng = np.random.default_rng(21)
    x = rng.integers(0, 256, (37, 29)).astype(np.float64)
    x[:10, :12] = 0.0
    x[20:, 15:] = 77.0
    x[10:20, :] = np.arange(29.0) * 3
    return x / scale


def _same_bits(x: np.ndarray, y: np.ndarray) -> bool:
    return np.array_equal(x, y) and np.array_equal(np.signbit(x), np.signbit(y))


@pytest.mark.parametrize("scale", [1.0, 255.0])
def test_matlab_sobel_kernel_equals_numpy_and_conv2_same(scale: float) -> None:
    x = _image(scale)
    p = np.pad(x, 1)
    out = [np.empty(x.shape) for _ in range(4)]
    K.sobel_matlab_padded(p, SOBEL_X, SOBEL_Y, out[0], out[1])
    N.sobel_matlab_padded(p, SOBEL_X, SOBEL_Y, out[2], out[3])
    assert _same_bits(out[0], out[2]) and _same_bits(out[1], out[3])
    sx, sy = conv2_same(x, SOBEL_X), conv2_same(x, SOBEL_Y)
    assert _same_bits(out[0], np.sqrt(sx * sx + sy * sy))
    assert (sx == 0).any()
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.where(sx == 0, np.pi / 2, np.arctan(sy / sx))
    assert _same_bits(np.arctan(out[1]), angle)


@pytest.mark.parametrize("scale", [1.0, 255.0])
def test_kumar_sobel_kernel_equals_numpy(scale: float) -> None:
    e = np.pad(_image(scale), 1, mode="reflect")
    shape = (e.shape[0] - 2, e.shape[1] - 2)
    compiled = [np.empty(shape) for _ in range(3)]
    numpy = [np.empty(shape) for _ in range(3)]
    K.sobel_kumar_padded(e, *compiled)
    N.sobel_kumar_padded(e, *numpy)
    assert all(_same_bits(c, n) for c, n in zip(compiled, numpy, strict=True))
    assert (compiled[1] == 0).any() and (compiled[0] == 0).any()  # flat patches


def _old_qabf_preservation(g_s, a_s, g_f, a_f):
    """Qabf's weighted preservation as whole-array numpy expressions (the formulation the
    kernels replaced, kept here as the reference they must equal bit for bit)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.minimum(g_s, g_f)
        rel /= np.maximum(g_s, g_f)
    equal = g_s == g_f
    rel[equal] = g_f[equal]
    q_g = np.exp((rel - 0.5) * -15.0) + 1.0
    orient = np.abs(a_s - a_f) * (-1.0 / (np.pi / 2))
    q_a = np.exp((orient + (1.0 - 0.8)) * -22.0) + 1.0
    return (0.9994 * 0.9879) * g_s / (q_a * q_g)


@pytest.mark.parametrize("scale", [1.0, 255.0])
def test_qabf_preservation_kernels_equal_numpy_and_whole_array_formula(scale: float) -> None:
    src = _image(scale)
    fused = np.roll(src, 1, axis=1)
    fused[5:9] = src[5:9]  # equal strengths: the GAF = gF tie
    edges = []
    for x in (src, fused):
        g, ratio = np.empty(x.shape), np.empty(x.shape)
        K.sobel_matlab_padded(np.pad(x, 1), SOBEL_X, SOBEL_Y, g, ratio)
        edges.append((g.ravel(), np.arctan(ratio).ravel()))
    (g_s, a_s), (g_f, a_f) = edges
    assert (g_s == g_f).any() and ((g_s == 0) & (g_f == 0)).any()
    results = []
    for module in (K, N):
        arg_g, arg_a = np.empty(g_s.size), np.empty(g_s.size)
        module.qabf_exp_arguments(g_s, a_s, g_f, a_f, arg_g, arg_a)
        np.exp(arg_g, out=arg_g)
        np.exp(arg_a, out=arg_a)
        out = np.empty(g_s.size)
        module.qabf_weighted_preservation(g_s, arg_g, arg_a, out)
        results.append(out)
    assert _same_bits(results[0], results[1])
    assert _same_bits(results[0], _old_qabf_preservation(g_s, a_s, g_f, a_f))


@pytest.mark.parametrize("scale", [1.0, 255.0])
def test_nabf_and_qabf_equal_with_the_numpy_kernels(scale: float, monkeypatch) -> None:
    """The compiled and numpy formulations of Nabf's and Qabf's per-pixel steps give the same
    value bit for bit (on 0..255 some weights are g^1.5, on [0, 1] none)."""
    from fusionbench.metrics import edge_transfer

    a = _image(scale)
    b = np.roll(a, 3, axis=0)
    f = 0.6 * a + 0.4 * b
    f[::4] = a[::4] * 1.3  # some artefacts: F stronger than both sources
    compiled = edge_transfer.nabf(f, a, b), edge_transfer.qabf(f, a, b)
    monkeypatch.setattr(edge_transfer, "edge_kernels", lambda: N)
    assert (edge_transfer.nabf(f, a, b), edge_transfer.qabf(f, a, b)) == compiled
    assert 0.0 < compiled[0] < 1.0
