"""CLF-Net trainer: a short CPU smoke run, checkpoints, exact resume and the click command."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from fusionbench.errors import DatasetError, OutputError, UsageError
from fusionbench.imageio import write_image
from fusionbench.methods.clfnet.cli import resolve_training_data, train_command
from fusionbench.methods.clfnet.step import forward_losses
from fusionbench.methods.clfnet.train import InitFromWeights, TrainConfig, TrainingDiverged, train
from fusionbench.weights import weights_sha256


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
    result = train(_config(pairs, out, max_steps=12, epochs=5, log_every=5))
    assert (result.step, result.total_steps, result.stopped_by) == (12, 12, "max_steps")
    log = _log(out)
    assert [r["step"] for r in log] == list(range(1, 13))
    first = np.mean([r["loss"] for r in log[:4]])
    last = np.mean([r["loss"] for r in log[-4:]])
    assert last < first - 0.1, (first, last)
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    # 2 pairs x 3 x 3 tiles (starts 0, 64, 128) = 18 patches: 5 steps per epoch (last has 2)
    assert state["step"] == 12 and state["epoch"] == 2
    assert set(state) >= {"net", "head", "opt_net", "opt_head", "rng", "config"}
    assert state["config"]["precision"] == "fp32"
    gen = torch.load(result.weights, weights_only=True)
    assert all(v.dtype in (torch.float32, torch.int64) for v in gen.values())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["steps"] == 12 and summary["patches"] == 18
    assert summary["pairs"] == [f"{pairs.name}/p0", f"{pairs.name}/p1"]
    assert summary["precision"] == "fp32" and summary["stopped_by"] == "max_steps"


def test_resume_continues_exactly(pairs: Path, tmp_path: Path) -> None:
    # 7 steps in one go == 3 steps, stop mid-epoch, resume to 7 (crossing the epoch end at 5).
    total, cut = 7, 3
    full, split = tmp_path / "full", tmp_path / "split"
    train(_config(pairs, full, max_steps=total, log_every=2))
    train(_config(pairs, split, max_steps=cut, log_every=2))
    with open(split / "log.jsonl", "a") as fh:  # a line written after the checkpoint
        fh.write('{"step": 99, "loss": 0}\n{"step": 1')
    train(_config(pairs, split, max_steps=total, resume=True, log_every=3))
    a = torch.load(full / "checkpoint.pt", weights_only=True)
    b = torch.load(split / "checkpoint.pt", weights_only=True)
    assert b["step"] == total
    for key in a["net"]:
        torch.testing.assert_close(a["net"][key], b["net"][key], atol=1e-6, rtol=1e-5)
    assert [r["step"] for r in _log(split)] == list(range(1, total + 1))
    losses_a = [r["loss"] for r in _log(full)]
    losses_b = [r["loss"] for r in _log(split)]
    np.testing.assert_allclose(losses_a, losses_b, rtol=1e-5)


def test_resume_names_every_setting_that_differs(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "other"
    train(_config(pairs, out, max_steps=1))
    with pytest.raises(UsageError, match=r"steps per epoch: checkpoint 5, this command 9"):
        train(_config(pairs, out, max_steps=2, batch_size=2, resume=True))
    with pytest.raises(UsageError) as err:
        train(_config(pairs, out, max_steps=2, lr=2e-3, seed=3, resume=True))
    message = str(err.value)
    assert "lr: checkpoint 0.001, this command 0.002" in message
    assert "seed: checkpoint 0, this command 3" in message
    # what may change between invocations: device, budget, logging, checkpoint cadence
    train(_config(pairs, out, max_steps=2, resume=True, log_every=7, checkpoint_minutes=1.0))
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 2


def test_resume_without_checkpoint_is_an_error(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    with pytest.raises(UsageError, match=r"--resume: no checkpoint at .*empty/checkpoint.pt"):
        train(_config(pairs, out, max_steps=1, resume=True))
    assert not (out / "log.jsonl").exists()


def test_new_run_does_not_overwrite_a_checkpoint(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "kept"
    train(_config(pairs, out, max_steps=2))
    before = (out / "checkpoint.pt").read_bytes()
    with pytest.raises(UsageError, match="exists: pass --resume"):
        train(_config(pairs, out, max_steps=1))
    assert (out / "checkpoint.pt").read_bytes() == before and len(_log(out)) == 2


def test_time_budget_stops_with_checkpoint(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "budget"
    result = train(_config(pairs, out, time_budget=0.0))
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] <= 1 and result.stopped_by == "time_budget"
    assert json.loads((out / "summary.json").read_text())["stopped_by"] == "time_budget"


def test_sigterm_stops_after_the_step_with_a_checkpoint(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "term"
    before = signal.getsignal(signal.SIGTERM)

    def kill_at_3(step: int) -> None:
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    result = train(_config(pairs, out, max_steps=50, log_every=10), on_step=kill_at_3)
    assert (result.step, result.stopped_by) == (3, "SIGTERM")
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 3
    assert [r["step"] for r in _log(out)] == [1, 2, 3]  # pending losses were written
    assert signal.getsignal(signal.SIGTERM) is before  # handler restored
    resumed = train(_config(pairs, out, max_steps=5, resume=True))
    assert (resumed.step, resumed.stopped_by) == (5, "max_steps")


def test_ctrl_c_on_the_command_line_leaves_a_checkpoint(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "sigint"
    cmd = [sys.executable, "-c",
           "from fusionbench.methods.clfnet.cli import train_command; train_command()",
           "--dataset", str(pairs), "--out", str(out), "--device", "cpu", "--threads", "1",
           "--batch-size", "2", "--num-samples", "8", "--log-every", "1", "--epochs", "50"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = out / "log.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if log.exists() and len(log.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "interrupted by SIGINT; checkpoint saved, continue with --resume" in err
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] >= 2 and state["step"] == len(_log(out))


def test_checkpoint_every_n_steps_and_every_few_minutes(pairs: Path, tmp_path: Path) -> None:
    seen: dict[int, int] = {}
    out = tmp_path / "every"

    def record(step: int) -> None:
        path = out / "checkpoint.pt"
        seen[step] = torch.load(path, weights_only=True)["step"] if path.exists() else 0

    train(_config(pairs, out, max_steps=4, checkpoint_every=2, log_every=10), on_step=record)
    assert seen == {1: 0, 2: 2, 3: 2, 4: 4}
    seen.clear()
    out = tmp_path / "minutes"
    train(_config(pairs, out, max_steps=3, checkpoint_minutes=1e-9, log_every=10),
          on_step=record)
    assert seen == {1: 1, 2: 2, 3: 3}


def test_unwritable_output_folder_is_a_clear_error(pairs: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(UsageError, match=r"--out .*file/run: cannot write there"):
        train(_config(pairs, blocker / "run", max_steps=1))

    def read_only(*args: object, **kw: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("fusionbench.methods.clfnet.train.tempfile.mkstemp", read_only)
    with pytest.raises(OutputError, match="cannot write in .*ro: the file system is read-only"):
        train(_config(pairs, tmp_path / "ro", max_steps=1))


def test_divergence_stops_before_overwriting_the_checkpoint(
    pairs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fusionbench.methods.clfnet.train as train_module

    calls = []

    def nan_at_3(*args: object, **kw: object):  # noqa: ANN202
        loss, nce, ssim = forward_losses(*args, **kw)  # type: ignore[arg-type]
        calls.append(1)
        return (loss * float("nan"), nce, ssim) if len(calls) == 3 else (loss, nce, ssim)

    monkeypatch.setattr(train_module, "forward_losses", nan_at_3)
    out = tmp_path / "nan"
    with pytest.raises(TrainingDiverged, match="diverged at step 3"):
        train(_config(pairs, out, max_steps=6, checkpoint_every=1, log_every=1))
    assert torch.load(out / "checkpoint.pt", weights_only=True)["step"] == 2


def test_init_from_weights_is_labelled(pairs: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    weights = train(_config(pairs, first, max_steps=3)).weights
    out = tmp_path / "init"
    result = train(_config(pairs, out, max_steps=5),
                   init=InitFromWeights(weights, 3, "test: weights of run 'first'"))
    assert result.step == 5 and len(_log(out)) == 2 and _log(out)[0]["step"] == 4
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["origin"] == "built from generator weights only"
    assert state["origin_weights_sha256"] == weights_sha256(weights)
    assert "first" in state["note"]
    summary = json.loads((out / "summary.json").read_text())
    assert any("built from generator weights only" in n for n in summary["notes"])
    with pytest.raises(UsageError, match="cannot be combined with --resume"):
        train(_config(pairs, out, max_steps=6, resume=True), init=InitFromWeights(weights, 3, ""))


class _Counter:
    """Counts calls of the tensor methods/functions that move data between host and device."""

    NAMES = ("to", "cuda", "cpu", "item", "tolist", "numpy", "__float__", "__bool__", "__int__")
    FACTORIES = ("tensor", "as_tensor", "from_numpy")

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.counts: dict[str, int] = {}
        self.active = False
        for name in self.NAMES:
            monkeypatch.setattr(torch.Tensor, name, self._wrap(name, getattr(torch.Tensor, name)))
        for name in self.FACTORIES:
            monkeypatch.setattr(torch, name, self._wrap(name, getattr(torch, name)))

    def _wrap(self, name: str, fn):  # noqa: ANN001, ANN202
        def counted(*args, **kw):  # noqa: ANN002, ANN003, ANN202
            if self.active:
                self.counts[name] = self.counts.get(name, 0) + 1
            return fn(*args, **kw)

        return counted


def test_no_per_step_host_device_traffic(pairs: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    counter = _Counter(monkeypatch)
    counts = {}
    for steps in (6, 12):
        counter.counts = {}
        counter.active = True
        # batch 1: 18 steps per epoch, so both runs stay inside epoch 0
        train(_config(pairs, tmp_path / f"c{steps}", max_steps=steps, batch_size=1,
                      log_every=6), on_step=lambda s: None)
        counter.active = False
        counts[steps] = dict(counter.counts)
    names = set(counts[6]) | set(counts[12])
    extra = {k: counts[12].get(k, 0) - counts[6].get(k, 0) for k in names}
    # six more steps cost exactly one more read-back of the losses, nothing else
    assert {k: v for k, v in extra.items() if v} == {"tolist": 1}, counts


def test_bf16_and_compiled_paths_run(pairs: Path, tmp_path: Path) -> None:
    bf16 = train(_config(pairs, tmp_path / "bf16", max_steps=2, precision="bf16"))
    assert json.loads((tmp_path / "bf16" / "summary.json").read_text())["precision"] == "bf16"
    assert bf16.step == 2
    # the compile plumbing with the "eager" backend (inductor needs minutes on this CPU)
    compiled = train(_config(pairs, tmp_path / "comp", max_steps=2, compile=True,
                             compile_backend="eager"))
    plain = train(_config(pairs, tmp_path / "plain", max_steps=2))
    np.testing.assert_allclose([r["loss"] for r in _log(tmp_path / "comp")],
                               [r["loss"] for r in _log(tmp_path / "plain")], rtol=1e-5)
    assert compiled.step == plain.step == 2


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
    assert (out / "clfnet.pt").is_file() and "stopped by max_steps" in result.output
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


def test_cli_init_from_shipped_then_resume(pairs: Path, tmp_path: Path) -> None:
    out = tmp_path / "shipped"
    common = ["--dataset", str(pairs), "--batch-size", "4", "--num-samples", "8",
              "--device", "cpu", "--out", str(out), "--threads", "1"]
    first = CliRunner().invoke(train_command, [*common, "--init-from", "shipped",
                                               "--init-step", "1", "--max-steps", "2"])
    assert first.exit_code == 0, first.output
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 2 and state["origin"] == "built from generator weights only"
    assert "projection head, Adam moments and data order are NEW" in state["note"]
    from fusionbench.methods.clfnet.fuser import shipped_weights

    assert state["origin_weights_sha256"] == shipped_weights()[1]
    again = CliRunner().invoke(train_command, [*common, "--resume", "--max-steps", "3"])
    assert again.exit_code == 0, again.output
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == 3 and state["origin"] == "built from generator weights only"


@pytest.mark.parametrize("write", ["checkpoint", "log"])
def test_checkpoint_and_log_writes_are_synced_and_fail_whole(tmp_path: Path, write: str,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """Checkpoints and the trimmed log go through :mod:`fusionbench.atomic`: synced to disk
    before the rename (a disk that fails then is an exit-6 ``OutputError`` naming the folder),
    the previous file kept whole and no temporary file left behind."""
    import fusionbench.atomic
    from fusionbench.methods.clfnet.checkpoint import atomic_torch_save
    from fusionbench.methods.clfnet.train import _trim_log

    target = tmp_path / ("checkpoint.pt" if write == "checkpoint" else "log.jsonl")
    target.write_bytes(b'{"step": 1}\n{"step": 2}\n')

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(fusionbench.atomic.os, "fsync", full)
    with pytest.raises(OutputError, match="cannot write in .*the disk is full"):
        if write == "checkpoint":
            atomic_torch_save({"step": 3}, target)
        else:
            _trim_log(target, 1)
    assert target.read_bytes() == b'{"step": 1}\n{"step": 2}\n'
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
