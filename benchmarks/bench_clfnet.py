"""Inference benchmark for CLF-Net on one 768x576 pair (the largest common TNO size).

Each variant (see ``VARIANTS``) runs in a fresh child process so that its peak
memory is its own. Per variant: ``--warmup`` untimed runs, then ``--repeat`` timed runs of
inference as ``ClfnetFuser`` does it (numpy in, numpy out, channels-last); the median and
min are reported.
Peak memory is the growth of the child's peak RSS on CPU, ``torch.cuda.max_memory_allocated``
on CUDA (timed with ``torch.cuda.synchronize``). Random-init weights are used: the cost does not
depend on the weights or the image content.

Usage::

    .venv/bin/python benchmarks/bench_clfnet.py [--device cpu|cuda] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

HEIGHT, WIDTH = 576, 768
#: folded = what ClfnetFuser does (BatchNorm folded; 96-row strips on CPU); unfolded = the same
#: without folding; folded-whole = folded, whole image at once (no strips).
VARIANTS = ("folded", "unfolded", "folded-whole")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def run_one(variant: str, device: str, threads: int | None, warmup: int, repeat: int) -> dict:
    """Time one variant in this process and return a result dict."""
    import numpy as np
    import torch

    from fusionbench.methods.clfnet.fuser import (
        CPU_TILE_ROWS,
        prepare_for_inference,
        run_in_strips,
    )
    from fusionbench.methods.clfnet.model import CLFNet

    if threads:
        torch.set_num_threads(threads)
    dev = torch.device(device)
    torch.manual_seed(0)
    net = prepare_for_inference(CLFNet(), dev, fold=variant != "unfolded")
    tile_rows = CPU_TILE_ROWS if dev.type == "cpu" and variant != "folded-whole" else None
    rng = np.random.default_rng(0)
    ir, vi = rng.random((HEIGHT, WIDTH)), rng.random((HEIGHT, WIDTH))
    rss0 = _peak_rss_mb()

    def once() -> np.ndarray:
        t_ir = torch.from_numpy(ir.astype(np.float32) * 2 - 1)[None, None].to(dev)
        t_vi = torch.from_numpy(vi.astype(np.float32) * 2 - 1)[None, None].to(dev)
        t_ir, t_vi = (t.contiguous(memory_format=torch.channels_last) for t in (t_ir, t_vi))
        with torch.inference_mode():
            out = run_in_strips(net, t_ir, t_vi, tile_rows)
        return (out[0, 0].double().cpu().numpy() + 1) / 2  # .cpu() synchronises on CUDA

    for _ in range(warmup):
        once()
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        once()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if dev.type == "cuda"
        else _peak_rss_mb() - rss0 + 0.0
    )
    return {
        "variant": variant,
        "device": device,
        "threads": torch.get_num_threads(),
        "size": f"{WIDTH}x{HEIGHT}",
        "median_s": round(statistics.median(times), 4),
        "min_s": round(min(times), 4),
        "repeat": repeat,
        "peak_mem_mb": round(peak, 1),
        "peak_mem_kind": "cuda max_memory_allocated" if dev.type == "cuda" else "RSS growth",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.device, args.threads, args.warmup, args.repeat)))
        return
    for variant in VARIANTS:
        cmd = [sys.executable, __file__, "--one", variant, "--device", args.device,
               "--threads", str(args.threads), "--warmup", str(args.warmup),
               "--repeat", str(args.repeat)]
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        print(
            f"{res['variant']:>12}  {res['device']} x{res['threads']} threads  {res['size']}  "
            f"median {res['median_s']:.3f} s  min {res['min_s']:.3f} s  "
            f"peak {res['peak_mem_mb']:.0f} MiB ({res['peak_mem_kind']})"
        )


if __name__ == "__main__":
    main()
