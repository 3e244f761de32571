"""Time ``fusionbench report`` on a results folder (e.g. the full TNO sweep, 20 runs).

Make the sweep once (minutes of CPU), then time the report::

    fusionbench run --method all --dataset tno --out /tmp/report-sweep
    .venv/bin/python benchmarks/bench_report.py --results /tmp/report-sweep --repeat 3

Each variant runs the real command in a fresh process (imports included), ``--repeat`` times,
back to back: all outputs, then ``--no-svg``, then ``--no-figures`` (so the share of the box
plots and grids shows). The load average is printed before and after: the machine is shared,
compare figures taken in one run as ratios. Results are written down in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VARIANTS = {"all outputs": [], "--no-svg": ["--no-svg"], "--no-figures": ["--no-figures"]}


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def run_report(results: Path, extra: list[str], out: Path,
               env: dict[str, str] | None = None) -> tuple[float, float]:
    """``(wall, CPU)`` seconds of one ``fusionbench report`` process (``env``: its
    environment); CPU is user + system of the process and the workers it waited for."""
    cmd = [sys.executable, "-m", "fusionbench", "report", "--results", str(results),
           "--out", str(out), "--no-progress", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def time_report(results: Path, extra: list[str], out: Path) -> float:
    """Wall seconds of one ``fusionbench report`` process."""
    return run_report(results, extra, out)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True, help="Results root to report on.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}; python {platform.python_version()}")
    print(f"load average before: {_load()}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in VARIANTS.items():
            times = [time_report(args.results, extra, Path(tmp) / "out")
                     for _ in range(args.repeat)]
            print(f"{name:<14} min {min(times):6.2f} s  median {statistics.median(times):6.2f} s"
                  f"  ({', '.join(f'{t:.2f}' for t in times)})")
    print(f"load average after: {_load()}")


if __name__ == "__main__":
    main()
