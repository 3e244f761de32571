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
from fusionbench.methods.clfnet import fuser
from fusionbench.methods.clfnet.fuser import ClfnetFuser
from fusionbench.weights import read_state_dict

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
    assert list(phases) == ["env", "start", "parity", "probe", "train", "portability",
                            "inference", "done"]
    assert all(p["ok"] for p in phases.values()) and report["ok"]
    assert phases["start"] == {"start": "scratch", "from_step": 0, "ok": True,
                               "phase_seconds": phases["start"]["phase_seconds"]}
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


@pytest.mark.data
@pytest.mark.slow
def test_dry_run_from_the_shipped_run_continues_it(data_root: Path, tmp_path: Path) -> None:
    """The GPU run's fallback start: the shipped weights' checkpoint is put into OUT, fits
    the script's settings (checked before any work), and training continues from its step."""
    out, steps = tmp_path / "gpu_run", fuser.shipped_weights_steps()
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--data",
                           str(data_root / "tno-train"), "--dry-run", "--start", "shipped"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    phases = json.loads((out / "report.json").read_text())["phases"]
    assert all(p["ok"] for p in phases.values()), phases
    assert phases["start"]["from_step"] == steps and phases["start"]["schedule_steps"] == 15_040
    assert phases["probe"]["projected_remaining_minutes"] < phases["probe"][
        "projected_schedule_minutes"]
    assert phases["train"]["step"] == steps + 2
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["step"] == steps + 2 and log[-3]["step"] == steps
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True, map_location="cpu")
    shipped = read_state_dict(fuser.shipped_weights()[0])
    assert ckpt["step"] == steps + 2
    assert not all(torch.equal(shipped[k], ckpt["net"][k]) for k in shipped)  # it trained on


def test_a_checkpoint_that_does_not_fit_stops_the_script_before_any_work(
        pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "gpu_run"
    first = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--data",
                            str(pairs), "--dry-run"], capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stdout + first.stderr
    again = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--data", str(pairs),
                            "--dry-run", "--precision", "bf16"], capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 1
    phases = json.loads((out / "report.json").read_text())["phases"]
    assert list(phases) == ["env", "start", "done"]
    assert "precision: checkpoint 'fp32', this command 'bf16'" in phases["start"]["error"]


def _auto_dry_run(data: Path, out: Path, minutes: float) -> dict:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--data", str(data),
                           "--dry-run", "--start", "auto", "--minutes", str(minutes)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    phases = json.loads((out / "report.json").read_text())["phases"]
    assert list(phases) == ["env", "start", "parity", "probe", "choice", "train",
                            "portability", "inference", "done"]
    assert all(p["ok"] for p in phases.values()), phases
    assert phases["start"]["deferred_to"] == "choice"
    return phases


def test_auto_start_trains_from_scratch_when_the_probe_projects_the_schedule_in_time(
        pairs: Path, tmp_path: Path) -> None:
    """Two 140x150 pairs make a schedule of a few dozen steps: it fits 9 minutes on the CPU."""
    phases = _auto_dry_run(pairs, tmp_path / "gpu_run", 9.0)
    choice, probe = phases["choice"], phases["probe"]
    assert choice["start"] == "scratch" and choice["from_step"] == 0
    assert probe["schedule_steps"] * probe["step_seconds"] * 1.15 < 8 * 60
    assert "min of training time left" in choice["reason"]
    assert phases["train"]["step"] == 3


@pytest.mark.data
@pytest.mark.slow
def test_auto_start_continues_the_shipped_run_when_the_schedule_cannot_fit(
        data_root: Path, tmp_path: Path) -> None:
    """15,040 CPU steps cannot fit half a minute of training time: the shipped run goes on."""
    phases = _auto_dry_run(data_root / "tno-train", tmp_path / "gpu_run", 1.5)
    steps = fuser.shipped_weights_steps()
    assert phases["choice"]["start"] == "shipped" and phases["choice"]["from_step"] == steps
    assert phases["choice"]["projected_remaining_minutes"] < phases["probe"][
        "projected_schedule_minutes"]
    assert phases["train"]["step"] == steps + 2
