"""What the store's hashing and cache writes add to scoring, on TNO triples of ../shared/data.

For each triple (published fused outputs of ``--methods`` x the 42 TNO pairs, files read once
into memory first) it times, interleaved so that both see the same machine load:

* ``plain``: decode the three PNGs, score under standard + tang2022 (today's per-pair work);
* ``store``: the same plus what the store adds: the sha256 fingerprint of the three files, the
  sha256 of the three decoded images, the lookup of known scores and the pair's transaction
  (pair row + score rows) in the SQLite store;

and, afterwards, ``hit``: decode + hash + store lookup, the cost of a triple the store knows.
Prints the load average and CPU milliseconds per triple (``time.process_time``).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_store.py --methods DenseFuse IFCNN
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from fusionbench.metrics import get_profile, score_many
from fusionbench.metrics.warmup import compile_kernels
from fusionbench.store import ImageKey, PairRecord, Store

PROFILES = ("standard", "tang2022")


def _decode(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get(
        "FUSIONBENCH_DATA", Path(__file__).resolve().parents[2] / "shared")) / "data")
    parser.add_argument("--methods", nargs="+", default=["DenseFuse", "IFCNN"])
    args = parser.parse_args()
    compile_kernels()
    tno = args.data / "tno"
    triples = []
    for method in args.methods:
        for fused in sorted((args.data / "fused" / "tno" / method).glob("*.png")):
            a, b = tno / "ir" / f"{fused.stem}.png", tno / "vi" / f"{fused.stem}.png"
            if a.is_file() and b.is_file():
                triples.append(tuple(p.read_bytes() for p in (a, b, fused)))
    print(f"load average {os.getloadavg()}; {len(triples)} triples")
    db = Store.create(Path(tempfile.mkdtemp()))
    run = db.run_id("tno", "all", "bench", create=True)
    plain = store = 0.0
    for i, raw in enumerate(triples):
        t0 = time.process_time()
        a, b, f = map(_decode, raw)
        score_many(f, a, b, profiles=PROFILES)
        t1 = time.process_time()
        for data in raw:
            hashlib.sha256(data).digest()
        a, b, f = map(_decode, raw)
        key = ImageKey.of(a, b, f)
        for profile in PROFILES:
            db.lookup(key, profile, get_profile(profile).version,
                      get_profile(profile).default_metrics)
        rows = [{"metric": m, "convention": p, "value": float(v),
                 "version": get_profile(p).version, "reason": ""}
                for p, values in score_many(f, a, b, profiles=PROFILES).items()
                for m, v in values.items()]
        db.save_pair(run, PairRecord(f"t{i}", "ok", scores=rows,
                                     images={"a": key.a, "b": key.b, "f": key.f}))
        t2 = time.process_time()
        plain += t1 - t0
        store += t2 - t1
    t0 = time.process_time()
    for raw in triples:
        a, b, f = map(_decode, raw)
        key = ImageKey.of(a, b, f)
        for profile in PROFILES:
            db.lookup(key, profile, get_profile(profile).version,
                      get_profile(profile).default_metrics)
    hit = time.process_time() - t0
    n = len(triples)
    print(f"plain {1e3 * plain / n:.1f} ms/triple, store {1e3 * store / n:.1f} ms/triple "
          f"(+{100 * (store / plain - 1):.1f} %), store hit {1e3 * hit / n:.1f} ms/triple")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
