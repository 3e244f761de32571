"""Worst relative error per (profile, metric) against every reference file of ../shared/reference
and our own Octave run of Tang's original code (``tests/reference/octave_tang_original.csv``,
its rows that ``tests/test_metrics_calibration.py`` compares directly), written as a Markdown
table (``benchmarks/CALIBRATION.md``, committed).

Each row of a reference file is scored with ``fusionbench.metrics.score`` under its convention
on the files it names; for a (profile, metric) the table gives the number of rows, the worst
relative error, the row it occurs on, and the tolerance ``tests/test_metrics_calibration.py``
applies. ``vifb.csv`` holds 5 significant digits, so its errors are bounded by that rounding
(~5e-5), not by the implementation.

    FUSIONBENCH_DATA=../shared .venv/bin/python benchmarks/bench_metrics_calibration.py \\
        [--out benchmarks/CALIBRATION.md] [--skip-vifb]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import warnings
from collections import defaultdict
from collections.abc import Callable
from functools import cache
from pathlib import Path

from fusionbench.colour import rgb2gray_matlab
from fusionbench.imageio import read_image
from fusionbench.metrics import score

Row = dict[str, str]
Triple = tuple[str, str, str, str]  # A, B, F paths, profile


def _shared() -> Path:
    env = os.environ.get("FUSIONBENCH_DATA")
    root = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    return root.parent if root.name == "data" else root


@cache
def _image(path: str):
    return read_image(path)


def _find(folder: Path, stem: str) -> str:
    return str(next(folder.glob(stem + ".*")))


def _tang(data: Path) -> Callable[[Row], Triple]:
    def triple(r: Row) -> Triple:
        ds = data / r["dataset"]
        return (_find(ds / "ir", r["pair"]), _find(ds / "vi", r["pair"]),
                _find(data / "fused" / r["dataset"] / r["method"], r["pair"]), "tang2022")
    return triple


def _named_in_source(data: Path) -> Callable[[Row], Triple]:
    def triple(r: Row) -> Triple:
        src = r["source"]
        files = {k: src.split(f" {k}=")[1].split(" ")[0].rstrip(";") for k in "ABF"}
        return (str(data / files["A"]), str(data / files["B"]), str(data / files["F"]),
                r["convention"])
    return triple


def _octave(data: Path) -> Callable[[Row], Triple]:
    from tests.test_metrics_calibration import _octave_triple

    def triple(r: Row) -> Triple:
        a, b, f, convention = _octave_triple(r)
        return (str(data / a), str(data / b), str(data / f), convention)
    return triple


def _vifb(data: Path) -> Callable[[Row], Triple]:
    def triple(r: Row) -> Triple:
        ds = data / "vifb"
        return (_find(ds / "ir", r["pair"]), _find(ds / "vi", r["pair"]),
                _find(data / "fused" / "vifb" / r["method"], r["pair"]), "vifb")
    return triple


def worst_errors(rows: list[Row], triple_of: Callable[[Row], Triple],
                 source: str, gray_first: bool = False) -> dict[tuple[str, str], list]:
    """{(profile, metric): [rows, worst relative error, where, reference file]}.

    ``gray_first``: the reference converted every colour input with MATLAB ``rgb2gray`` before
    any metric ran (octave.csv), so do the same (it matters for ``vifb``'s colour rule only)."""
    prepare = rgb2gray_matlab if gray_first else (lambda x: x)
    by_triple: dict[Triple, list[Row]] = defaultdict(list)
    for row in rows:
        by_triple[triple_of(row)].append(row)
    out: dict[tuple[str, str], list] = {}
    for (a, b, f, profile), trows in by_triple.items():
        names = sorted({r["metric"] for r in trows})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = score(prepare(_image(f)), prepare(_image(a)), prepare(_image(b)),
                        metrics=names, profile=profile)
        for r in trows:
            want = float(r["value"])
            err = abs(got[r["metric"]] - want) / abs(want) if want else abs(got[r["metric"]])
            entry = out.setdefault((profile, r["metric"]), [0, -1.0, "", source])
            entry[0] += 1
            if err > entry[1]:
                entry[1:3] = [err, f"{r['method']}/{r['pair']}"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("CALIBRATION.md"))
    parser.add_argument("--skip-vifb", action="store_true")
    args = parser.parse_args()
    shared = _shared()
    ref, data = shared / "reference", shared / "data"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tolerances' one home
    from tests.test_metrics_calibration import (
        OCTAVE_ORIGINAL,
        OCTAVE_TOLERANCES,
        REL_TOL,
        TOLERANCES,
        octave_comparable,
    )

    sources = [(ref / "tang2022_tno.csv", _tang(data)),
               (ref / "tang2022_tno_more.csv", _tang(data)),
               (ref / "octave.csv", _octave(data)), (ref / "cddfuse.csv", _named_in_source(data)),
               (ref / "octave_tang_full.csv", _octave(data)), (OCTAVE_ORIGINAL, _octave(data))]
    if not args.skip_vifb:
        sources.append((ref / "vifb.csv", _vifb(data)))

    start = time.perf_counter()
    table: dict[tuple[str, str], list] = {}
    for path, triple_of in sources:
        name = path.name
        if not path.exists():
            print(f"{name}: not present, skipped")
            continue
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        if path == OCTAVE_ORIGINAL:
            rows = octave_comparable(rows)
        gray_first = name.startswith("octave")
        for key, entry in worst_errors(rows, triple_of, name, gray_first).items():
            table[(key[0], key[1], name)] = entry
        print(f"{name}: {len(rows)} rows")
    load = os.getloadavg()
    lines = ["# Calibration: worst relative error per (profile, metric)", "",
             f"Written by `benchmarks/bench_metrics_calibration.py` "
             f"({time.perf_counter() - start:.0f} s, load average "
             f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}). Tolerance: what "
             "`tests/test_metrics_calibration.py` applies (vifb.csv: 5 significant digits, "
             "checked by `tests/test_metrics_vifb_reference.py` after rounding). octave.csv rows "
             "are scored on the MATLAB-gray images, as Octave was given them.", "",
             "| profile | metric | reference | rows | worst relative error | at | tolerance |",
             "|---|---|---|---:|---:|---|---:|"]
    for (profile, metric, name), (n, err, where, _) in sorted(table.items()):
        tolerances = OCTAVE_TOLERANCES if name == OCTAVE_ORIGINAL.name else TOLERANCES
        tol = "5 sig. digits" if name == "vifb.csv" else \
            f"{tolerances.get((profile, metric), REL_TOL):.0e}"
        lines.append(f"| {profile} | {metric} | {name} | {n} | {err:.1e} | {where} | {tol} |")
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
