"""CLF-Net trainer: a short CPU smoke run, checkpoints, exact resume and the click command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from fusionbench.errors import DatasetError
from fusionbench.imageio import write_image
from fusionbench.methods.clfnet.cli import resolve_training_data, train_command
from fusionbench.methods.clfnet.train import TrainConfig, train


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two synthetic 160x160 pairs: IR = smooth warm blobs, VI = textured gradient."""
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:160, 0:160]
    for k in range(2):
        cy, cx = rng.integers(30, 130, size=2)
        ir = 40 + 200 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * 18.0**2))
        vi = 60 + 0.8 * xx + 40 * np.sin(yy / (3.0 + k)) + rng.normal(0, 8, (160, 160))
        for role, img in (("ir", ir), ("vi", vi)):
            (root / role).mkdir(exist_ok=True)
            write_image(root / role / f"p{k}.png", np.clip(img, 0, 255).astype(np.uint8))
    return root


def _config(pairs: Path, out: Path, **kw: object) -> TrainConfig:
    base: dict[str, object] = dict(
        data=[pairs], out=out, batch_size=4, patch_size=32, patch_stride=64, num_samples=64,
        device="cpu", seed=0, progress=False,
    )
    base.update(kw)
    return TrainConfig(**base)  # type: ignore[arg-type]


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_smoke_loss_decreases_and_checkpoints(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    weights = train(_config(pairs, out, max_steps=12, epochs=5))
    log = _log(out)
    assert [r["step"] for r in log] == list(range(1, 13))
    first = np.mean([r["loss"] for r in log[:4]])
    last = np.mean([r["loss"] for r in log[-4:]])
    assert last < first - 0.1, (first, last)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    # 2 pairs x 3 x 3 tiles (starts 0, 64, 128) = 18 patches: 5 steps per epoch (last has 2)
    assert state["step"] == 12 and state["epoch"] == 2
    assert set(state) >= {"net", "head", "opt_net", "opt_head", "rng", "config"}
    gen = torch.load(weights, weights_only=True)
    assert all(v.dtype in (torch.float32, torch.int64) for v in gen.values())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 12 and summary["patches"] == 18
    assert summary["pairs"] == [f"{pairs.name}/p0", f"{pairs.name}/p1"]


def test_resume_continues_exactly(pairs: Path, tmp_path: Path) -> None:
    # 7 steps in one go == 3 steps, stop mid-epoch, resume to 7 (crossing the epoch end at 5).
    for total, cut in ((7, 3),):
        full, split = tmp_path / f"full{total}", tmp_path / f"split{total}"
        train(_config(pairs, full, max_steps=total))
        train(_config(pairs, split, max_steps=cut))
        with open(split / "log.jsonl", "a") as fh:  # a line written after the checkpoint
            fh.write('{"step": 99, "loss": 0}\n{"step": 1')
        train(_config(pairs, split, max_steps=total, resume=True))
        a = torch.load(full / "checkpoint.pt", weights_only=True)
        b = torch.load(split / "checkpoint.pt", weights_only=True)
        assert b["step"] == total
        for key in a["net"]:
            torch.testing.assert_close(a["net"][key], b["net"][key], atol=1e-6, rtol=1e-5)
        assert [r["step"] for r in _log(split)] == list(range(1, total + 1))
        losses_a = [r["loss"] for r in _log(full)]
        losses_b = [r["loss"] for r in _log(split)]
        np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)


def test_resume_rejects_other_data_layout(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "other"
    train(_config(pairs, out, max_steps=1))
    with pytest.raises(ValueError, match="steps per epoch"):
        train(_config(pairs, out, max_steps=2, batch_size=2, resume=True))


def test_time_budget_stops_with_checkpoint(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "budget"
    train(_config(pairs, out, time_budget=0.0))
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] <= 1
    assert json.loads((out / "summary.json").read_text())["stopped_by_time_budget"]


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="at least one folder"):
        TrainConfig(data=[])
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(data=["x"], batch_size=0)
    with pytest.raises(ValueError, match="ssim_window"):
        TrainConfig(data=["x"], ssim_window="box")


def test_cli_runs_and_resolves(pairs: Path, tmp_path: Path, monkeypatch) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        train_command,
        ["--dataset", str(pairs), "--max-steps", "1", "--batch-size", "2", "--num-samples", "8",
         "--device", "cpu", "--out", str(out), "--threads", "1"],
    )
    assert result.exit_code == 0, result.output
    assert (out / "clfnet.pt").is_file()
    bad = CliRunner().invoke(train_command, ["--dataset", "no-such-set", "--out", str(out)])
    assert bad.exit_code != 0 and "no-such-set" in bad.output
    # A dataset card name resolves against the data root ($FUSIONBENCH_DATA here).
    root = tmp_path / "root"
    (root / "tno-train").mkdir(parents=True)
    for role in ("ir", "vi"):
        (root / "tno-train" / role).symlink_to(pairs / role)
    monkeypatch.setenv("FUSIONBENCH_DATA", str(root))
    assert resolve_training_data("tno-train") == root / "tno-train"
    with pytest.raises(DatasetError, match="unknown dataset"):
        resolve_training_data("no-such-set")


def test_cli_module_does_not_import_torch() -> None:
    code = (
        "import sys, fusionbench.methods.clfnet.cli as c; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
