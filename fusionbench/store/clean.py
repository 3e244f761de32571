"""Dropping results: the only way anything leaves the store, and it says what it dropped.

>>> drop_runs(Path("/nonexistent"))
[]
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from fusionbench.store.database import Store
from fusionbench.store.legacy import refuse_legacy_layout
from fusionbench.store.model import RunPaths


@dataclass(frozen=True)
class DroppedRun:
    """What :func:`drop_runs` removed (or would remove): one run and its counts."""

    path: Path
    n_pairs: int
    n_scores: int


def drop_run_results(store: Store, paths: RunPaths) -> tuple[int, int]:
    """Delete one run from the store and its folder from disk (fused images, exports);
    returns the (pairs, scores) dropped."""
    run_id = store.run_id(paths.dataset, paths.subset, paths.method)
    counts = store.drop_run(run_id) if run_id is not None else (0, 0)
    if paths.run_dir.is_dir():
        shutil.rmtree(paths.run_dir)
    return counts


def drop_runs(root: Path, *, dataset: str | None = None, subset: str | None = None,
              method: str | None = None, dry_run: bool = True) -> list[DroppedRun]:
    """The stored runs under ``root`` that match every given name, removed unless
    ``dry_run`` (then only listed)."""
    root = Path(root)
    if not root.is_dir():
        return []
    refuse_legacy_layout(root)
    store = Store.open(root, readonly=dry_run)
    if store is None:
        return []
    out = []
    with store:
        for run in store.runs():
            if any(want is not None and want != have for want, have in
                   zip((dataset, subset, method), (run.dataset, run.subset, run.method),
                       strict=True)):
                continue
            paths = RunPaths(root, run.dataset, run.subset, run.method)
            if dry_run:
                n_pairs = len(store.pairs(run.id))
                n_scores = len(store.run_scores(run.id, None))
            else:
                n_pairs, n_scores = drop_run_results(store, paths)
            out.append(DroppedRun(paths.run_dir, n_pairs, n_scores))
    return out
