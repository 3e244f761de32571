"""The Dask executor against the local process pool: scheduling overhead and throughput.

1. **Overhead**: ``--tasks`` no-op tasks through each executor (the Dask cluster already
   started); wall time per task is what the executor adds to every pair.
2. **Throughput**: ``--triples`` synthetic 1280x1024 triples (LLVIP's size) written as PNG to a
   temporary folder; each task reads its three files and scores them under standard + tang2022
   (the runner's default profiles), as workers of a real run do. Both executors run the same
   set-up first (the metric kernels loaded in each worker); a local cluster's start-up is
   reported apart.
3. **Estimate** for a 20-worker cluster on LLVIP x 40 methods x 4 profiles, from the measured
   per-task cost of reading + scoring four profiles at once (``score_many``) plus the measured
   per-task overhead. Fusion time is not in it: it depends on the method (published outputs
   need none).

Prints ``uptime``'s load with every figure::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dask.py --tasks 2000 --triples 120
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from fusionbench.executors import ProcessPoolExecutorAdapter, SerialExecutor, WorkerSetup
from fusionbench.executors_dask import DaskExecutor
from fusionbench.imageio import read_image, write_image
from fusionbench.metrics import score_many
from fusionbench.metrics.warmup import compile_kernels

SHAPE = (1024, 1280)
RUN_PROFILES = ("standard", "tang2022")
STUDY_PROFILES = ("standard", "tang2022", "tang2023", "cddfuse")
LLVIP_TEST_PAIRS, STUDY_METHODS, CLUSTER_WORKERS = 3463, 40, 20


def load() -> str:
    return "load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def noop(item: int) -> int:
    return item


def score_triple(paths: tuple[str, str, str]) -> int:
    """Read a triple and score it under the run's default profiles (a worker's pair work)."""
    fused, a, b = (read_image(p) for p in paths)
    return len(score_many(fused, a, b, profiles=RUN_PROFILES)["standard"])


def warm_kernels() -> None:
    compile_kernels()


def make_triples(folder: Path, distinct: int) -> list[tuple[str, str, str]]:
    """``distinct`` smooth random ir/vi images and their average as the fused image."""
    rng = np.random.default_rng(0)
    out = []
    for i in range(distinct):
        a, b = (np.clip(ndimage.gaussian_filter(rng.standard_normal(SHAPE), 3) * 400 + 128,
                        0, 255).astype(np.uint8) for _ in range(2))
        fused = ((a.astype(np.uint16) + b) // 2).astype(np.uint8)
        names = [folder / f"{i:03d}_{role}.png" for role in ("f", "a", "b")]
        for path, image in zip(names, (fused, a, b), strict=True):
            write_image(path, image)
        out.append(tuple(str(p) for p in names))
    return out


def timed(executor: Any, task: Callable[[Any], Any], items: list[Any],
          setup: WorkerSetup | None = None) -> float:
    start = time.perf_counter()
    n = sum(1 for _ in executor.map_unordered(task, items, setup))
    assert n == len(items)
    return time.perf_counter() - start


def per_triple_cpu(triple: tuple[str, str, str], profiles: tuple[str, ...], repeat: int) -> float:
    """CPU seconds to read and score one triple under ``profiles`` (minimum of ``repeat``)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fused, a, b = (read_image(p) for p in triple)
        score_many(fused, a, b, profiles=profiles)
        best = min(best, time.process_time() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000, help="no-op tasks (overhead)")
    parser.add_argument("--triples", type=int, default=200, help="1280x1024 triples scored")
    parser.add_argument("--distinct", type=int, default=10, help="distinct image triples")
    parser.add_argument("--rounds", type=int, default=2, help="alternated rounds per executor")
    args = parser.parse_args()
    setup = WorkerSetup(warm_kernels)
    overheads: dict[int, float] = {}
    warm_kernels()
    print(f"machine: {os.cpu_count()} cores; {load()}")

    with tempfile.TemporaryDirectory() as tmp:
        distinct = make_triples(Path(tmp), args.distinct)
        triples = [distinct[i % len(distinct)] for i in range(args.triples)]
        print(f"\n{args.triples} triples of {SHAPE[1]}x{SHAPE[0]} ({args.distinct} distinct), "
              f"read + score {'+'.join(RUN_PROFILES)}:")
        serial = timed(SerialExecutor(), score_triple, triples, setup)
        print(f"  serial (this process)     {serial:6.1f} s  {args.triples / serial:5.2f} "
              f"triples/s  ({load()})")
        for workers in (1, 2):
            start = time.perf_counter()
            with DaskExecutor(workers=workers) as dask_ex:
                dask_ex.client.wait_for_workers(workers)
                print(f"  dask local cluster of {workers}: started in "
                      f"{time.perf_counter() - start:.1f} s")
                best = {"process pool": float("inf"), "dask local": float("inf")}
                for _ in range(args.rounds):  # alternated, so both see the same machine load
                    for label, executor in (("process pool", ProcessPoolExecutorAdapter(workers)),
                                            ("dask local", dask_ex)):
                        took = timed(executor, score_triple, triples, setup)
                        best[label] = min(best[label], took)
                        print(f"  {label:<12} {workers} worker(s) {took:6.1f} s  "
                              f"{args.triples / took:5.2f} triples/s  ({load()})")
                print(f"  best of {args.rounds}, {workers} worker(s): dask / pool wall = "
                      f"{best['dask local'] / best['process pool']:.3f}")
                overheads[workers] = timed(dask_ex, noop, list(range(args.tasks))) / args.tasks
                print(f"  dask local, {workers} worker(s): {args.tasks} no-op tasks, "
                      f"{overheads[workers] * 1e3:.2f} ms per task  ({load()})")
        pool_noop = timed(ProcessPoolExecutorAdapter(2), noop, list(range(args.tasks)))
        print(f"  process pool, 2 workers: {args.tasks} no-op tasks, "
              f"{pool_noop / args.tasks * 1e3:.2f} ms per task (pool start included; {load()})")

        cpu4 = per_triple_cpu(distinct[0], STUDY_PROFILES, repeat=5)
        tasks = LLVIP_TEST_PAIRS * STUDY_METHODS
        overhead = overheads[1]  # a worker's added time per task (the 1-worker round trip)
        hours = tasks * (cpu4 + overhead) / CLUSTER_WORKERS / 3600
        print(f"\nestimate: one triple read + scored under {len(STUDY_PROFILES)} profiles "
              f"= {cpu4 * 1e3:.0f} ms CPU ({load()}); LLVIP test x {STUDY_METHODS} methods = "
              f"{tasks:,} tasks ({tasks * len(STUDY_PROFILES):,} triple-profiles); on "
              f"{CLUSTER_WORKERS} workers like this machine's cores: {hours:.2f} h "
              f"(+ fusion time; scheduling {overhead * 1e3:.2f} ms per task included)")


if __name__ == "__main__":
    main()
