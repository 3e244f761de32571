"""Training-speed benchmark for CLF-Net: step time, patches/s, projected 20-epoch time, memory.

Runs ``--steps`` real training steps (the trainer itself, on the real ``tno-train`` patches by
default) in a scratch folder, skips the first ``--warmup`` steps (cuDNN autotuning, compilation),
and reports the median step time from the log's read-back times. On CUDA the peak is
``torch.cuda.max_memory_allocated``; on CPU the growth of peak RSS.

    nice -n 10 .venv/bin/python benchmarks/bench_train.py --device cpu --threads 1 --steps 6
    .venv/bin/python benchmarks/bench_train.py --device cuda --precision tf32 --steps 300

Results (with the machine and ``uptime``) go in ``benchmarks/README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="tno-train")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", choices=("fp32", "tf32", "bf16"), default="fp32")
    parser.add_argument("--compile", choices=("default", "reduce-overhead"), default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args()

    import torch

    from fusionbench.methods.clfnet.cli import resolve_training_data
    from fusionbench.methods.clfnet.train import TrainConfig, train

    data = resolve_training_data(args.data)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    with tempfile.TemporaryDirectory() as scratch:
        config = TrainConfig(
            data=[data], out=scratch, device=args.device, precision=args.precision,
            compile=args.compile is not None,
            compile_mode=None if args.compile in (None, "default") else args.compile,
            max_steps=args.steps, log_every=1, num_threads=args.threads, progress=False)
        cuda = torch.cuda.is_available() and args.device in ("auto", "cuda")
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        start = time.monotonic()
        train(config)
        wall = time.monotonic() - start
        log = [json.loads(x) for x in (Path(scratch) / "log.jsonl").read_text().splitlines()]
        summary = json.loads((Path(scratch) / "summary.json").read_text())
    times = [b["seconds"] - a["seconds"] for a, b in zip(log, log[1:], strict=False)]
    timed = sorted(times[max(0, args.warmup - 1):]) or [wall / len(log)]
    step = timed[len(timed) // 2]
    schedule = summary["steps_per_epoch"] * config.epochs
    result = {
        "device": summary["device_name"], "threads": summary["threads"],
        "precision": args.precision, "compiled": bool(args.compile), "steps": len(log),
        "patches": summary["patches"], "median_step_s": round(step, 4),
        "patches_per_s": round(config.batch_size / step, 2),
        "projected_20_epochs_min": round(schedule * step / 60, 1),
        "wall_s_incl_setup": round(wall, 1),
        "peak_mem_mib": round(torch.cuda.max_memory_allocated() / 2**20, 1) if cuda else
        round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0 - rss0, 1),
        "uptime": Path("/proc/loadavg").read_text().split()[:3],
    }
    assert math.isfinite(log[-1]["loss"])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
