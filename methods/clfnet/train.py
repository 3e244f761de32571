"""Training loop for CLF-Net: SSIM + PatchNCE, two Adam optimisers, resumable checkpoints.

Outputs in ``config.out``:

* ``checkpoint.pt``: network, head, both optimisers, step counters, RNG states and the config,
  written atomically at the end of every epoch, every ``checkpoint_every`` steps, every
  ``checkpoint_minutes`` of work, on SIGINT/SIGTERM and when the run stops; readable with
  ``torch.load(..., weights_only=True)``.
* ``log.jsonl``: one JSON object per step (``step, epoch, loss, nce, ssim, seconds``); losses are
  kept on the device and read back every ``log_every`` steps (one synchronisation), so
  ``seconds`` is the time at the read-back. On resume lines past the checkpoint are dropped.
* ``clfnet.pt``: the generator's float32 state dict (what :class:`ClfnetFuser` loads).
* ``summary.json``: pairs used, steps and epochs done, wall time, device, precision, last losses.

Per step nothing crosses between host and device: the patches live on the device, each epoch's
permutation is copied there once, the PatchNCE locations are drawn by a generator on the device,
the SSIM window is built there once. ``compile=True`` compiles the forward pass and losses with
``torch.compile`` (``compile_mode="reduce-overhead"`` adds CUDA graphs).

Example (a tiny run; see ``tests/clfnet/test_clfnet_train.py``)::

    train(TrainConfig(data=["pairs/"], out="runs/x", max_steps=10, device="cpu"))
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from fusionbench.atomic import atomic_write_text
from fusionbench.errors import FusionbenchError, OutputError, UsageError, is_output_os_error
from fusionbench.weights import WeightsError, check_sha256

from .checkpoint import (
    atomic_torch_save,
    checkpoint_from_weights,
    config_differences,
    expand_file,
    read_checkpoint,
)
from .data import load_patches
from .losses import ProjectionHead, sample_locations
from .model import CLFNet
from .runtime import PRECISIONS, configure, make_adam, pick_device, torch_threads
from .step import LossWeights, forward_losses

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "log.jsonl"
WEIGHTS_NAME = "clfnet.pt"
SUMMARY_NAME = "summary.json"


class TrainingDiverged(FusionbenchError):
    """A loss became NaN or infinite; the last checkpoint (before it) is kept."""


@dataclass
class TrainConfig:
    """Training settings; defaults follow the authors' code (lr 1e-3; the paper says 2e-3)."""

    data: list[str | Path] = field(default_factory=list)
    out: str | Path = "runs/clfnet"
    epochs: int = 20
    batch_size: int = 4
    lr: float = 1e-3
    lambda1: float = 1.0  # PatchNCE weight
    lambda2: float = 1.0  # SSIM weight
    num_samples: int = 200
    patch_size: int = 128
    patch_stride: int = 32
    tau: float = 0.07
    ssim_window: str = "gaussian"
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"
    deterministic: bool = False
    compile: bool = False
    compile_mode: str | None = None  # torch.compile mode, e.g. "reduce-overhead" (CUDA graphs)
    compile_backend: str = "inductor"
    resume: bool = False
    max_steps: int | None = None
    time_budget: float | None = None  # seconds of training in this invocation
    checkpoint_every: int | None = None  # steps, besides epochs ends and checkpoint_minutes
    checkpoint_minutes: float = 5.0  # minutes of work between checkpoints
    log_every: int = 25  # steps between loss read-backs (one device sync each)
    num_threads: int | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.data, str | Path):
            self.data = [self.data]
        if not self.data:
            raise ValueError("TrainConfig.data needs at least one folder with ir/ and vi/")
        for name in ("epochs", "batch_size", "num_samples", "patch_size", "patch_stride",
                     "log_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ValueError(f"TrainConfig.checkpoint_every must be >= 1: {self.checkpoint_every}")
        if self.checkpoint_minutes <= 0:
            raise ValueError(
                f"TrainConfig.checkpoint_minutes must be > 0: {self.checkpoint_minutes}")
        if self.lr <= 0 or self.tau <= 0:
            raise ValueError("TrainConfig.lr and TrainConfig.tau must be positive")
        if self.ssim_window not in ("gaussian", "uniform"):
            raise ValueError(f"ssim_window must be 'gaussian' or 'uniform': {self.ssim_window!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}: {self.precision!r}")

    def to_json(self) -> dict[str, Any]:
        """The config with paths as strings (JSON- and weights_only-safe)."""
        d = asdict(self)
        d["data"] = [str(p) for p in self.data]
        d["out"] = str(self.out)
        return d

    @property
    def loss_weights(self) -> LossWeights:
        return LossWeights(self.lambda1, self.lambda2, self.tau, self.ssim_window)


def _trim_log(path: Path, last_step: int) -> None:
    """Keep only complete log lines with ``step <= last_step``."""
    if not path.exists():
        return
    kept = []
    for line in path.read_text().splitlines():
        try:
            if json.loads(line)["step"] <= last_step:
                kept.append(line)
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a line cut short by an interruption
    atomic_write_text(path, "".join(k + "\n" for k in kept))


def _float_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().clone()
        for k, v in model.state_dict().items()
    }


def check_output_folder(out: Path) -> None:
    """Create ``out`` and make sure a file can be written there: an :class:`OutputError`
    (exit 6) when the disk refuses (read-only, permission, full), else a clear UsageError."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out, prefix=".write-test.")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if is_output_os_error(exc):
            raise OutputError.from_os_error(exc, out) from exc
        raise UsageError(f"--out {out}: cannot write there ({exc.strerror or exc}); choose a "
                         "writable folder") from exc


class StopSignal:
    """Turns the first SIGINT/SIGTERM into a request to stop after the current step (the second
    one acts as usual). Signals can only be caught in the main thread; elsewhere this is inert.
    """

    def __init__(self) -> None:
        self.received: str | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signal.Signals(signum).name
        for sig, handler in self._previous.items():  # a second signal is not swallowed
            signal.signal(sig, handler)

    @contextmanager
    def installed(self) -> Iterator[StopSignal]:
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)


def start_from_checkpoint(out: Path, checkpoint: Path, log: Path | None = None, *,
                          sha256: str | None = None, where: str = "") -> None:
    """Put a run's checkpoint (and its per-step log) into ``out``, so that a ``resume=True`` run
    there continues it; both may be xz-compressed (how a run is shipped). With ``sha256`` the
    checkpoint file must hash to it (as stated in ``where``). An ``out`` that already holds a
    checkpoint is a UsageError (nothing is overwritten); a file that is not a checkpoint is a
    WeightsError naming it.
    """
    out = Path(out)
    check_output_folder(out)
    target = out / CHECKPOINT_NAME
    if target.exists():
        raise UsageError(f"{target} exists: continue it with --resume --out {out}, or choose "
                         "another --out (nothing was overwritten)")
    if sha256 is not None:
        if not Path(checkpoint).is_file():
            raise WeightsError(f"{checkpoint}: checkpoint file not found")
        check_sha256(checkpoint, sha256, where)
    expand_file(checkpoint, target)
    try:
        read_checkpoint(target)
    except WeightsError as exc:
        target.unlink()
        raise WeightsError(f"{checkpoint}: {exc}") from exc
    if log is not None:
        expand_file(log, out / LOG_NAME)
    else:
        (out / LOG_NAME).unlink(missing_ok=True)


@dataclass
class TrainResult:
    """What :func:`train` did: the weights path, steps done, and why it stopped."""

    weights: Path
    step: int
    total_steps: int
    stopped_by: str  # "schedule", "max_steps", "time_budget" or a signal name ("SIGINT")


def _resume_state(config: TrainConfig, ckpt_path: Path, steps_per_epoch: int,
                  pairs: list[str]) -> dict[str, Any]:
    """The checkpoint to resume, after checking it fits this command (UsageError otherwise)."""
    if not ckpt_path.is_file():
        raise UsageError(f"--resume: no checkpoint at {ckpt_path}; run without --resume to "
                         "start a new run there")
    state = read_checkpoint(ckpt_path)
    problems = config_differences(state["config"], config.to_json())
    if int(state["steps_per_epoch"]) != steps_per_epoch:
        problems.append(f"steps per epoch: checkpoint {state['steps_per_epoch']}, this command "
                        f"{steps_per_epoch} (different data or batch size)")
    if state.get("pairs") and list(state["pairs"]) != pairs:
        problems.append(f"training pairs: checkpoint {len(state['pairs'])} "
                        f"({', '.join(state['pairs'][:3])}...), this command {len(pairs)} "
                        f"({', '.join(pairs[:3])}...)")
    if problems:
        raise UsageError(f"cannot resume {ckpt_path}: the command differs from the checkpoint in "
                         + "; ".join(problems) + ". Use the checkpoint's settings, or a new --out")
    return state


def resume_check(config: TrainConfig) -> dict[str, int]:
    """Check, without training, that ``config`` can resume the checkpoint in its ``out`` (the
    same UsageError as :func:`train` otherwise, naming each difference); returns the
    checkpoint's ``step`` and the schedule's ``schedule_steps``."""
    patches, pair_names = load_patches(config.data, config.patch_size, config.patch_stride)
    steps_per_epoch = math.ceil(patches.shape[0] / config.batch_size)
    state = _resume_state(config, Path(config.out) / CHECKPOINT_NAME, steps_per_epoch, pair_names)
    return {"step": int(state["step"]), "schedule_steps": steps_per_epoch * config.epochs}


@dataclass(frozen=True)
class InitFromWeights:
    """Start a run from generator weights alone, counting ``step`` steps as already done.

    The checkpoint this makes is labelled (``origin``, ``note``): fresh projection head, fresh
    Adam moments, a new data order. It is *not* a resume of the run that made the weights.
    """

    weights: Path
    step: int
    note: str


def train(config: TrainConfig, *, init: InitFromWeights | None = None,
          on_step: Callable[[int], None] | None = None) -> TrainResult:
    """Train CLF-Net as configured; see the module docstring for what is written.

    ``init`` starts from generator weights (see :class:`InitFromWeights`); ``on_step(step)`` is
    called after every step (tests use it to send signals).
    """
    out = Path(config.out)
    ckpt_path, log_path = out / CHECKPOINT_NAME, out / LOG_NAME
    if init is not None and config.resume:
        raise UsageError("--init-from starts a new run; it cannot be combined with --resume")
    check_output_folder(out)
    if not config.resume and ckpt_path.exists():
        raise UsageError(f"{ckpt_path} exists: pass --resume to continue that run, or choose "
                         "another --out (nothing was overwritten)")
    with torch_threads(config.num_threads):
        return _train(config, out, ckpt_path, log_path, init, on_step)


def _train(config: TrainConfig, out: Path, ckpt_path: Path, log_path: Path,
           init: InitFromWeights | None, on_step: Callable[[int], None] | None) -> TrainResult:
    try:
        device = pick_device(config.device)
    except ValueError as exc:
        raise UsageError(f"--device: {exc}") from exc
    runtime = configure(device, config.precision, deterministic=config.deterministic)

    patches, pair_names = load_patches(config.data, config.patch_size, config.patch_stride)
    patches = patches.to(device)  # uint8, once
    n = patches.shape[0]
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)
    state = _resume_state(config, ckpt_path, steps_per_epoch, pair_names) if config.resume else None
    if init is not None:
        state = checkpoint_from_weights(init.weights, init.step, steps_per_epoch,
                                        config.to_json(), pair_names, init.note)

    torch.manual_seed(config.seed)
    net, head = CLFNet().to(device), ProjectionHead().to(device)
    if device.type == "cuda":
        net = net.to(memory_format=torch.channels_last)
    opt_net, opt_head = make_adam(net.parameters(), config.lr, device), make_adam(
        head.parameters(), config.lr, device)
    data_gen = torch.Generator().manual_seed(config.seed + 1)
    sample_gen = torch.Generator(device=device).manual_seed(config.seed + 2)
    step, wall_before, notes = 0, 0.0, []
    epoch_gen_state = data_gen.get_state()

    if state is not None:
        net.load_state_dict(state["net"])
        if state["head"]:
            head.load_state_dict(state["head"])
        if state["opt_net"]:
            opt_net.load_state_dict(state["opt_net"])
            opt_head.load_state_dict(state["opt_head"])
        step, wall_before = int(state["step"]), float(state["wall_seconds"])
        rng = state.get("rng") or {}
        if rng.get("epoch_data") is not None:
            epoch_gen_state = rng["epoch_data"]
        if rng.get("sample") is not None and rng.get("sample_device", "cpu") == device.type:
            sample_gen.set_state(rng["sample"])
        else:
            sample_gen.manual_seed(config.seed + 2 + step)
            notes.append(f"PatchNCE sampling reseeded at step {step} (checkpoint from "
                         f"{rng.get('sample_device', 'no saved state')}, now {device.type})")
        if rng.get("torch") is not None:
            torch.set_rng_state(rng["torch"])
        if device.type == "cuda" and rng.get("cuda"):
            torch.cuda.set_rng_state_all(rng["cuda"])
        if state.get("origin"):
            notes.append(f"checkpoint {state['origin']}: {state.get('note', '')}")
    if config.resume:
        _trim_log(log_path, step)
    else:
        log_path.unlink(missing_ok=True)

    compute = forward_losses
    if config.compile:
        compute = torch.compile(forward_losses, mode=config.compile_mode,
                                backend=config.compile_backend, dynamic=False)

    t0 = time.monotonic()
    last_ckpt = t0

    def save_checkpoint() -> None:
        nonlocal last_ckpt
        rng = {
            "epoch_data": epoch_gen_state,
            "sample": sample_gen.get_state(),
            "sample_device": device.type,
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else [],
        }
        atomic_torch_save(
            {
                "net": net.state_dict(), "head": head.state_dict(),
                "opt_net": opt_net.state_dict(), "opt_head": opt_head.state_dict(),
                "step": step, "epoch": step // steps_per_epoch,
                "steps_per_epoch": steps_per_epoch,
                "wall_seconds": wall_before + (time.monotonic() - t0),
                "rng": rng, "config": config.to_json(), "pairs": pair_names,
                **({k: state[k] for k in ("origin", "origin_weights_sha256", "note")
                    if k in state} if state else {}),
            },
            ckpt_path,
        )
        last_ckpt = time.monotonic()

    net.train()
    head.train()
    losses = torch.zeros(config.log_every, 3, device=device)  # read back every log_every steps
    pending: list[tuple[int, int]] = []  # (step, epoch) of the rows of `losses` not yet logged
    recent: list[dict[str, float]] = []
    bar = tqdm(total=total_steps, initial=step, disable=not config.progress,
               mininterval=0.5 if sys.stderr.isatty() else 30.0, desc="clfnet")

    def flush(log: Any) -> None:
        nonlocal recent
        if not pending:
            return
        values = losses[: len(pending)].tolist()  # the one device->host read per log_every steps
        seconds = round(wall_before + time.monotonic() - t0, 3)
        for (s, e), (loss, nce, ssim) in zip(pending, values, strict=True):
            if not all(math.isfinite(v) for v in (loss, nce, ssim)):
                log.flush()
                raise TrainingDiverged(
                    f"training diverged at step {s}: loss {loss}, PatchNCE {nce}, SSIM {ssim}; "
                    f"the checkpoint in {ckpt_path} is from before (step <= {s - 1})")
            rec = {"step": s, "epoch": e, "loss": loss, "nce": nce, "ssim": ssim,
                   "seconds": seconds}
            log.write(json.dumps(rec) + "\n")
            recent = (recent + [rec])[-100:]
        log.flush()
        bar.update(len(pending))
        bar.set_postfix(loss=f"{recent[-1]['loss']:.4f}", refresh=False)
        pending.clear()

    stopper = StopSignal()
    stopped_by = "max_steps" if total_steps < steps_per_epoch * config.epochs else "schedule"
    every_seconds = config.checkpoint_minutes * 60.0
    with open(log_path, "a") as log, stopper.installed():
        while step < total_steps and stopped_by in ("schedule", "max_steps"):
            epoch, offset = divmod(step, steps_per_epoch)
            data_gen.set_state(epoch_gen_state)
            perm = torch.randperm(n, generator=data_gen).to(device)  # once per epoch
            for b in range(offset, steps_per_epoch):
                if step >= total_steps:
                    break
                if stopper.received:
                    stopped_by = stopper.received
                    break
                if config.time_budget is not None and time.monotonic() - t0 > config.time_budget:
                    stopped_by = "time_budget"
                    break
                batch = patches[perm[b * config.batch_size : (b + 1) * config.batch_size]]
                idx = sample_locations(config.patch_size, config.patch_size, config.num_samples,
                                       sample_gen)
                loss, nce, ssim = compute(net, head, batch, idx, config.loss_weights,
                                          runtime.autocast)
                opt_net.zero_grad(set_to_none=True)
                opt_head.zero_grad(set_to_none=True)
                loss.backward()
                opt_net.step()
                opt_head.step()
                losses[len(pending)] = torch.stack([loss.detach(), nce.detach(), ssim.detach()])
                step += 1
                pending.append((step, epoch))
                end_of_epoch = step % steps_per_epoch == 0
                due = (end_of_epoch or time.monotonic() - last_ckpt >= every_seconds
                       or (config.checkpoint_every is not None
                           and step % config.checkpoint_every == 0))
                if len(pending) == config.log_every or due:
                    flush(log)
                if end_of_epoch:
                    epoch_gen_state = data_gen.get_state()
                if due:
                    save_checkpoint()
                if on_step is not None:
                    on_step(step)
        flush(log)
        save_checkpoint()
    bar.close()

    weights_path = out / WEIGHTS_NAME
    atomic_torch_save(_float_state(net), weights_path)
    summary = {
        "pairs": pair_names,
        "patches": n,
        "steps": step,
        "steps_per_epoch": steps_per_epoch,
        "epochs_done": round(step / steps_per_epoch, 3),
        "stopped_by": stopped_by,
        "wall_seconds": round(wall_before + time.monotonic() - t0, 1),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(),
        "precision": runtime.precision,
        "deterministic": runtime.deterministic,
        "compiled": config.compile,
        "notes": notes,
        "last_losses_mean": {
            k: sum(r[k] for r in recent) / len(recent) for k in ("loss", "nce", "ssim")
        } if recent else None,
        "config": config.to_json(),
    }
    atomic_write_text(out / SUMMARY_NAME, json.dumps(summary, indent=2) + "\n")
    return TrainResult(weights_path, step, total_steps, stopped_by)
