"""The one metrics engine: every profile goes through it, each NaN is reported once with its
reason (also when a value comes from the cache shared by profiles), the profile layer does not
import the engine, and the functional core's functions are documented by examples."""

from __future__ import annotations

import ast
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import fusionbench.metrics as M
from fusionbench.errors import MetricWarning

PACKAGE = Path(M.__file__).parent


def _nan_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if isinstance(w.message, MetricWarning)]


def test_a_formulas_nan_reason_is_reported_once_per_profile_even_from_the_shared_cache():
    flat = np.full((40, 40), 9, np.uint8)
    rng = np.random.default_rng(0)
    f = rng.integers(0, 256, (40, 40), dtype=np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = M.score_many(f, flat, f, profiles=["standard", "vifb"], metrics=["Qcb", "Qcv"])
    assert all(math.isnan(v) for scores in out.values() for v in scores.values())
    # standard computes these, vifb takes them from the cache: both name the formula's reason
    assert sorted(_nan_warnings(caught)) == ["Qcb is NaN: an input image is constant"] * 2 + [
        "Qcv is NaN: an input image is constant"] * 2


def test_one_score_call_computes_ms_ssims_first_scale_once(monkeypatch):
    """score() shares one cache between the metrics it is asked for: SSIM is MS_SSIM's first
    scale, so SSIM + MS_SSIM computes 3 MEF-SSIM maps (scales 1, 2, 3), not 4 (before, each
    metric got a fresh cache and scale 1 was computed twice)."""
    from fusionbench.metrics import structural

    calls = []
    original = structural.mef_ssim
    monkeypatch.setattr(structural, "mef_ssim",
                        lambda seq, f: calls.append(np.shape(f)) or original(seq, f))
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 256, (2, 48, 52), dtype=np.uint8)
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    both = M.score(f, a, b, profile="tang2022", metrics=["SSIM", "MS_SSIM"])
    assert calls == [(48, 52), (24, 26), (12, 13)]
    assert both["SSIM"] == original(np.stack([a, b]).astype(float), f.astype(float))


@pytest.mark.parametrize(("profile", "error_metric", "options"), [
    ("tang2022", "MSE", {"peak": 255.0}), ("cddfuse", "MSE", {"peak": None}),
    ("vifb", "RMSE", {"error": "vifb_rmse"})])
def test_psnr_is_computed_from_the_error_metric_of_the_same_call(monkeypatch, profile: str,
                                                                 error_metric: str,
                                                                 options: dict) -> None:
    """PSNR is a function of the MSE (VIFB: its RMSE): once PSNR is computed, the error
    metric's value is in the context's cache (one score() call asked for both computes the
    error once), and the values are the functional core's."""
    from fusionbench.metrics import computations, similarity
    from fusionbench.metrics._inputs import prepare_image
    from fusionbench.metrics.context import Context
    from fusionbench.metrics.profiles import PROFILES

    rng = np.random.default_rng(5)
    a, b = rng.integers(0, 256, (2, 30, 34), dtype=np.uint8)
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    c = Context(*(prepare_image(x, r) for x, r in ((f, "f"), (a, "a"), (b, "b"))), "uint8")
    metrics = PROFILES[profile].definitions
    psnr = metrics["PSNR"].compute(c)
    scale = 255.0 if profile == "tang2022" else 1.0
    images = [x.astype(float) / scale for x in (f, a, b)]
    assert psnr == similarity.psnr(*images, **options)
    monkeypatch.setattr(computations.On, "__call__",
                        lambda self, c: pytest.fail(f"{self.formula.__name__} recomputed"))
    error, _ = c.value(metrics[error_metric].compute)
    assert error == similarity.PSNR_ERRORS[options.get("error", "mse")](*images)


def test_cc_and_scd_centre_each_source_once(monkeypatch) -> None:
    """CC (a per-image computation) and SCD share the sources' centred images: 5 centrings
    (F, A, B, F - B, F - A) instead of 7, and the functional core's values."""
    from fusionbench.metrics import computations, similarity
    from fusionbench.metrics._inputs import prepare_image
    from fusionbench.metrics.context import Context

    calls = []
    original = similarity.centred
    monkeypatch.setattr(similarity, "centred", lambda x: calls.append(x.shape) or original(x))
    rng = np.random.default_rng(6)
    a, b = rng.integers(0, 256, (2, 20, 22), dtype=np.uint8)
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    c = Context(*(prepare_image(x, r) for x, r in ((f, "f"), (a, "a"), (b, "b"))), "uint8")
    cc = computations.PerImage(similarity.cc_from_centred, similarity.centred, "unit")(c)
    scd = computations.Scd("unit")(c)
    assert len(calls) == 5
    images = [x.astype(float) / 255.0 for x in (f, a, b)]
    assert (cc, scd) == (similarity.correlation_coefficient(*images), similarity.scd(*images))


def test_a_colour_image_warns_once_not_once_per_channel():
    f = np.zeros((40, 40, 3), np.uint8)
    f[:, 20:] = 200
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = M.score(f, f, np.zeros_like(f), profile="vifb", metrics=["Qcb"])
    assert math.isnan(out["Qcb"])
    assert _nan_warnings(caught) == ["Qcb is NaN: an input image is constant"]


def test_identical_images_give_vifbs_infinite_psnr_and_nan_with_a_reason_elsewhere():
    x = np.random.default_rng(1).integers(0, 256, (24, 24), dtype=np.uint8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = M.score_many(x, x, x, profiles=["vifb", "standard"], metrics=["PSNR"])
    assert out["vifb"]["PSNR"] == math.inf  # MATLAB's metricsPsnr gives Inf
    assert math.isnan(out["standard"]["PSNR"])
    assert _nan_warnings(caught) == ["PSNR is NaN: the metric is undefined for these images (0/0)"]


def test_vifb_per_channel_scores_are_the_mean_of_the_gray_channel_scores():
    rng = np.random.default_rng(2)
    f, a, b = rng.integers(0, 256, (3, 30, 34, 3), dtype=np.uint8)
    names = [m for m in M.PROFILES["vifb"].metrics if m != "SF"]
    got = M.score(f, a, b, profile="vifb", metrics=names)
    per_channel = [M.score(f[..., k], a[..., k], b[..., k], profile="vifb", metrics=names)
                   for k in range(3)]
    for name in names:
        assert got[name] == float(np.mean([s[name] for s in per_channel])), name


def test_a_batch_of_fused_images_scores_as_each_one_alone():
    # The sources' intermediates are kept on the prepared sources and reused; nothing that
    # depends on a fused image may be reused for the next one.
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (44, 48), dtype=np.uint8)  # gray source beside a colour one
    b = rng.integers(0, 256, (44, 48, 3), dtype=np.uint8)
    fused = [rng.integers(0, 256, (44, 48, 3), dtype=np.uint8),
             rng.integers(0, 256, (44, 48), dtype=np.uint8),
             rng.random((44, 48)),  # float on [0, 1]
             np.full((44, 48), 128, np.uint8)]
    profiles = list(M.PROFILES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = M.score_batch(fused, a, b, profiles=profiles, metrics=["all"])
        alone = [M.score_many(f, a, b, profiles=profiles, metrics=["all"]) for f in fused]
    assert len(batch) == len(fused)
    for got, want in zip(batch, alone, strict=True):
        for prof in profiles:
            assert got[prof].keys() == want[prof].keys()
            for metric, value in want[prof].items():
                same = got[prof][metric] == value or (math.isnan(value)
                                                      and math.isnan(got[prof][metric]))
                assert same, (prof, metric)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "profiles").glob("*.py"))
                         + [PACKAGE / "computations.py", PACKAGE / "context.py"],
                         ids=lambda p: p.name)
def test_the_profile_layer_does_not_import_the_engine(path: Path):
    assert "fusionbench.metrics.engine" not in _imports(path)


def test_there_is_no_second_engine():
    assert not list(PACKAGE.glob("vifb*.py"))
    assert all(isinstance(p, M.Profile) for p in M.PROFILES.values())


@pytest.mark.parametrize("name", ["qabf", "nabf", "fmi", "mse", "psnr", "rmse",
                                  "correlation_coefficient", "scd", "ssim", "ssim_matlab",
                                  "ssim_skimage", "mef_ssim", "mef_ms_ssim", "cross_entropy",
                                  "edge_intensity", "qcb", "qcv"])
def test_each_formula_of_the_functional_core_has_an_example(name: str):
    assert ">>> " in (getattr(M, name).__doc__ or ""), name
