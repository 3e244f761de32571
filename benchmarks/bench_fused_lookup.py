"""How long finding one pair's fused file takes in a large folder (``matching.find_fused_file``,
called by the runner up to three times per pair of a published method or ``eval``), against a
plain ``Path.glob`` of the pattern (the rule the runner used before, case-sensitive only).

    .venv/bin/python benchmarks/bench_fused_lookup.py --files 2000 --pairs 200
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fusionbench.imageio import is_image_file
from fusionbench.matching import find_fused_file, match_fused


def glob_lookup(folder: Path, pattern: str, pair: str) -> Path | None:
    """Baseline: the files ``Path.glob`` finds for the pattern (exact case only)."""
    found = sorted(p for p in folder.glob(pattern.format(pair=pair))
                   if p.is_file() and is_image_file(p))
    return found[0] if found else None


def per_pair_ms(lookup: Callable[[Path, str, str], Path | None], folder: Path,
                pairs: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for pair in pairs:
            assert lookup(folder, "{pair}.*", pair) == folder / f"{pair.lower()}.png"
        best = min(best, (time.perf_counter() - start) / len(pairs) * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for i in range(args.files):
            (folder / f"pair_{i}.png").touch()
        pairs = [f"pair_{i}" for i in range(0, args.files, max(1, args.files // args.pairs))]
        print(f"{args.files} files, {len(pairs)} lookups, best of {args.repeat}; load "
              f"{os.getloadavg()[0]:.2f}")
        upper = [p.upper() for p in pairs]
        for label, lookup, names in (("Path.glob (old rule)", glob_lookup, pairs),
                                     ("find_fused_file, exact case", find_fused_file, pairs),
                                     ("find_fused_file, other case", find_fused_file, upper)):
            ms = per_pair_ms(lookup, folder, names, args.repeat)
            print(f"  {label:<30} {ms:6.2f} ms/pair")
        start = time.perf_counter()
        match = match_fused(folder, pairs)
        print(f"  match_fused, all {len(pairs)} pairs at once: "
              f"{(time.perf_counter() - start) * 1000:.1f} ms ({len(match.found)} found)")


if __name__ == "__main__":
    main()
