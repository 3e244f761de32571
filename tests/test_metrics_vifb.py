"""Unit tests of the ``vifb`` metric convention (hand-checkable values, colour rule, errors).

The calibration against VIFB's own per-image values is in ``test_metrics_vifb_reference.py``.
Every value is scored by the one metrics engine under the ``vifb`` profile.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from fusionbench.errors import MetricError
from fusionbench.metrics import PROFILES, score

ALL = list(PROFILES["vifb"].metrics)


def score_vifb(f, a, b, names):
    return score(f, a, b, metrics=names, profile="vifb")


class _Metric:
    """``VIFB[name](F, A, B)``: one metric of the vifb profile (A, B unused by F-only ones)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, f, a, b) -> float:
        a = f if a is None else a
        b = f if b is None else b
        return score_vifb(f, a, b, [self.name])[self.name]


VIFB_METRICS = {name: _Metric(name) for name in ALL}


def _rand(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape).astype(np.float64)


def test_metric_names_are_vifbs_thirteen():
    assert ALL == ["EN", "MI", "SD", "SF", "AG", "CE", "EI", "PSNR", "RMSE", "SSIM", "Qabf",
                   "Qcb", "Qcv"]


def test_hand_computed_values_on_a_step_image():
    # Left half 0, right half 200 on a 4x4 image; values worked out by hand below.
    f = np.zeros((4, 4))
    f[:, 2:] = 200.0
    z = np.zeros((4, 4))
    assert VIFB_METRICS["EN"](f, z, z) == pytest.approx(1.0)  # two equally likely levels
    assert VIFB_METRICS["SD"](f, z, z) == pytest.approx(100.0)
    # SF: 4 horizontal jumps of 200 over M N = 16 pixels, no vertical ones.
    assert VIFB_METRICS["SF"](f, z, z) == pytest.approx(math.sqrt(4 * 200.0**2 / 16))
    # AG: gradient x = 100 in the two middle columns, 0 elsewhere; sqrt(100^2/2) each, 8 pixels
    # over (M-1)(N-1) = 9.
    assert VIFB_METRICS["AG"](f, z, z) == pytest.approx(8 * 100 / math.sqrt(2) / 9)
    # RMSE against zero sources: sqrt(8 * 200^2) / 16, the same for both sources.
    rmse = math.sqrt(8 * 200.0**2) / 16
    assert VIFB_METRICS["RMSE"](f, z, z) == pytest.approx(rmse)
    assert VIFB_METRICS["PSNR"](f, z, z) == pytest.approx(20 * math.log10(255 / math.sqrt(rmse)))
    # EI: Sobel x response with replicated borders: 800 in the two middle columns, 0 outside.
    assert VIFB_METRICS["EI"](f, z, z) == pytest.approx(8 * 800 / 16)


def test_mi_and_ce_on_identical_images():
    x = _rand((20, 20), 1)
    en_nats = VIFB_METRICS["EN"](x, x, x) * math.log(2)
    # MI(X,X) = H(X) in nats, summed over the two sources.
    assert VIFB_METRICS["MI"](x, x, x) == pytest.approx(2 * en_nats)
    assert VIFB_METRICS["CE"](x, x, x) == 0.0


def test_mi_is_invariant_to_min_max_rescaling():
    x, y = _rand((16, 16), 2), _rand((16, 16), 3)
    x[0, 0], x[0, 1] = 0.0, 255.0
    assert VIFB_METRICS["MI"](x, y, y) == pytest.approx(VIFB_METRICS["MI"](x / 255.0, y, y))


def test_identical_images_give_the_ideal_similarity_scores():
    x = _rand((40, 48), 4)
    assert VIFB_METRICS["SSIM"](x, x, x) == pytest.approx(2.0)
    assert VIFB_METRICS["Qcb"](x, x, x) == pytest.approx(1.0)
    assert VIFB_METRICS["Qcv"](x, x, x) == 0.0
    assert VIFB_METRICS["RMSE"](x, x, x) == 0.0


def test_quality_metrics_rank_a_good_fusion_above_a_bad_one():
    a, b = _rand((48, 48), 5), _rand((48, 48), 6)
    good = (a + b) / 2
    bad = np.full_like(a, 128.0)
    bad[::2] = 0.0
    for name in ("SSIM", "Qabf", "Qcb", "MI"):
        assert VIFB_METRICS[name](good, a, b) > VIFB_METRICS[name](bad, a, b), name
    assert VIFB_METRICS["Qcv"](good, a, b) < VIFB_METRICS["Qcv"](bad, a, b)


def test_qabf_is_within_0_1_and_symmetric_in_sources():
    a, b = _rand((30, 30), 7), _rand((30, 30), 8)
    f = np.maximum(a, b)
    q = VIFB_METRICS["Qabf"](f, a, b)
    assert 0.0 < q < 1.0
    assert VIFB_METRICS["Qabf"](f, b, a) == pytest.approx(q)


@pytest.mark.parametrize("name", ["Qabf", "Qcb", "Qcv"])
def test_constant_images_give_nan_with_a_warning(name):
    # All zero: no Sobel response anywhere (Qabf), no contrast (Qcb), no normalisation (Qcv).
    c = np.zeros((32, 32))
    with pytest.warns(RuntimeWarning, match=name):
        assert math.isnan(VIFB_METRICS[name](c, c, c))


def test_ssim_stays_defined_on_constant_images():
    # The constants C1, C2 keep SSIM finite: two identical constant images score 1 each.
    c = np.full((32, 32), 7.0)
    assert VIFB_METRICS["SSIM"](c, c, c) == pytest.approx(2.0)


def test_tiny_images_give_nan_with_a_warning_not_a_crash():
    x = np.array([[3.0, 9.0]])
    with pytest.warns(RuntimeWarning, match="AG"):
        assert math.isnan(VIFB_METRICS["AG"](x, x, x))
    with pytest.warns(RuntimeWarning, match="SSIM"):
        assert math.isnan(VIFB_METRICS["SSIM"](x, x, x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name in ("EN", "MI", "SD", "SF", "CE", "EI", "PSNR", "RMSE"):
            assert math.isfinite(VIFB_METRICS[name](x, x[:, ::-1], x)), name


def test_colour_rule_averages_channels_and_uses_gray_source_for_each():
    rng = np.random.default_rng(9)
    f = rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)
    a = rng.integers(0, 256, (24, 20), dtype=np.uint8)
    b = rng.integers(0, 256, (24, 20, 3), dtype=np.uint8)
    got = score_vifb(f, a, b, ["EN", "MI", "Qabf"])
    for name in ("EN", "MI", "Qabf"):
        per_channel = [
            VIFB_METRICS[name](f[..., c].astype(float), a.astype(float), b[..., c].astype(float))
            for c in range(3)
        ]
        assert got[name] == pytest.approx(np.mean(per_channel)), name


def test_colour_sf_uses_the_channels_side_by_side():
    rng = np.random.default_rng(10)
    f = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    side = np.concatenate([f[..., 0], f[..., 1], f[..., 2]], axis=1).astype(float)
    assert score_vifb(f, f, f, ["SF"])["SF"] == pytest.approx(VIFB_METRICS["SF"](side, None, None))


def test_gray_fused_image_scores_against_matlab_gray_of_colour_sources():
    rng = np.random.default_rng(11)
    f = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    b = np.repeat(f[..., None], 3, axis=2)  # R = G = B, so rgb2gray gives f back
    assert score_vifb(f, f, b, ["RMSE"]) == {"RMSE": 0.0}


def test_bad_input_gives_a_clear_error():
    x = np.zeros((8, 8), np.uint8)
    with pytest.raises(MetricError, match="not in profile 'vifb'"):
        score_vifb(x, x, x, ["VIF"])
    with pytest.raises(MetricError, match="size mismatch"):
        score_vifb(x, np.zeros((8, 9), np.uint8), x, ["EN"])
    with pytest.raises(MetricError, match="shape"):  # 4 channels are RGBA (alpha dropped)
        score_vifb(np.zeros((8, 8, 2), np.uint8), x, x, ["EN"])
