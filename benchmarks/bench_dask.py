"""The Dask executor against the local process pool: scheduling overhead and throughput.

1. **Overhead**: ``--tasks`` no-op tasks through each executor (the Dask cluster already
   started); wall time per task is what the executor adds to every pair.
2. **Throughput**: ``--triples`` synthetic 1280x1024 triples (LLVIP's size) written as PNG to a
   temporary folder; each task reads its three files and scores them under standard + tang2022
   (the runner's default profiles), as workers of a real run do, and reports the CPU time it
   used inside the task (user and kernel), which the machine's load disturbs far less than wall
   time. Executors, alternated in each round: the process pool; a local Dask cluster as
   fusionbench starts it (workers without Dask's ``MALLOC_TRIM_THRESHOLD_``); one with Dask's
   default worker environment (``--dask-default-env``, the setting before the fix); and, with 2
   workers, ``--data-access send`` (the client ships each triple's bytes).
3. **Estimate** for a 20-worker cluster on LLVIP x 40 methods x 4 profiles, from the measured
   per-task cost of reading + scoring four profiles at once (``score_many``) plus the measured
   per-task overhead. Fusion time is not in it: it depends on the method (published outputs
   need none).

Prints ``uptime``'s load with every figure::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dask.py --tasks 2000 --triples 200
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

import fusionbench.executors_dask as executors_dask
from fusionbench.executors import ProcessPoolExecutorAdapter, WorkerSetup
from fusionbench.executors_dask import DaskExecutor
from fusionbench.imageio import read_image, write_image
from fusionbench.metrics import score_many
from fusionbench.metrics.warmup import compile_kernels
from fusionbench.shipping import map_shipped

SHAPE = (1024, 1280)
RUN_PROFILES = ("standard", "tang2022")
STUDY_PROFILES = ("standard", "tang2022", "tang2023", "cddfuse")
LLVIP_TEST_PAIRS, STUDY_METHODS, CLUSTER_WORKERS = 3463, 40, 20
ROLES = ("f", "a", "b")


def load() -> str:
    return "load " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def noop(item: int) -> int:
    return item


def score_triple(paths: tuple[str, str, str]) -> tuple[float, float]:
    """Read a triple and score it under the run's default profiles (a worker's pair work);
    returns the (user, kernel) CPU seconds the task took in its process."""
    before = os.times()
    fused, a, b = (read_image(p) for p in paths)
    score_many(fused, a, b, profiles=RUN_PROFILES)
    after = os.times()
    return after.user - before.user, after.system - before.system


def score_shipped(paths: tuple[str, str, str], folder: Path) -> tuple[float, float]:
    """``score_triple`` on the copies a shipped task finds in its folder."""
    return score_triple(tuple(str(folder / role / Path(p).name)
                              for role, p in zip(ROLES, paths, strict=True)))


def files_of(paths: tuple[str, str, str]) -> dict[str, Path]:
    return {f"{role}/{Path(p).name}": Path(p) for role, p in zip(ROLES, paths, strict=True)}


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
          setup: WorkerSetup | None = None) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    results = list(executor.map_unordered(task, items, setup))
    assert len(results) == len(items)
    return time.perf_counter() - start, results


def timed_sent(executor: Any, items: list[Any], setup: WorkerSetup) -> tuple[float, list[Any]]:
    start = time.perf_counter()
    results = [d.result for d in map_shipped(executor, score_shipped, items, files_of, setup)]
    assert len(results) == len(items)
    return time.perf_counter() - start, results


def cpu_line(results: list[tuple[float, float]]) -> str:
    n = len(results)
    user, kernel = (sum(r[i] for r in results) / n * 1e3 for i in (0, 1))
    return f"in-task CPU {user:5.1f} ms user + {kernel:4.1f} ms kernel"


def per_triple_cpu(triple: tuple[str, str, str], profiles: tuple[str, ...], repeat: int) -> float:
    """CPU seconds to read and score one triple under ``profiles`` (minimum of ``repeat``)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fused, a, b = (read_image(p) for p in triple)
        score_many(fused, a, b, profiles=profiles)
        best = min(best, time.process_time() - start)
    return best


def dask_cluster(workers: int, default_env: bool) -> DaskExecutor:
    """A started local cluster; ``default_env``: Dask's own worker environment (before the fix)."""
    saved = executors_dask.WORKER_ENVIRON
    if default_env:
        executors_dask.WORKER_ENVIRON = {}
    try:
        executor = DaskExecutor(workers=workers)
        executor.client.wait_for_workers(workers)
    finally:
        executors_dask.WORKER_ENVIRON = saved
    return executor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=2000, help="no-op tasks (overhead)")
    parser.add_argument("--triples", type=int, default=200, help="1280x1024 triples scored")
    parser.add_argument("--distinct", type=int, default=10, help="distinct image triples")
    parser.add_argument("--rounds", type=int, default=1, help="alternated rounds per executor")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    setup = WorkerSetup(warm_kernels)
    overheads: dict[int, float] = {}
    warm_kernels()
    print(f"machine: {os.cpu_count()} cores; {load()}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        distinct = make_triples(Path(tmp), args.distinct)
        triples = [distinct[i % len(distinct)] for i in range(args.triples)]
        print(f"\n{args.triples} triples of {SHAPE[1]}x{SHAPE[0]} ({args.distinct} distinct), "
              f"read + score {'+'.join(RUN_PROFILES)}:", flush=True)
        for workers in args.workers:
            with ExitStack() as stack:
                start = time.perf_counter()
                fixed = stack.enter_context(dask_cluster(workers, False))
                print(f"  dask local cluster of {workers}: started in "
                      f"{time.perf_counter() - start:.1f} s", flush=True)
                default = stack.enter_context(dask_cluster(workers, True))
                runs: dict[str, Callable[[], tuple[float, list[Any]]]] = {
                    "process pool": partial(timed, ProcessPoolExecutorAdapter(workers),
                                            score_triple, triples, setup),
                    "dask": partial(timed, fixed, score_triple, triples, setup),
                    "dask, Dask's env": partial(timed, default, score_triple, triples, setup),
                }
                if workers > 1:  # map_shipped ships the bytes whatever the executor's setting
                    runs["dask, send"] = partial(timed_sent, fixed, triples, setup)
                best = dict.fromkeys(runs, float("inf"))
                for _ in range(args.rounds):  # alternated, so all see the same machine load
                    for label, run in runs.items():
                        took, results = run()
                        best[label] = min(best[label], took)
                        print(f"  {label:<16} {workers} worker(s) {took:6.1f} s  "
                              f"{args.triples / took:5.2f} triples/s  {cpu_line(results)}  "
                              f"({load()})", flush=True)
                for label in runs:
                    print(f"  best of {args.rounds}, {workers} worker(s): {label} / pool wall = "
                          f"{best[label] / best['process pool']:.3f}", flush=True)
                took, _ = timed(fixed, noop, list(range(args.tasks)))
                overheads[workers] = took / args.tasks
                print(f"  dask local, {workers} worker(s): {args.tasks} no-op tasks, "
                      f"{overheads[workers] * 1e3:.2f} ms per task  ({load()})", flush=True)
        pool_noop, _ = timed(ProcessPoolExecutorAdapter(2), noop, list(range(args.tasks)))
        print(f"  process pool, 2 workers: {args.tasks} no-op tasks, "
              f"{pool_noop / args.tasks * 1e3:.2f} ms per task (pool start included; {load()})")

        cpu4 = per_triple_cpu(distinct[0], STUDY_PROFILES, repeat=5)
        tasks = LLVIP_TEST_PAIRS * STUDY_METHODS
        overhead = overheads[min(overheads)]  # a worker's added time per task
        hours = tasks * (cpu4 + overhead) / CLUSTER_WORKERS / 3600
        print(f"\nestimate: one triple read + scored under {len(STUDY_PROFILES)} profiles "
              f"= {cpu4 * 1e3:.0f} ms CPU ({load()}); LLVIP test x {STUDY_METHODS} methods = "
              f"{tasks:,} tasks ({tasks * len(STUDY_PROFILES):,} triple-profiles); on "
              f"{CLUSTER_WORKERS} workers like this machine's cores: {hours:.2f} h "
              f"(+ fusion time; scheduling {overhead * 1e3:.2f} ms per task included)")


if __name__ == "__main__":
    main()
