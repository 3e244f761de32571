"""The one-shot GPU training script, in its CPU dry-run mode (what CI can run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from fusionbench.imageio import write_image
from fusionbench.methods.clfnet.fuser import ClfnetFuser

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "clfnet_gpu_oneshot.py"


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(1)
    for k in range(2):
        for role in ("ir", "vi"):
            (root / role).mkdir(exist_ok=True)
            write_image(root / role / f"p{k}.png", rng.integers(0, 256, (140, 150), np.uint8))
    return root


def test_dry_run_writes_at_most_8_files_and_passes_every_check(pairs: Path,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "gpu_run"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--data", str(pairs),
                           "--dry-run"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(["checkpoint.pt", "clfnet.pt", "fused_sample.png", "log.jsonl",
                            "log.jsonl.gz", "report.json", "summary.json"])
    report = json.loads((out / "report.json").read_text())
    phases = report["phases"]
    assert list(phases) == ["env", "parity", "probe", "train", "portability", "inference",
                            "done"]
    assert all(p["ok"] for p in phases.values()) and report["ok"]
    assert phases["parity"]["device_fp32"]["rel_diff"]["loss"] <= 1e-3
    assert phases["probe"]["projected_schedule_minutes"] > 0
    assert phases["train"]["step"] == 3 and phases["train"]["stopped_by"] == "max_steps"
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True, map_location="cpu")
    assert ckpt["step"] == 3 and ckpt["config"]["precision"] == "fp32"
    fused = ClfnetFuser(weights=out / "clfnet.pt", device="cpu", num_threads=1)(
        np.zeros((16, 16)), np.ones((16, 16)))
    assert np.isfinite(fused).all()


def test_a_failed_phase_is_reported_not_raised(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "o"), "--data",
                           str(tmp_path / "nowhere"), "--dry-run"], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0
    assert "nowhere" in proc.stderr and "Traceback" not in proc.stderr
