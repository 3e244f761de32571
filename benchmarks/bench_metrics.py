"""Benchmark of the metrics engine on the TNO triples of ../shared/data.

Reads every file once (so that the timings do not depend on the disk) and loads the compiled
kernels; prints the load average, then: all triples scored under each given profile, and under
all of them at once (``score_many``), reading included, serially and with N worker processes,
asserting that both give identical numbers (CPU time of the serial run =
``time.process_time``, wall time and triples per second of both); then, per profile, the CPU
and wall time of each default metric alone and of all of them on one 768x576 triple, and of all
profiles of that triple via ``score_many``.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_metrics.py \\
        --profiles tang2022 standard --workers 2
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fusionbench.imageio import read_image
from fusionbench.metrics import PROFILES, score, score_many
from fusionbench.metrics.warmup import compile_kernels

TNO_METHODS = ("DenseFuse", "FusionGAN", "IFCNN", "PIAFusion", "PMGI", "RFN-Nest", "SDNet",
               "SeAFusion", "U2Fusion")
BIG = "2_men_in_front_of_house"

Triple = tuple[str, str, str]


def tno_triples(data: Path) -> list[Triple]:
    """(fused, ir, vi) paths of the 9 x 42 TNO triples."""
    out = []
    for method in TNO_METHODS:
        for fused in sorted((data / "fused" / "tno" / method).iterdir()):
            stem = fused.stem
            out.append((str(fused), str(data / "tno" / "ir" / f"{stem}.png"),
                        str(data / "tno" / "vi" / f"{stem}.png")))
    return out


def _score_chunk(args: tuple[list[Triple], tuple[str, ...]]) -> list[dict]:
    triples, profiles = args
    return [score_many(read_image(f), read_image(a), read_image(b), profiles=profiles)
            for f, a, b in triples]


def run(triples: list[Triple], profiles: tuple[str, ...], workers: int) -> tuple[float, float,
                                                                                    list]:
    """Score all triples (reading included): (wall s, this process's CPU s, results in order).

    With ``workers > 1`` the triples are dealt round-robin to a process pool (the CPU time is
    then only the parent's, so it is reported for the serial run only).
    """
    t0, c0 = time.perf_counter(), time.process_time()
    if workers <= 1:
        results = _score_chunk((triples, profiles))
    else:
        chunks = [triples[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_score_chunk, [(c, profiles) for c in chunks]))
        results = [None] * len(triples)
        for i, part in enumerate(parts):
            results[i::workers] = part
    return time.perf_counter() - t0, time.process_time() - c0, results


def _timed(fn, repeat: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per call of ``fn``: the minimum over ``repeat`` calls after a warm-up
    (the minimum is the least disturbed by other work on a shared machine)."""
    fn()
    cpu, wall = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - t0)
    return min(cpu) * 1e3, min(wall) * 1e3


def per_metric(triple: Triple, profiles: tuple[str, ...],
               repeat: int) -> dict[str, tuple[float, float]]:
    """(CPU ms, wall ms) per call for each default metric alone and all together, per profile,
    and for all profiles at once (``score_many``)."""
    f, a, b = (read_image(p) for p in triple)
    out = {}
    for profile in profiles:
        names = list(PROFILES[profile].default_metrics)
        for label, metrics in [(m, [m]) for m in names] + [("all", names)]:
            out[f"{profile} {label}"] = _timed(
                lambda m=metrics, p=profile: score(f, a, b, metrics=m, profile=p), repeat)
    out["score_many " + "+".join(profiles)] = _timed(
        lambda: score_many(f, a, b, profiles=profiles), repeat)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--profiles", nargs="+",
                        default=["tang2022", "tang2023", "cddfuse", "standard"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="score only the first N triples")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--skip-all", action="store_true",
                        help="only time the one 768x576 triple")
    args = parser.parse_args()
    profiles = tuple(args.profiles)
    triples = tno_triples(args.data)
    if args.limit:
        triples = triples[:args.limit]
    big = next(t for t in tno_triples(args.data) if BIG in t[0])
    print(f"{len(triples)} TNO triples; cpu count {os.cpu_count()}; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; load average "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    for path in {p for triple in triples for p in triple}:  # warm the OS file cache
        Path(path).read_bytes()
    print(f"kernels loaded in {compile_kernels():.1f} s (compiled on the first run after an "
          "install)")
    if not args.skip_all:
        groups = [(p,) for p in profiles] + ([profiles] if len(profiles) > 1 else [])
        for group in groups:
            name = "+".join(group)
            wall_s, cpu_s, serial = run(triples, group, 1)
            print(f"[{name}] serial: wall {wall_s:.2f} s, CPU {cpu_s:.2f} s "
                  f"({cpu_s / len(triples) * 1e3:.1f} ms CPU per triple, "
                  f"{len(triples) / wall_s:.1f} triples/s)")
            wall_p, _, par = run(triples, group, args.workers)
            assert serial == par, "worker processes gave different numbers than the serial run"
            print(f"[{name}] {args.workers} workers: wall {wall_p:.2f} s "
                  f"({len(triples) / wall_p:.1f} triples/s); identical to serial: True; "
                  f"load average {os.getloadavg()[0]:.2f}")
    for label, (cpu, wall) in per_metric(big, profiles, args.repeat).items():
        print(f"one 768x576 triple, {label}: CPU {cpu:.1f} ms, wall {wall:.1f} ms")
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
