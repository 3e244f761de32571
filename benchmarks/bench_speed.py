"""Speed targets of issue 15, on one core (CPU time, ``time.process_time``, best of N):

1. VIFF (``han_viff``) on every 256x256 medical triple of ``../shared/data/fused/medical``
   (large flat regions): the slowest and the median triple; target <= 20 ms each.
2. Every metric of ``tang2022`` (``metrics="all"``, Tang's 17) on the 768x576 TNO triple
   DenseFuse/2_men_in_front_of_house, each metric alone and all 17 together; targets <= 150 ms
   for all, <= 50 ms for MS_SSIM and each FMI.

Each metric alone includes the image preparation (gray conversion, ~1 ms) and whatever the
metric shares with others (MS_SSIM includes SSIM). Prints the load average before and after,
and the values, so that two code versions can be compared run by run:

    OPENBLAS_NUM_THREADS=1 FUSIONBENCH_DATA=../shared .venv/bin/python benchmarks/bench_speed.py
    # the code before, e.g. a `git archive` of an older commit unpacked in /tmp/old:
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=/tmp/old .venv/bin/python benchmarks/bench_speed.py
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import warnings
from pathlib import Path

from fusionbench.imageio import read_image
from fusionbench.metrics import PROFILES, score

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_metrics_all import cpu_ms  # noqa: E402 (the one CPU timing of a metric call)

TNO_PAIR, TNO_METHOD = "2_men_in_front_of_house", "DenseFuse"


def _data_root() -> Path:
    env = os.environ.get("FUSIONBENCH_DATA")
    data = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    return data if data.name == "data" else data / "data"


def medical_triples(data: Path) -> list[tuple[str, Path, Path, Path]]:
    """(label, fused, a, b) of every fused medical image whose two sources exist."""
    out = []
    for fused in sorted((data / "fused" / "medical").glob("*/*/*")):
        dataset, method = fused.parts[-3], fused.parts[-2]
        roles = sorted(p.name for p in (data / "medical" / dataset).iterdir())
        sources = [sorted((data / "medical" / dataset / r).glob(fused.stem + ".*")) for r in roles]
        if all(sources):
            out.append((f"{dataset}/{method}/{fused.stem}", fused, sources[0][0], sources[1][0]))
    return out


def bench_viff(data: Path, repeat: int) -> dict:
    times, values = {}, {}
    for label, *paths in medical_triples(data):
        f, a, b = (read_image(p) for p in paths)
        values[label] = score(f, a, b, profile="han_viff")["VIFF"]
        times[label] = cpu_ms(lambda f=f, a=a, b=b: score(f, a, b, profile="han_viff"), repeat)
    slowest = max(times, key=times.get)
    return {"n": len(times), "max_ms": times[slowest], "slowest": slowest,
            "median_ms": statistics.median(times.values()), "values": values}


def bench_tang(data: Path, repeat: int) -> dict:
    f = read_image(data / "fused" / "tno" / TNO_METHOD / f"{TNO_PAIR}.png")
    a = read_image(data / "tno" / "ir" / f"{TNO_PAIR}.png")
    b = read_image(data / "tno" / "vi" / f"{TNO_PAIR}.png")
    values = score(f, a, b, profile="tang2022", metrics=["all"])
    ms = {m: cpu_ms(lambda m=m: score(f, a, b, profile="tang2022", metrics=[m]), repeat)
          for m in PROFILES["tang2022"].metrics}
    ms["all"] = cpu_ms(lambda: score(f, a, b, profile="tang2022", metrics=["all"]), repeat)
    return {"ms": ms, "values": values}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--kept-heap", action="store_true",
                        help="first keep freed memory in the heap, as the fusionbench command "
                             "does (fusionbench.heap); default: the C library's settings")
    args = parser.parse_args()
    if args.kept_heap:
        from fusionbench.heap import keep_freed_heap

        print(f"heap kept: {keep_freed_heap()}")
    warnings.simplefilter("ignore")
    data = _data_root()
    load_before = os.getloadavg()
    viff = bench_viff(data, args.repeat)
    tang = bench_tang(data, args.repeat)
    load_after = os.getloadavg()
    print(f"load average before {load_before}, after {load_after}")
    print(f"VIFF (han_viff), {viff['n']} medical triples, CPU ms best of {args.repeat}: "
          f"max {viff['max_ms']:.1f} ({viff['slowest']}), median {viff['median_ms']:.1f}")
    print(f"tang2022 all metrics, {TNO_METHOD}/{TNO_PAIR}, CPU ms best of {args.repeat}:")
    for metric, ms in tang["ms"].items():
        value = tang["values"].get(metric)
        print(f"  {metric:<9} {ms:8.1f}" + ("" if value is None else f"   {value!r}"))
    if args.json:
        args.json.write_text(json.dumps({"load": [load_before, load_after], "viff": viff,
                                         "tang2022": tang}, indent=1))


if __name__ == "__main__":
    main()
