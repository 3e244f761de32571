"""A tiny hand-made results store for the report tests (imported by the other test_report*).

Dataset ``toy`` (subset ``all``), pairs p1, p2, p3, methods alpha, beta, gamma (gamma failed
on p3). Scores under convention ``standard`` (hand-computed expectations in EXPECTED and
EXPECTED_SHARED):

======  ============  ============  ==================
method  EN (higher)   RMSE (lower)  SD (higher)
======  ============  ============  ==================
alpha   1, 2, 3       1, 1, 1       5, 6, 7
beta    2, 2, 2       3, 3, 3       NaN, NaN, NaN
gamma   1, 1          0.5, 1.5      4, 4
======  ============  ============  ==================
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np

from fusionbench.imageio import write_image

PAIRS = ("p1", "p2", "p3")
SCORES = {
    "alpha": {"EN": [1, 2, 3], "RMSE": [1, 1, 1], "SD": [5, 6, 7]},
    "beta": {"EN": [2, 2, 2], "RMSE": [3, 3, 3], "SD": [math.nan] * 3},
    "gamma": {"EN": [1, 1], "RMSE": [0.5, 1.5], "SD": [4, 4]},
}
# Hand-computed main table: mean, sample std (ddof=1), n, dense rank in the metric's direction.
# alpha and beta cover all 3 pairs (ranked); gamma failed on p3 (partial: own n, never ranked).
EXPECTED = {
    ("alpha", "EN"): (2.0, 1.0, 3, 1), ("beta", "EN"): (2.0, 0.0, 3, 1),
    ("gamma", "EN"): (1.0, 0.0, 2, None),
    ("alpha", "RMSE"): (1.0, 0.0, 3, 1), ("beta", "RMSE"): (3.0, 0.0, 3, 2),
    ("gamma", "RMSE"): (1.0, math.sqrt(0.5), 2, None),
    ("alpha", "SD"): (6.0, 1.0, 3, 1), ("gamma", "SD"): (4.0, 0.0, 2, None),
}
# Hand-computed shared table: every method over p1, p2 (the pairs all three share).
EXPECTED_SHARED = {
    ("alpha", "EN"): (1.5, 2), ("beta", "EN"): (2.0, 1), ("gamma", "EN"): (1.0, 3),
    ("alpha", "RMSE"): (1.0, 1), ("beta", "RMSE"): (3.0, 2), ("gamma", "RMSE"): (1.0, 1),
    ("alpha", "SD"): (5.5, 1), ("gamma", "SD"): (4.0, 2),
}


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _image(path: Path, seed: int, shape: tuple[int, ...] = (40, 56)) -> str:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    img = (xx * 4 + yy * 2 + rng.integers(0, 40, shape[:2])).clip(0, 255).astype(np.uint8)
    write_image(path, img)
    return str(path)


def make_results(root: Path, *, scores: dict | None = None, dataset: str = "toy",
                 subset: str = "all", convention: str = "standard",
                 extra_conventions: dict[str, dict] | None = None,
                 pairs: tuple[str, ...] = PAIRS, manifest: dict[str, dict] | None = None,
                 status: dict[str, dict[str, str]] | None = None) -> Path:
    """Write the toy results store under ``root`` (and its images under ``root/_img``).

    A method's values fill ``pairs`` in order; pairs past its values are ``failed`` unless
    ``status[method][pair]`` says otherwise (``missing``, or ``absent``: not listed at all).
    ``manifest[method]`` is merged into that run's manifest.
    """
    scores = SCORES if scores is None else scores
    manifest = manifest or {}
    status = status or {}
    img = root / "_img"
    img.mkdir(parents=True, exist_ok=True)
    sources = {p: (_image(img / f"a_{p}.png", i), _image(img / f"b_{p}.png", 10 + i))
               for i, p in enumerate(pairs)}
    conventions = {convention: scores} | (extra_conventions or {})
    methods = sorted({m for conv in conventions.values() for m in conv})
    for k, method in enumerate(methods):
        # Folder names are sanitised (as a runner would); the CSV columns keep the real names.
        run = root / dataset / subset / re.sub(r"[^\w.-]", "_", method)
        run.mkdir(parents=True, exist_ok=True)
        n_done = max((len(v) for conv in conventions.values()
                      for v in conv.get(method, {}).values()), default=0)
        rows, pair_rows = [], []
        for conv_name, conv in conventions.items():
            for metric, values in conv.get(method, {}).items():
                for pair, value in zip(pairs, values, strict=False):
                    rows.append([method, dataset, subset, pair, metric, conv_name, repr(value)])
        for i, pair in enumerate(pairs):
            a, b = sources[pair]
            state = status.get(method, {}).get(pair)
            if state == "absent":
                continue
            if state == "missing":
                pair_rows.append([method, dataset, subset, pair, "missing", "no file", "", a, b,
                                  0.0])
            elif i < n_done:
                fused = _image(img / f"f_{k}_{pair}.png", 100 + 10 * k + i)
                pair_rows.append([method, dataset, subset, pair, "ok", "", fused, a, b, 0.5])
            else:
                pair_rows.append([method, dataset, subset, pair, "failed",
                                  "out of memory <b>&</b>", "", a, b, ""])
        _write_csv(run / "scores.csv",
                   ["method", "dataset", "subset", "pair", "metric", "convention", "value"], rows)
        _write_csv(run / "pairs.csv", ["method", "dataset", "subset", "pair", "status", "reason",
                                       "fused_path", "a_path", "b_path", "seconds"], pair_rows)
        info = {"method": method, "dataset": dataset, "subset": subset,
                "profiles": list(conventions), "n_pairs": len(pairs), "n_ok": n_done,
                "n_failed": len(pairs) - n_done, "started": "2025-01-01T00:00:00Z",
                "versions": {"numpy": np.__version__}} | manifest.get(method, {})
        (run / "manifest.json").write_text(json.dumps(info), encoding="utf-8")
    return root


def test_make_results_layout(tmp_path: Path) -> None:
    root = make_results(tmp_path)
    assert sorted(p.name for p in (root / "toy" / "all").iterdir()) == ["alpha", "beta", "gamma"]
    with (root / "toy/all/gamma/pairs.csv").open() as fh:
        statuses = [row["status"] for row in csv.DictReader(fh)]
    assert statuses == ["ok", "ok", "failed"]
