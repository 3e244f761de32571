"""What tables say besides numbers: display names, incomplete runs, weights, synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

from test_report_fixtures import make_results

from fusionbench.registry import Registry
from fusionbench.report.build import build_report
from fusionbench.report.labels import run_label
from fusionbench.report.load import load_results

SHIPPED = Registry.builtin().get("clfnet").extra["weights_sha256"]
#: The card's account of the shipped weights' training (methods/clfnet/card.toml).
TRAINING = Registry.builtin().get("clfnet").extra["weights_training"]


def _labels(tmp_path: Path, manifest: dict) -> dict:
    scores = {"clfnet": {"EN": [1, 2, 3]}, "densefuse": {"EN": [1, 1, 1]},
              "clfnet@1a2b3c4d": {"EN": [2, 2, 2]}, "mine": {"EN": [3, 3, 3]}}
    runs = load_results(make_results(tmp_path, scores=scores, manifest=manifest)).runs
    return {r.method: run_label(r, 3) for r in runs}


def test_display_names_come_from_the_cards(tmp_path: Path) -> None:
    labels = _labels(tmp_path, {"clfnet@1a2b3c4d": {"method_name": "clfnet"}})
    assert labels["densefuse"].display == "DenseFuse"
    assert labels["clfnet"].display == "CLF-Net (re-implementation)"
    assert labels["clfnet@1a2b3c4d"].display == "CLF-Net (re-implementation)@1a2b3c4d"
    assert labels["mine"].display == "mine"  # no card: the run's own label


def test_weights_are_stated_for_network_methods(tmp_path: Path) -> None:
    labels = _labels(tmp_path, {
        "clfnet": {"method_kind": "network", "weights_sha256": SHIPPED},
        "clfnet@1a2b3c4d": {"method_kind": "network", "method_name": "clfnet",
                            "weights_sha256": "ab" * 32}})
    assert labels["clfnet"].weights == (
        f"weights sha256 {SHIPPED[:12]} (the shipped weights: {TRAINING})")
    assert labels["clfnet@1a2b3c4d"].weights == (
        "weights sha256 abababababab (not the shipped weights; training extent unknown)")
    assert labels["densefuse"].weights is None


def test_a_run_without_a_hash_says_so(tmp_path: Path) -> None:
    labels = _labels(tmp_path, {"clfnet": {"method_kind": "network", "weights": None}})
    assert labels["clfnet"].weights.endswith("(the run recorded no hash)")
    assert TRAINING in labels["clfnet"].weights


def test_weights_and_synthetic_data_are_in_every_caption(tmp_path: Path) -> None:
    scores = {"clfnet": {"EN": [1, 2, 3]}, "densefuse": {"EN": [1, 1]}}
    root = make_results(tmp_path / "res", scores=scores, manifest={
        "clfnet": {"method_kind": "network", "weights_sha256": SHIPPED,
                   "synthetic_data": True}})
    out = build_report(root, tmp_path / "out", formats=["md", "tex"], figures=False,
                       paper_scores=None)
    report = json.loads((out / "report.json").read_text())
    assert [t["table"] for t in report["tables"]] == ["main", "shared"]
    for table in report["tables"]:
        assert "SYNTHETIC DATA" in table["caption"]
        assert TRAINING in table["caption"]
    md = (out / "tables.md").read_text()
    tex = (out / "tables.tex").read_text()
    assert md.count("SYNTHETIC DATA: these images are generated") == 2
    assert tex.count("SYNTHETIC DATA: these images are generated") == 2
