"""CPU time of every metric of the full-convention profiles (``--metrics all``) on one 768x576
TNO triple, each metric alone and all of a profile together (one core: run with
``OPENBLAS_NUM_THREADS=1``); prints the load average first.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_metrics_all.py \\
        [--profiles tang2022 tang2023 cddfuse] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from fusionbench.imageio import read_image
from fusionbench.metrics import PROFILES, score

PAIR, METHOD = "2_men_in_front_of_house", "DenseFuse"


def cpu_ms(call: Callable[[], object], repeat: int) -> float:
    """Best CPU time of ``repeat`` calls of ``call``, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", nargs="+", default=["tang2022", "tang2023", "cddfuse"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    env = os.environ.get("FUSIONBENCH_DATA")
    data = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    data = data if data.name == "data" else data / "data"
    f = read_image(data / "fused" / "tno" / METHOD / f"{PAIR}.png")
    a = read_image(data / "tno" / "ir" / f"{PAIR}.png")
    b = read_image(data / "tno" / "vi" / f"{PAIR}.png")
    print(f"triple {METHOD}/{PAIR} {f.shape}; load average {os.getloadavg()}")
    warnings.simplefilter("ignore")
    for name in args.profiles:
        score(f, a, b, profile=name, metrics=["all"])  # compile / load the kernels
        print(f"\n{name}: CPU ms, best of {args.repeat}")
        for metric in PROFILES[name].metrics:
            ms = cpu_ms(lambda m=metric, p=name: score(f, a, b, profile=p, metrics=[m]),
                         args.repeat)
            print(f"  {metric:<9} {ms:8.1f}")
        ms = cpu_ms(lambda p=name: score(f, a, b, profile=p, metrics=["all"]), args.repeat)
        print(f"  {'all':<9} {ms:8.1f}")


if __name__ == "__main__":
    main()
