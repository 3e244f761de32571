"""Benchmark of the metrics engine on the TNO triples of ../shared/data.

Prints, per profile: triples/s and total time (serial and with N worker processes, checking
that both give identical numbers), then the cost of each metric alone on one 768x576 triple.

    .venv/bin/python benchmarks/bench_metrics.py --profiles tang2022 standard --workers 2
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fusionbench.imageio import read_image
from fusionbench.metrics import PROFILES, score

TNO_METHODS = ("DenseFuse", "FusionGAN", "IFCNN", "PIAFusion", "PMGI", "RFN-Nest", "SDNet",
               "SeAFusion", "U2Fusion")


def tno_triples(data: Path) -> list[tuple[str, str, str]]:
    """(fused, ir, vi) paths of the 9 x 42 TNO triples."""
    out = []
    for method in TNO_METHODS:
        for fused in sorted((data / "fused" / "tno" / method).iterdir()):
            stem = fused.stem
            out.append((str(fused), str(data / "tno" / "ir" / f"{stem}.png"),
                        str(data / "tno" / "vi" / f"{stem}.png")))
    return out


def _score_chunk(args: tuple[list[tuple[str, str, str]], str]) -> list[dict[str, float]]:
    triples, profile = args
    return [score(read_image(f), read_image(a), read_image(b), profile=profile)
            for f, a, b in triples]


def run(triples: list[tuple[str, str, str]], profile: str, workers: int) -> tuple[float, list]:
    """Score all triples (reading included); returns (seconds, results in input order)."""
    t0 = time.perf_counter()
    if workers <= 1:
        results = _score_chunk((triples, profile))
    else:
        chunks = [triples[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_score_chunk, [(c, profile) for c in chunks]))
        results = [None] * len(triples)
        for i, part in enumerate(parts):
            results[i::workers] = part
    return time.perf_counter() - t0, results


def per_metric(triple: tuple[str, str, str], profile: str, repeat: int) -> dict[str, float]:
    """Milliseconds per call for each default metric alone and for all together."""
    f, a, b = (read_image(p) for p in triple)
    names = list(PROFILES[profile].default_metrics)
    out = {}
    for label, metrics in [(m, [m]) for m in names] + [("all", names)]:
        score(f, a, b, metrics=metrics, profile=profile)
        t0 = time.perf_counter()
        for _ in range(repeat):
            score(f, a, b, metrics=metrics, profile=profile)
        out[label] = (time.perf_counter() - t0) / repeat * 1e3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path,
                        default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--profiles", nargs="+", default=["tang2022", "standard"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="score only the first N triples")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    triples = tno_triples(args.data)
    if args.limit:
        triples = triples[:args.limit]
    big = next(t for t in triples if "2_men_in_front_of_house" in t[0])
    print(f"{len(triples)} TNO triples; cpu count {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.2f}")
    for profile in args.profiles:
        t_serial, serial = run(triples, profile, 1)
        t_par, par = run(triples, profile, args.workers)
        same = serial == par
        print(f"[{profile}] serial {t_serial:.2f} s ({len(triples) / t_serial:.1f} triples/s); "
              f"{args.workers} workers {t_par:.2f} s ({len(triples) / t_par:.1f} triples/s); "
              f"identical: {same}")
        costs = per_metric(big, profile, args.repeat)
        print(f"[{profile}] one 768x576 triple, ms per call: "
              + ", ".join(f"{k} {v:.1f}" for k, v in costs.items()))


if __name__ == "__main__":
    main()
