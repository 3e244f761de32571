"""Training loop for CLF-Net: SSIM + PatchNCE, two Adam optimisers, resumable checkpoints.

Outputs in ``config.out``:

* ``checkpoint.pt``: network, head, both optimisers, epoch/step counters and RNG states, written
  atomically every epoch, every ``checkpoint_every`` steps and when the run stops; it holds only
  tensors, dicts, lists, strings and numbers, so ``torch.load(..., weights_only=True)`` reads it.
* ``log.jsonl``: one JSON object per step (``step, epoch, loss, nce, ssim, seconds``); on resume
  lines past the checkpoint's step are dropped, so the log always matches the weights.
* ``clfnet.pt``: the generator's float32 state dict (what :class:`ClfnetFuser` loads).
* ``summary.json``: pairs used, steps and epochs done, wall time, device, last losses.

Example (a tiny run; see ``tests/test_clfnet_train.py``)::

    train(TrainConfig(data=["pairs/"], out="runs/x", max_steps=10, device="cpu"))
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from .data import load_patches, to_unit_range
from .losses import ProjectionHead, patch_nce_loss, ssim_loss
from .model import CLFNet

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "log.jsonl"
WEIGHTS_NAME = "clfnet.pt"
SUMMARY_NAME = "summary.json"


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
    resume: bool = False
    max_steps: int | None = None
    time_budget: float | None = None  # seconds of training in this invocation
    checkpoint_every: int = 200  # steps, besides the end of every epoch
    num_threads: int | None = None
    amp: bool = True  # CUDA only
    progress: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.data, str | Path):
            self.data = [self.data]
        if not self.data:
            raise ValueError("TrainConfig.data needs at least one folder with ir/ and vi/")
        for name in (
            "epochs", "batch_size", "num_samples", "checkpoint_every", "patch_size", "patch_stride"
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.lr <= 0 or self.tau <= 0:
            raise ValueError("TrainConfig.lr and TrainConfig.tau must be positive")
        if self.ssim_window not in ("gaussian", "uniform"):
            raise ValueError(f"ssim_window must be 'gaussian' or 'uniform': {self.ssim_window!r}")

    def to_json(self) -> dict[str, Any]:
        """The config with paths as strings (JSON- and weights_only-safe)."""
        d = asdict(self)
        d["data"] = [str(p) for p in self.data]
        d["out"] = str(self.out)
        return d


def pick_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; otherwise ``torch.device(name)``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but CUDA is not available")
    return dev


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _atomic_write_text(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


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
    _atomic_write_text(path, "".join(k + "\n" for k in kept))


def _float_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {
        k: (v.detach().float() if v.is_floating_point() else v.detach()).cpu().clone()
        for k, v in model.state_dict().items()
    }


def _amp_dtype(device: torch.device, enabled: bool) -> torch.dtype | None:
    if device.type != "cuda" or not enabled:
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def train(config: TrainConfig) -> Path:
    """Train CLF-Net as configured and return the path of the exported generator weights."""
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path, log_path = out / CHECKPOINT_NAME, out / LOG_NAME
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = pick_device(config.device)
    amp_dtype = _amp_dtype(device, config.amp)
    on_cuda = device.type == "cuda"
    if on_cuda:
        torch.backends.cudnn.benchmark = True

    patches, pair_names = load_patches(config.data, config.patch_size, config.patch_stride)
    patches = patches.to(device)
    n = patches.shape[0]
    steps_per_epoch = math.ceil(n / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)

    torch.manual_seed(config.seed)
    net, head = CLFNet().to(device), ProjectionHead().to(device)
    if on_cuda:
        net = net.to(memory_format=torch.channels_last)
    opt_net = torch.optim.Adam(net.parameters(), lr=config.lr)
    opt_head = torch.optim.Adam(head.parameters(), lr=config.lr)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)
    data_gen = torch.Generator().manual_seed(config.seed + 1)
    sample_gen = torch.Generator().manual_seed(config.seed + 2)
    step, wall_before = 0, 0.0
    epoch_gen_state = data_gen.get_state()

    if config.resume and ckpt_path.exists():
        # on CPU: RNG states must stay CPU tensors; load_state_dict moves the rest to `device`
        state = torch.load(ckpt_path, weights_only=True, map_location="cpu")
        if int(state["steps_per_epoch"]) != steps_per_epoch:
            raise ValueError(
                f"cannot resume {ckpt_path}: it has {state['steps_per_epoch']} steps per epoch, "
                f"this configuration {steps_per_epoch} (different data or batch size?)"
            )
        net.load_state_dict(state["net"])
        head.load_state_dict(state["head"])
        opt_net.load_state_dict(state["opt_net"])
        opt_head.load_state_dict(state["opt_head"])
        if state.get("scaler"):
            scaler.load_state_dict(state["scaler"])
        step, wall_before = int(state["step"]), float(state["wall_seconds"])
        epoch_gen_state = state["rng"]["epoch_data"]
        sample_gen.set_state(state["rng"]["sample"])
        torch.set_rng_state(state["rng"]["torch"])
        if on_cuda and state["rng"].get("cuda"):
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        _trim_log(log_path, step)
    else:
        log_path.unlink(missing_ok=True)

    def save_checkpoint() -> None:
        rng = {
            "epoch_data": epoch_gen_state,
            "sample": sample_gen.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if on_cuda else [],
        }
        atomic_torch_save(
            {
                "net": net.state_dict(),
                "head": head.state_dict(),
                "opt_net": opt_net.state_dict(),
                "opt_head": opt_head.state_dict(),
                "scaler": scaler.state_dict() if scaler.is_enabled() else {},
                "step": step,
                "epoch": step // steps_per_epoch,
                "steps_per_epoch": steps_per_epoch,
                "wall_seconds": wall_before + (time.monotonic() - t0),
                "rng": rng,
                "config": config.to_json(),
                "pairs": pair_names,
            },
            ckpt_path,
        )

    net.train()
    head.train()
    t0 = time.monotonic()
    recent: list[dict[str, float]] = []
    bar = tqdm(
        total=total_steps,
        initial=step,
        disable=not config.progress,
        mininterval=0.5 if sys.stderr.isatty() else 30.0,
        desc="clfnet",
    )
    stopped_early = False
    with open(log_path, "a") as log:
        while step < total_steps:
            epoch, offset = divmod(step, steps_per_epoch)
            data_gen.set_state(epoch_gen_state)
            perm = torch.randperm(n, generator=data_gen)
            for b in range(offset, steps_per_epoch):
                if step >= total_steps:
                    break
                if config.time_budget is not None and time.monotonic() - t0 > config.time_budget:
                    stopped_early = True
                    break
                idx = perm[b * config.batch_size : (b + 1) * config.batch_size].to(device)
                batch = to_unit_range(patches[idx])
                ir, vi = batch[:, :1], batch[:, 1:]
                if on_cuda:
                    ir = ir.contiguous(memory_format=torch.channels_last)
                    vi = vi.contiguous(memory_format=torch.channels_last)
                with torch.autocast(
                    device.type, dtype=amp_dtype or torch.bfloat16, enabled=amp_dtype is not None
                ):
                    f_vi_src, f_ir_src = net.encode_vis(vi), net.encode_ir(ir)
                    fused = net.decode(f_vi_src, f_ir_src)
                    f_ir_fused, f_vi_fused = net.encode_ir(fused), net.encode_vis(fused)
                # losses in float32, outside autocast (SSIM variances need the precision)
                nce = patch_nce_loss(
                    f_ir_fused, f_ir_src, f_vi_fused, f_vi_src, head,
                    num_samples=config.num_samples, tau=config.tau, generator=sample_gen,
                )
                ssim = ssim_loss(fused.float(), ir, vi, window=config.ssim_window)  # type: ignore[arg-type]
                loss = config.lambda1 * nce + config.lambda2 * ssim
                opt_net.zero_grad(set_to_none=True)
                opt_head.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.step(opt_net)
                scaler.step(opt_head)
                scaler.update()
                step += 1
                rec = {
                    "step": step,
                    "epoch": epoch,
                    "loss": float(loss.detach()),
                    "nce": float(nce.detach()),
                    "ssim": float(ssim.detach()),
                    "seconds": round(wall_before + time.monotonic() - t0, 3),
                }
                log.write(json.dumps(rec) + "\n")
                log.flush()
                recent = (recent + [rec])[-50:]
                bar.update(1)
                bar.set_postfix(loss=f"{rec['loss']:.4f}", nce=f"{rec['nce']:.4f}",
                                ssim=f"{rec['ssim']:.4f}", epoch=epoch, refresh=False)
                if step % steps_per_epoch == 0:
                    epoch_gen_state = data_gen.get_state()
                    save_checkpoint()
                elif step % config.checkpoint_every == 0:
                    save_checkpoint()
            if stopped_early:
                break
    bar.close()
    save_checkpoint()

    weights_path = out / WEIGHTS_NAME
    atomic_torch_save(_float_state(net), weights_path)
    summary = {
        "pairs": pair_names,
        "patches": n,
        "steps": step,
        "steps_per_epoch": steps_per_epoch,
        "epochs_done": round(step / steps_per_epoch, 3),
        "stopped_by_time_budget": stopped_early,
        "wall_seconds": round(wall_before + time.monotonic() - t0, 1),
        "device": str(device),
        "threads": torch.get_num_threads(),
        "amp": str(amp_dtype) if amp_dtype else None,
        "last_losses_mean": {
            k: sum(r[k] for r in recent) / len(recent) for k in ("loss", "nce", "ssim")
        }
        if recent
        else None,
        "config": config.to_json(),
    }
    _atomic_write_text(out / SUMMARY_NAME, json.dumps(summary, indent=2) + "\n")
    return weights_path
