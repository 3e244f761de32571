"""Time ``fusionbench report`` on the full TNO sweep, cold and warm (issue 11: under 10 s).

The sweep is every method that covers TNO (``fusionbench run --method all --dataset tno``:
the classic methods, CLF-Net on the CPU and the published baselines; about 20 runs of up to 42
pairs, profiles standard and tang2022). It is made once into ``--results`` when that folder
holds no runs (minutes of CPU), then reused::

    .venv/bin/python benchmarks/bench_report_sweep.py --results /tmp/report-sweep-statetest

* **cold**: the first ``report`` on a fresh copy of the results root (nothing a previous
  report or run left in it, a new output folder), in a fresh process;
* **warm**: ``report`` again on the same copy into the same output folder, ``--repeat`` times.

Each is timed in full outputs and with ``--no-figures``, one fresh process per call (imports
included, as a user pays them). ``uptime`` is printed beside every figure: the machine is
shared, compare figures of one run as ratios. Results are written down in
``benchmarks/REPORT_SPEED.md``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import time_report  # noqa: E402 (the one timing of a report process)

VARIANTS = {"all outputs": [], "--no-figures": ["--no-figures"]}


def uptime() -> str:
    """The ``uptime`` line (load averages of the shared machine)."""
    proc = subprocess.run(["uptime"], capture_output=True, text=True, check=False)
    return proc.stdout.strip() or " ".join(f"{v:.2f}" for v in os.getloadavg())


def has_runs(root: Path) -> bool:
    """Whether ``root`` holds stored results ``report`` can read."""
    from fusionbench.report.load import ReportError, load_results

    try:
        return bool(load_results(root).runs)
    except ReportError:
        return False


def make_sweep(root: Path, workers: int) -> None:
    """Run every method covering TNO into ``root`` (the sweep the report is timed on)."""
    cmd = [sys.executable, "-m", "fusionbench", "run", "--method", "all", "--dataset", "tno",
           "--workers", str(workers), "--device", "cpu", "--out", str(root)]
    print(f"making the sweep: {' '.join(cmd[2:])}  [{uptime()}]", flush=True)
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, check=False).returncode
    if code not in (0, 3):  # 3: some pairs failed, named in the run's output
        sys.exit(f"the sweep failed with exit code {code}")


def describe(root: Path) -> str:
    from fusionbench.report.load import load_results

    results = load_results(root)
    pairs = results.pairs
    return (f"{len(results.runs)} runs, {int((pairs['status'] == 'ok').sum())} ok pairs, "
            f"{len(results.scores)} score rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, required=True,
                        help="Results root of the TNO sweep (made when it holds no runs).")
    parser.add_argument("--repeat", type=int, default=3, help="Warm reports per variant.")
    parser.add_argument("--workers", type=int, default=2, help="Workers for making the sweep.")
    args = parser.parse_args()
    if not has_runs(args.results):
        make_sweep(args.results, args.workers)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.platform()}; python {platform.python_version()}")
    print(f"sweep: {args.results}: {describe(args.results)}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, extra in VARIANTS.items():
            copy = Path(tmp) / f"results-{len(extra)}"
            shutil.copytree(args.results, copy)
            out = Path(tmp) / f"report-{len(extra)}"
            load = uptime()
            cold = time_report(copy, extra, out)
            print(f"| {name} | cold | {cold:.2f} s | {load} |", flush=True)
            load = uptime()
            warm = [time_report(copy, extra, out) for _ in range(args.repeat)]
            print(f"| {name} | warm | min {min(warm):.2f} s, median "
                  f"{statistics.median(warm):.2f} s ({', '.join(f'{t:.2f}' for t in warm)}) "
                  f"| {load} |", flush=True)
    print(f"after: {uptime()}")


if __name__ == "__main__":
    main()
