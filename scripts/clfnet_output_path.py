#!/usr/bin/env python
"""How much the authors' output path moves CLF-Net's scores, on the pairs they published.

For every TNO pair with a published CLF-Net result (``fused/tno/CLF-Net``, 8 pairs), the shipped
network fuses the pair once; its output is then scored (``tang2022``, the paper's convention)
as it is, after the min-max stretch, and after stretch + JPEG q75 (the ``clfnet-authors-output``
card's path), next to the authors' published file. Means over the pairs, as a Markdown table.

    nice -n 10 .venv/bin/python scripts/clfnet_output_path.py [--data-root DIR] [--threads 1]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from fusionbench.data import resolve_data_root
from fusionbench.fusion import fuse_images
from fusionbench.imageio import read_image
from fusionbench.metrics import score_many
from fusionbench.postprocess import apply_steps, parse_steps
from fusionbench.registry import Registry

PATHS = {"network output (clfnet)": [], "min-max stretch": ["minmax"],
         "stretch + JPEG q75 (clfnet-authors-output)": ["minmax", "jpeg:75"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", default="tang2022")
    args = parser.parse_args()
    root = resolve_data_root(args.data_root)
    if root is None:
        raise SystemExit("no data root: pass --data-root or set FUSIONBENCH_DATA")
    published = sorted((root / "fused" / "tno" / "CLF-Net").iterdir())
    fuser = Registry.builtin(entry_points=False).get("clfnet").load(
        device="cpu", num_threads=args.threads)
    rows: dict[str, list[dict[str, float]]] = {k: [] for k in [*PATHS, "authors' published"]}
    start = time.perf_counter()
    for file in published:
        a = read_image(root / "tno" / "ir" / f"{file.stem}.png")
        b = read_image(root / "tno" / "vi" / f"{file.stem}.png")
        raw = fuser(a / 255.0, b / 255.0)
        for label, spec in PATHS.items():
            steps = parse_steps(spec)
            fused = fuse_images(lambda _a, _b, s=steps, x=raw: apply_steps(s, x), a, b)
            rows[label].append(score_many(fused, a, b, profiles=[args.profile])[args.profile])
        rows["authors' published"].append(
            score_many(read_image(file), a, b, profiles=[args.profile])[args.profile])
    metrics = list(rows["authors' published"][0])
    print(f"{len(published)} TNO pairs, profile {args.profile}, weights "
          f"{fuser.weights_sha256[:12]}, {time.perf_counter() - start:.0f} s\n")
    print("| output | " + " | ".join(metrics) + " |")
    print("|---|" + "---|" * len(metrics))
    for label, scores in rows.items():
        means = [np.mean([s[m] for s in scores]) for m in metrics]
        print(f"| {label} | " + " | ".join(f"{v:.4g}" for v in means) + " |")


if __name__ == "__main__":
    main()
