#!/usr/bin/env python
"""One-shot CLF-Net training on a GPU, safe to run blind in a ten-minute slot.

    .venv/bin/python scripts/clfnet_gpu_oneshot.py --out gpu_run            # on the GPU machine
    .venv/bin/python scripts/clfnet_gpu_oneshot.py --out /tmp/dry --dry-run  # CPU, a few steps

Phases, each recorded in ``OUT/report.json`` as soon as it ends (a later failure loses nothing):

1. ``env``: torch/CUDA versions, device name and memory, bf16 support, the training data found.
   ``start``: with ``--start shipped`` the shipped weights' run (the card's sha256-checked
   checkpoint and its log) is put into an ``OUT`` that has no checkpoint yet, and the checkpoint
   in ``OUT`` is checked to fit this command's settings before any work; the schedule then
   continues from the shipped step. ``--start scratch`` trains from step 0. ``--start auto``
   (the default) leaves the choice to ``choice``, after the probe.
2. ``parity``: one training step (same weights, batch and PatchNCE locations) on the CPU in
   float32 and on the device, in fp32 and in the chosen precision: losses, gradient norms and the
   updated weights compared; fp32 must agree within :data:`PARITY_FP32`.
3. ``probe``: ``--probe-steps`` real steps in a scratch folder: steps/s after warm-up, peak
   memory, and the projected time of the full schedule and of the steps still to do.
   ``choice`` (``--start auto`` only, when ``OUT`` has no checkpoint): from step 0 if the probe
   projects the whole schedule within the training time left (with a 15 % margin), one
   uninterrupted run of the recipe; else the shipped run, continued as with ``--start shipped``.
4. ``train``: the full schedule (20 epochs) into ``OUT`` under the time left (``--minutes`` minus
   a reserve for phases 5-6); it always ends with a checkpoint. Running the script again with the
   same ``--out`` resumes that checkpoint.
5. ``portability``: checkpoint and weights loaded on the CPU with ``weights_only=True``; one pair
   fused on the CPU and on the device must agree within :data:`PORTABLE_TOL` (on [0, 1]).
6. ``inference``: device time of one 768x576 pair (warm-up, ``synchronize``, median).

Files in ``OUT`` (7, at most 8): ``clfnet.pt`` (weights), ``checkpoint.pt``, ``log.jsonl`` (what
``--resume`` continues; with ``--start shipped`` it begins at the shipped log's first step) and
``log.jsonl.gz`` (the same, compressed, to bring back),
``summary.json`` (the trainer's), ``report.json`` (this script's), ``fused_sample.png``.
Exit status 0 when every check passed, 1 otherwise (the report says which and why).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fusionbench.colour import rgb2gray_matlab
from fusionbench.errors import FusionbenchError
from fusionbench.imageio import read_image, write_image
from fusionbench.methods.clfnet.cli import put_checkpoint, resolve_training_data
from fusionbench.methods.clfnet.data import list_pairs, load_patches
from fusionbench.methods.clfnet.fuser import ClfnetFuser
from fusionbench.methods.clfnet.losses import ProjectionHead, sample_locations
from fusionbench.methods.clfnet.model import CLFNet
from fusionbench.methods.clfnet.runtime import configure, make_adam, pick_device
from fusionbench.methods.clfnet.step import LossWeights, forward_losses
from fusionbench.methods.clfnet.train import CHECKPOINT_NAME, TrainConfig, resume_check, train

#: fp32 device vs CPU, relative difference of the first step's loss terms and gradient norms.
PARITY_FP32 = 1e-3
#: Max abs difference of one fused pair, CPU vs device, images on [0, 1] (~0.5 grey level).
PORTABLE_TOL = 2e-3
FILES = ("clfnet.pt", "checkpoint.pt", "log.jsonl", "log.jsonl.gz", "summary.json",
         "report.json", "fused_sample.png")


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-12)


class Report:
    """``report.json``, rewritten after each phase."""

    def __init__(self, out: Path, args: argparse.Namespace) -> None:
        self.path = out / "report.json"
        self.data: dict[str, Any] = {"args": vars(args), "phases": {}, "started": time.time()}

    def phase(self, name: str, result: dict[str, Any]) -> None:
        self.data["phases"][name] = result
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, default=str) + "\n")
        tmp.replace(self.path)


def phase_env(device: torch.device, data: Path, out: Path) -> dict[str, Any]:
    info: dict[str, Any] = {
        "python": platform.python_version(), "torch": torch.__version__,
        "cuda_available": torch.cuda.is_available(), "device": str(device),
        "cpu_count": os.cpu_count(), "data": str(data),
        "pairs": len(list_pairs(data)),
        "disk_free_gib": round(shutil.disk_usage(out).free / 2**30, 1),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info.update(name=props.name, capability=f"{props.major}.{props.minor}",
                    memory_gib=round(props.total_memory / 2**30, 1),
                    bf16=torch.cuda.is_bf16_supported(), cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version())
    info["ok"] = info["pairs"] > 0
    return info


def _one_step(device: torch.device, precision: str, batch: torch.Tensor, idx: torch.Tensor,
              weights: LossWeights, seed: int) -> dict[str, Any]:
    runtime = configure(device, precision, deterministic=False)
    torch.manual_seed(seed)
    net, head = CLFNet().to(device), ProjectionHead().to(device)
    opt = make_adam(list(net.parameters()) + list(head.parameters()), 1e-3, device)
    loss, nce, ssim = forward_losses(net, head, batch.to(device), idx.to(device), weights,
                                     runtime.autocast)
    loss.backward()
    grad = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in net.parameters()))
    opt.step()
    return {"loss": float(loss.detach()), "nce": float(nce.detach()), "ssim": float(ssim.detach()),
            "grad_norm": float(grad),
            "net": {k: v.detach().double().cpu() for k, v in net.state_dict().items()}}


def phase_parity(device: torch.device, config: TrainConfig) -> dict[str, Any]:
    patches, _ = load_patches(config.data, config.patch_size, config.patch_stride)
    batch = patches[: config.batch_size]
    idx = sample_locations(config.patch_size, config.patch_size, config.num_samples,
                           torch.Generator().manual_seed(config.seed))
    weights = config.loss_weights
    ref = _one_step(torch.device("cpu"), "fp32", batch, idx, weights, config.seed)
    result: dict[str, Any] = {"cpu_fp32": {k: ref[k] for k in ("loss", "nce", "ssim", "grad_norm")}}
    ok = True
    for precision in dict.fromkeys(("fp32", config.precision)):
        got = _one_step(device, precision, batch, idx, weights, config.seed)
        rel = {k: _rel(got[k], ref[k]) for k in ("loss", "nce", "ssim", "grad_norm")}
        step_diff = max(float((got["net"][k] - ref["net"][k]).abs().max()) for k in ref["net"])
        entry = {"values": {k: got[k] for k in rel}, "rel_diff": rel,
                 "updated_weights_max_abs_diff": step_diff}
        if precision == "fp32":
            entry["ok"] = max(rel.values()) <= PARITY_FP32
            ok = ok and entry["ok"]
        result[f"device_{precision}"] = entry
    configure(device, config.precision, deterministic=config.deterministic)
    result.update(ok=ok, tolerance_fp32=PARITY_FP32)
    return result


def phase_start(config: TrainConfig, start: str) -> dict[str, Any]:
    """Put the shipped run into ``config.out`` when asked and it has no checkpoint yet; check
    that the checkpoint there (if any) can be resumed with ``config``."""
    out = Path(config.out)
    placed = start == "shipped" and not (out / CHECKPOINT_NAME).is_file()
    if placed:
        put_checkpoint("shipped", out)
    if not (out / CHECKPOINT_NAME).is_file():
        return {"start": start, "from_step": 0, "ok": True}
    fits = resume_check(config)
    return {"start": start, "shipped_checkpoint_placed": placed, "from_step": fits["step"],
            "schedule_steps": fits["schedule_steps"], "ok": True}


#: ``--start auto`` trains from scratch only if the probe's projection times this fits.
SCRATCH_MARGIN = 1.15


def phase_choice(config: TrainConfig, probe: dict[str, Any], seconds_left: float) -> dict[str, Any]:
    """``--start auto``: step 0 when the probe projects the whole schedule within
    ``seconds_left`` (with :data:`SCRATCH_MARGIN`), else the shipped run (:func:`phase_start`)."""
    if not probe.get("ok") or "step_seconds" not in probe:
        raise FusionbenchError("--start auto needs a probe that passed; it did not")
    need = probe["schedule_steps"] * probe["step_seconds"] * SCRATCH_MARGIN
    chosen = "scratch" if need <= seconds_left else "shipped"
    result = phase_start(config, chosen)
    result.update(
        reason=f"whole schedule projected at {need / 60:.2f} min (x{SCRATCH_MARGIN} margin), "
               f"{seconds_left / 60:.2f} min of training time left",
        projected_remaining_minutes=_remaining_minutes(
            probe["schedule_steps"], result["from_step"], probe["step_seconds"]))
    return result


def _remaining_minutes(schedule_steps: int, from_step: int, step_seconds: float) -> float:
    """Projected minutes of the steps from ``from_step`` to the schedule's end."""
    return round(max(0, schedule_steps - from_step) * step_seconds / 60, 2)


def phase_probe(config: TrainConfig, probe_steps: int, from_step: int = 0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        probe = TrainConfig(**{**config.to_json(), "out": scratch, "max_steps": probe_steps,
                               "resume": False, "time_budget": None, "log_every": 1,
                               "progress": False})
        if torch.cuda.is_available() and pick_device(config.device).type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start = time.monotonic()
        train(probe)
        wall = time.monotonic() - start
        log = [json.loads(line) for line in (Path(scratch) / "log.jsonl").read_text().splitlines()]
    warm = max(1, len(log) // 5)  # the first fifth includes cuDNN autotuning / compilation
    span = log[-1]["seconds"] - log[warm - 1]["seconds"]
    per_step = span / (len(log) - warm) if len(log) > warm and span > 0 else wall / len(log)
    patches = len(load_patches(config.data, config.patch_size, config.patch_stride)[0])
    full = math.ceil(patches / config.batch_size) * config.epochs
    out = {"steps": len(log), "wall_seconds": round(wall, 2), "step_seconds": per_step,
           "patches_per_second": config.batch_size / per_step, "schedule_steps": full,
           "projected_schedule_minutes": round(full * per_step / 60, 2),
           "from_step": from_step,
           "projected_remaining_minutes": _remaining_minutes(full, from_step, per_step),
           "last_loss": log[-1]["loss"], "ok": math.isfinite(log[-1]["loss"])}
    if torch.cuda.is_available() and pick_device(config.device).type == "cuda":
        out["peak_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


def phase_train(config: TrainConfig) -> dict[str, Any]:
    start = time.monotonic()
    result = train(config)
    summary = json.loads((Path(config.out) / "summary.json").read_text())
    return {"step": result.step, "total_steps": result.total_steps,
            "stopped_by": result.stopped_by, "wall_seconds": round(time.monotonic() - start, 1),
            "epochs_done": summary["epochs_done"], "last_losses_mean": summary["last_losses_mean"],
            "complete": result.step == result.total_steps,
            "ok": (Path(config.out) / "checkpoint.pt").is_file()}


def _sample_pair(data: Path, prefer_test: bool) -> tuple[str, np.ndarray, np.ndarray]:
    """The first TNO test pair when asked and present, else the first training pair."""
    pairs = []
    if prefer_test:
        try:
            pairs = list_pairs(resolve_training_data("tno"))
        except FusionbenchError:
            pairs = []
    stem, ir_path, vi_path = (pairs or list_pairs(data))[0]
    gray = [read_image(p) for p in (ir_path, vi_path)]
    gray = [rgb2gray_matlab(g) if g.ndim == 3 else g for g in gray]
    return stem, gray[0] / 255.0, gray[1] / 255.0


def phase_portability(out: Path, device: torch.device, data: Path,
                      prefer_test: bool = True) -> dict[str, Any]:
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True, map_location="cpu")
    weights = torch.load(out / "clfnet.pt", weights_only=True, map_location="cpu")
    same = all(torch.equal(ckpt["net"][k].float().cpu(), weights[k]) for k in weights
               if weights[k].is_floating_point())
    stem, ir, vi = _sample_pair(data, prefer_test)
    on_cpu = ClfnetFuser(weights=out / "clfnet.pt", device="cpu")(ir, vi)
    on_dev = ClfnetFuser(weights=out / "checkpoint.pt", device=str(device))(ir, vi)
    diff = float(np.abs(on_cpu - on_dev).max())
    write_image(out / "fused_sample.png", np.round(on_cpu * 255).astype(np.uint8))
    return {"pair": stem, "checkpoint_matches_weights": same, "max_abs_diff": diff,
            "tolerance": PORTABLE_TOL, "ok": same and diff <= PORTABLE_TOL}


def phase_inference(device: torch.device, warmup: int, repeat: int,
                    size: tuple[int, int] = (576, 768)) -> dict[str, Any]:
    torch.manual_seed(0)
    path = Path(tempfile.mkdtemp()) / "w.pt"
    torch.save(CLFNet().state_dict(), path)
    fuser = ClfnetFuser(weights=path, device=str(device))
    rng = np.random.default_rng(0)
    ir, vi = rng.random(size), rng.random(size)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        fuser(ir, vi)
    sync()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fuser(ir, vi)  # numpy in, numpy out: includes both copies, ends synchronised
        sync()
        times.append(time.perf_counter() - t)
    path.unlink()
    return {"size": f"{size[1]}x{size[0]}", "warmup": warmup, "repeat": repeat,
            "median_ms": round(1000 * statistics.median(times), 2),
            "min_ms": round(1000 * min(times), 2), "ok": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--data", default="tno-train", help="dataset name or ir/+vi/ folder")
    parser.add_argument("--minutes", type=float, default=9.0, help="wall budget of the script")
    parser.add_argument("--reserve-minutes", type=float, default=1.0,
                        help="kept back from training for portability and inference")
    parser.add_argument("--precision", choices=("fp32", "tf32", "bf16"), default="fp32")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--compile", choices=("default", "reduce-overhead"), default=None)
    parser.add_argument("--probe-steps", type=int, default=60)
    parser.add_argument("--start", choices=("auto", "shipped", "scratch"), default=None,
                        help="continue the shipped weights' run, train from step 0 (the default "
                             "with --dry-run), or (auto, the default) from step 0 when the probe "
                             "projects the whole schedule in the time left; ignored when OUT has "
                             "a checkpoint")
    parser.add_argument("--dry-run", action="store_true",
                        help="CPU and a few steps: checks the script itself (tiny patches "
                             "from scratch; with --start shipped or auto the real sizes)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    began = time.monotonic()
    report = Report(args.out, args)
    try:
        data = resolve_training_data(args.data)
    except FusionbenchError as exc:
        report.phase("env", {"ok": False, "error": str(exc)})
        print(f"error: --data {args.data}: {exc}", file=sys.stderr)
        return 2
    device = torch.device("cpu") if args.dry_run else pick_device("auto")
    start_mode = args.start or ("scratch" if args.dry_run else "auto")
    small: dict[str, Any] = {}
    if args.dry_run:
        small = dict(num_threads=1, max_steps=3)
        if start_mode == "scratch":
            small.update(patch_size=32, patch_stride=64, num_samples=16, batch_size=2)
    config = TrainConfig(
        data=[data], out=args.out, device=str(device), precision=args.precision, seed=args.seed,
        compile=args.compile is not None,
        compile_mode=None if args.compile in (None, "default") else args.compile,
        resume=True, log_every=50, progress=False, **small)
    began_at: dict[str, int] = {}
    probed: dict[str, Any] = {}

    def training_seconds_left() -> float:
        return (args.minutes - args.reserve_minutes) * 60 - (time.monotonic() - began)

    def run_start() -> dict[str, Any]:
        if start_mode == "auto" and not (args.out / CHECKPOINT_NAME).is_file():
            return {"start": "auto", "deferred_to": "choice", "ok": True}
        result = phase_start(config, start_mode)
        began_at["step"] = result["from_step"]
        return result

    def run_probe() -> dict[str, Any]:
        probed.update(phase_probe(config, 2 if args.dry_run else args.probe_steps,
                                  began_at.get("step", 0)))
        return probed

    def run_choice() -> dict[str, Any]:
        result = phase_choice(config, probed, training_seconds_left())
        began_at["step"] = result["from_step"]
        return result

    def train_config() -> TrainConfig:
        steps = config.max_steps
        if args.dry_run:  # a few steps on from wherever the run starts
            from_step = began_at.get("step", 0)
            steps = from_step + (2 if from_step else 3)
        return TrainConfig(**{**config.to_json(), "max_steps": steps,
                              "resume": (args.out / CHECKPOINT_NAME).is_file(),
                              "time_budget": max(0.0, training_seconds_left())})

    phases = [
        ("env", lambda: phase_env(device, data, args.out)),
        ("start", run_start),
        ("parity", lambda: phase_parity(device, config)),
        ("probe", run_probe),
        ("choice", run_choice),
        ("train", lambda: phase_train(train_config())),
        ("portability", lambda: phase_portability(args.out, device, data, not args.dry_run)),
        ("inference", lambda: phase_inference(device, 1, 2, (96, 128)) if args.dry_run
         else phase_inference(device, 10, 50)),
    ]
    all_ok = True
    for name, run in phases:
        if name == "choice" and "step" in began_at:
            continue  # the start was fixed before the probe (not auto, or OUT had a checkpoint)
        start = time.monotonic()
        try:
            result = run()
        except Exception as exc:  # record and go on: later phases may still work
            result = {"ok": False, "error": f"{type(exc).__name__}: {exc}",
                      "traceback": traceback.format_exc(limit=6)}
        result["phase_seconds"] = round(time.monotonic() - start, 2)
        report.phase(name, result)
        all_ok = all_ok and bool(result.get("ok"))
        print(f"{name}: {'ok' if result.get('ok') else 'FAILED'} "
              f"({result['phase_seconds']} s)", flush=True)
        if name in ("env", "start", "choice") and not result.get("ok"):
            break
    log = args.out / "log.jsonl"
    if log.is_file():
        with open(log, "rb") as src, gzip.open(args.out / "log.jsonl.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
    report.data["ok"] = all_ok
    report.data["files"] = sorted(p.name for p in args.out.iterdir())
    report.phase("done", {"ok": all_ok, "total_seconds": round(time.monotonic() - began, 1)})
    print(f"report: {report.path} ({'all checks passed' if all_ok else 'some checks FAILED'})")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
