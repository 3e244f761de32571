"""The public metrics API: profiles, dispatch, errors, degenerate inputs, input ranges."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from fusionbench.colour import rgb2gray_matlab
from fusionbench.errors import MetricError
from fusionbench.metrics import (
    DEFAULT_PROFILE,
    PROFILES,
    average_gradient,
    entropy,
    mutual_information,
    profile_metrics,
    score,
    spatial_frequency,
    standard_deviation,
    vif,
    viff,
)
from fusionbench.metrics._inputs import rgb2gray_opencv
from fusionbench.metrics.catalog import METRICS, PAPER_METRICS

RNG = np.random.default_rng(7)
A = RNG.integers(0, 256, (48, 56), dtype=np.uint8)
B = RNG.integers(0, 256, (48, 56), dtype=np.uint8)
F = ((A.astype(np.uint16) + B) // 2).astype(np.uint8)
LOCAL_PROFILES = ["standard", "tang2022", "tang2023", "cddfuse"]


def test_profiles_describe_themselves() -> None:
    assert DEFAULT_PROFILE == "standard"
    assert {"standard", "tang2022", "tang2023", "cddfuse", "han_viff", "vifb"} <= set(PROFILES)
    for name, prof in PROFILES.items():
        assert prof.name == name and prof.description and prof.reference
        assert prof.metrics == profile_metrics(name)
        assert all(m in METRICS for m in prof.metrics), name
    for name in LOCAL_PROFILES:
        assert PROFILES[name].default_metrics == PAPER_METRICS
    assert profile_metrics("han_viff") == ("VIFF",)


@pytest.mark.parametrize("profile", LOCAL_PROFILES)
def test_default_metrics_are_the_paper_six(profile: str) -> None:
    out = score(F, A, B, profile=profile)
    assert list(out) == list(PAPER_METRICS)
    assert all(np.isfinite(v) for v in out.values())


def test_unknown_profile_and_metric_suggest_a_name() -> None:
    with pytest.raises(MetricError, match="did you mean 'tang2022'"):
        score(F, A, B, profile="tang-2022")
    with pytest.raises(MetricError, match="did you mean 'VIFF'"):
        score(F, A, B, metrics=["VIFFF"])
    with pytest.raises(MetricError, match="not in profile 'han_viff'"):
        score(F, A, B, metrics=["EN"], profile="han_viff")


def test_metric_names_are_case_insensitive() -> None:
    assert list(score(F, A, B, metrics=["en", "Sd"])) == ["EN", "SD"]


def test_size_mismatch_names_both_shapes() -> None:
    with pytest.raises(MetricError, match=r"\(48, 56\).*\(48, 55\)"):
        score(F, A, B[:, :55])


@pytest.mark.parametrize("profile", LOCAL_PROFILES)
def test_nan_input_gives_nan_only_where_used(profile: str) -> None:
    a = A.astype(np.float64)
    a[3, 4] = np.nan
    with pytest.warns(RuntimeWarning, match="a contains NaN"):
        out = score(F, a, B, profile=profile)
    assert np.isnan(out["MI"]) and np.isnan(out["VIF"])
    assert out["EN"] == score(F, A, B, profile=profile)["EN"]


def test_too_small_for_vif_gives_nan_with_warning() -> None:
    small = A[:16, :30]
    with pytest.warns(RuntimeWarning, match="smaller than the 17x17"):
        out = score(small, small, small)
    assert np.isnan(out["VIF"]) and np.isfinite(out["EN"])
    with pytest.warns(RuntimeWarning, match="41x41"):
        assert np.isnan(viff(A[:40], A[:40], A[:40]))


def test_constant_source_makes_vif_nan_and_constant_fused_warns() -> None:
    flat = np.full_like(A, 77)
    with pytest.warns(RuntimeWarning, match="source a is constant"):
        out = score(F, flat, B, metrics=["VIF", "VIFF", "MI"])
    assert np.isnan(out["VIF"]) and np.isnan(out["VIFF"]) and np.isfinite(out["MI"])
    with pytest.warns(RuntimeWarning, match="fused image fused is constant"):
        out = score(flat, A, B)
    assert out["EN"] == 0.0 and out["SD"] == 0.0 and out["VIF"] == 0.0


def test_float_inputs_on_both_ranges_match_uint8() -> None:
    ref = score(F, A, B)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither range may warn
        on_255 = score(F.astype(np.float64), A.astype(np.float32), B.astype(np.float64))
        on_1 = score(F / 255.0, A / 255.0, B / 255.0)
    assert on_255 == ref
    for key, value in ref.items():
        assert on_1[key] == pytest.approx(value, rel=1e-9), key


def test_out_of_range_float_warns_and_clips() -> None:
    a = A.astype(np.float64)
    a[0, 0] = 300.0
    with pytest.warns(UserWarning, match=r"outside \[0, 255\]"):
        out = score(F, a, B, metrics=["MI"])
    a[0, 0] = 255.0
    assert out["MI"] == score(F, a, B, metrics=["MI"])["MI"]


def test_binary_float_image_warns_about_its_range() -> None:
    with pytest.warns(UserWarning, match="only 0 and 1"):
        entropy((A > 128).astype(np.float64))


@pytest.mark.parametrize(("profile", "to_gray"), [
    ("tang2022", rgb2gray_matlab), ("tang2023", rgb2gray_matlab), ("standard", rgb2gray_matlab),
    ("cddfuse", rgb2gray_opencv)])
def test_colour_inputs_go_through_the_profiles_gray_conversion(profile: str, to_gray) -> None:
    rgb = RNG.integers(0, 256, (48, 56, 3), dtype=np.uint8)
    assert score(rgb, A, rgb, profile=profile) == score(
        to_gray(rgb), A, to_gray(rgb), profile=profile)
    assert not np.array_equal(rgb2gray_opencv(rgb), rgb2gray_matlab(rgb))


def test_opencv_gray_keeps_every_gray_level() -> None:
    levels = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)
    assert np.array_equal(rgb2gray_opencv(levels), levels[..., 0])


@pytest.mark.parametrize("profile", LOCAL_PROFILES)
def test_functional_core_agrees_with_score(profile: str) -> None:
    out = score(F, A, B, profile=profile)
    assert entropy(F, convention=profile) == out["EN"]
    assert mutual_information(F, A, B, convention=profile) == out["MI"]
    assert vif(F, A, B, convention=profile) == out["VIF"]
    assert standard_deviation(F, convention=profile) == out["SD"]
    assert average_gradient(F, convention=profile) == out["AG"]
    assert spatial_frequency(F, convention=profile) == out["SF"]
    assert viff(F, A, B) == score(F, A, B, metrics=["VIFF"])["VIFF"]


def test_profiles_differ_where_the_spec_says() -> None:
    t22 = score(F, A, B, profile="tang2022")
    t23 = score(F, A, B, profile="tang2023")
    std = score(F, A, B)
    cdd = score(F, A, B, profile="cddfuse")
    assert t22["SF"] == pytest.approx(t23["SF"] / 255, rel=1e-12)
    assert t22["SD"] <= np.sqrt(255) < t23["SD"] == std["SD"] == cdd["SD"]
    assert t22["EN"] == t23["EN"] == std["EN"] == cdd["EN"]
    assert t23["VIF"] == std["VIF"] == cdd["VIF"] != t22["VIF"]
    assert cdd["MI"] == pytest.approx(std["MI"] * np.log(2), rel=1e-12)  # no 255s in F here
    m, n = F.shape
    assert cdd["AG"] == pytest.approx(std["AG"] * (m - 1) * (n - 1) / (m * n), rel=1e-12)


def test_standard_offers_vifb_extras_and_vifb_profile_delegates() -> None:
    extras = ("CE", "EI", "PSNR", "RMSE", "SSIM", "Qabf", "Qcb", "Qcv")
    assert set(extras) <= set(profile_metrics("standard"))
    out = score(F, A, B, metrics=list(extras))
    assert list(out) == list(extras)
    same = score(A, A, A, metrics=["RMSE"], profile="vifb")
    assert same["RMSE"] == 0.0
