"""How long ``load_results`` (what ``report`` and ``regress`` read) takes on a large store.

Builds a store of ``--runs`` runs x ``--pairs`` pairs x the 17 metrics of tang2022 + 6 of
standard (default 50 x 870 x 23 ≈ 1.0 million score rows) through the store's own API (one
transaction per pair, as the runner writes), then times ``load_results`` cold (first read)
and warm, with the load average before and after. Target (issue 11): under 2 s for 1 million.

    .venv/bin/python benchmarks/bench_store_load.py [--runs 50 --pairs 870]

CPU seconds are printed beside the wall time (the machine is shared). To compare with another
commit, run the script from outside the checkout with that commit's source tree first on
``PYTHONPATH`` (``git archive main | tar -x -C /tmp/base``; ``cd /tmp && PYTHONPATH=/tmp/base
.venv/bin/python …/bench_store_load.py --root R``), alternating with this tree's.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from fusionbench.metrics import get_profile, resolve_metrics
from fusionbench.report.load import load_results
from fusionbench.store import PairRecord, Store


def build(root: Path, n_runs: int, n_pairs: int) -> int:
    rng = np.random.default_rng(0)
    names = [(p, m) for p in ("standard", "tang2022")
             for m in resolve_metrics(get_profile(p), ["all"] if p == "tang2022" else None)]
    versions = {p: get_profile(p).version for p, _ in names}
    with Store.create(root) as store:
        for r in range(n_runs):
            run = store.run_id(f"set{r % 4}", "all", f"method{r:02d}", create=True)
            store.add_run_metrics(run, names)
            for i in range(n_pairs):
                values = rng.random(len(names))
                rows = [{"metric": m, "convention": p, "value": float(v),
                         "version": versions[p], "reason": ""}
                        for (p, m), v in zip(names, values, strict=True)]
                store.save_pair(run, PairRecord(f"pair{i:04d}", "ok", scores=rows, images={
                    "a": f"a{i}", "b": f"b{i}", "f": f"f{r}-{i}"}))
        return store.count_scores()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=870)
    parser.add_argument("--root", type=Path, default=None, help="reuse or keep the store here")
    args = parser.parse_args()
    root = args.root or Path(tempfile.mkdtemp())
    if not (root / "fusionbench.sqlite").is_file():
        t0 = time.perf_counter()
        n = build(root, args.runs, args.pairs)
        print(f"built {n} score rows in {time.perf_counter() - t0:.1f} s; "
              f"load average {os.getloadavg()}")
    for label in ("cold", "warm"):
        t0, c0 = time.perf_counter(), time.process_time()
        results = load_results(root)
        rows = len(results.scores)  # the tidy frame report reads (concatenated on demand)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{label}: load_results {wall:.2f} s (CPU {cpu:.2f} s) for {rows} rows "
              f"({len(results.runs)} runs)")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
