"""Metric directions and ranges are data (``catalog.METRICS``) that hold for every profile, every
profile metric names its origin in the original code, and ``all`` selects every metric."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from fusionbench.errors import MetricError
from fusionbench.metrics import PROFILES, get_profile, resolve_metrics, score
from fusionbench.metrics.catalog import METRICS


def _triples() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Random, smooth-plus-noise and half-flat 64 x 64 triples (8-bit)."""
    rng = np.random.default_rng(7)
    out = []
    a, b = rng.integers(0, 256, (2, 64, 64), dtype=np.uint8)
    out.append((((a.astype(int) + b) // 2).astype(np.uint8), a, b))
    yy, xx = np.mgrid[:64, :64]
    smooth = (127 + 100 * np.sin(xx / 7.0) * np.cos(yy / 5.0)).astype(np.uint8)
    noisy = np.clip(smooth + rng.normal(0, 12, smooth.shape), 0, 255).astype(np.uint8)
    flat = smooth.copy()
    flat[:, :32] = 255
    out.append((noisy, smooth, flat))
    out.append(((0.6 * smooth + 0.4 * flat).astype(np.uint8), flat, smooth))
    return out


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_value_lies_in_its_catalog_bounds(profile: str) -> None:
    for f, a, b in _triples():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = score(f, a, b, profile=profile, metrics=["all"])
        assert list(values) == list(PROFILES[profile].metrics)
        for metric, value in values.items():
            low, high = METRICS[metric].bounds
            assert math.isfinite(value), (profile, metric)
            assert low is None or value >= low - 1e-9, (profile, metric, value)
            assert high is None or value <= high + 1e-9, (profile, metric, value)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile_metric_has_catalog_entry_and_origin(profile: str) -> None:
    prof = get_profile(profile)
    for metric in prof.metrics:
        assert metric in METRICS
        origin = prof.origin(metric)
        assert origin and ":" in origin or origin.startswith("fusionbench"), (profile, metric)


def test_defaults_unchanged_and_all_selects_everything() -> None:
    # run/eval cost and the CI regression reference depend on these defaults
    for name in ("standard", "tang2022", "tang2023", "cddfuse"):
        assert PROFILES[name].default_metrics == ("EN", "MI", "VIF", "SD", "AG", "SF")
    assert len(PROFILES["tang2022"].metrics) == len(PROFILES["tang2023"].metrics) == 17
    assert len(PROFILES["cddfuse"].metrics) == 12
    assert resolve_metrics(PROFILES["tang2022"], "ALL") == list(PROFILES["tang2022"].metrics)
    assert resolve_metrics(PROFILES["cddfuse"], ["qabf", "Qabf", "ssim"]) == ["Qabf", "SSIM"]
    with pytest.raises(MetricError, match="did you mean 'Nabf'"):
        resolve_metrics(PROFILES["tang2022"], ["nabff"])


def test_listing_names_origin_and_direction_of_every_metric() -> None:
    from click.testing import CliRunner

    from fusionbench.cli import cli

    out = CliRunner().invoke(cli, ["metrics"]).output
    assert "Evaluation/analysis_nabf.m: analysis_nabf" in out
    assert "utils/Evaluator.py: Evaluator.SCD" in out
    assert "Nabf      lower" in out and "FMI_dct   higher" in out


def test_option_check_accepts_all() -> None:
    from fusionbench.errors import UsageError
    from fusionbench.options import check_metrics

    check_metrics(("tang2022", "cddfuse"), ["all"])
    check_metrics(("tang2022",), ["Qabf", "FMI_w"])
    with pytest.raises(UsageError, match="profile 'cddfuse' has no metric 'Nabf'"):
        check_metrics(("cddfuse",), ["Nabf"])
