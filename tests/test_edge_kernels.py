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
