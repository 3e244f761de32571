"""Results written by the earlier layout (one JSON record per pair under ``records/`` and a
``scores.sqlite`` cache): refused by every reader and writer until ``fusionbench import`` has
moved them into the store once, so the two are never mixed silently.

>>> import tempfile
>>> legacy_run_folders(Path(tempfile.mkdtemp()))
[]
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from fusionbench.store.database import Store
from fusionbench.store.exports import write_exports
from fusionbench.store.model import STATUSES, PairRecord
from fusionbench.store.schema import StoreError

LEGACY_CACHE = "scores.sqlite"


def legacy_run_folders(root: Path) -> list[Path]:
    """The run folders under ``root`` that still hold per-pair JSON records."""
    return sorted(p.parent for p in Path(root).glob("*/*/*/records") if p.is_dir())


def refuse_legacy_layout(root: Path) -> None:
    """Raise :class:`StoreError` when ``root`` holds results of the earlier layout."""
    found = legacy_run_folders(root)
    if found or (Path(root) / LEGACY_CACHE).is_file():
        where = found[0] if found else Path(root) / LEGACY_CACHE
        raise StoreError(f"{where}: results in the earlier per-pair JSON layout; run "
                         f"`fusionbench import --results {root}` once to move them into the "
                         "store (nothing was changed)")


@dataclass
class ImportSummary:
    """What :func:`import_legacy` moved into the store."""

    runs: list[str] = field(default_factory=list)
    pairs: int = 0
    scores: int = 0
    cached_scores: int = 0
    #: records that could not be used (unreadable, another pair's, duplicated keys), by file
    skipped: dict[str, str] = field(default_factory=dict)
    #: pairs whose scores carry no image hashes or engine version (written before either was
    #: recorded): stored without scores, so the next run computes them
    unscored: list[str] = field(default_factory=list)


def _read_record(path: Path) -> PairRecord:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or data.get("pair") != path.stem:
        raise ValueError("its 'pair' field is not its file name")
    known = {k: data[k] for k in ("pair", "status", "reason", "fused_path", "a_path",
                                  "b_path", "seconds", "scores", "fingerprint", "images")
             if k in data}
    record = PairRecord(**known)
    if record.status not in STATUSES:
        raise ValueError(f"unknown status {record.status!r}")
    keys = [(s.get("metric"), s.get("convention")) for s in record.scores]
    if len(set(keys)) != len(keys):
        raise ValueError("a (metric, convention) appears twice")
    return record


def import_legacy(root: Path) -> ImportSummary:
    """Move every run folder's JSON records (and the old score cache) into the store of
    ``root``, write the exports from it, then remove ``records/`` and ``scores.sqlite``."""
    root = Path(root)
    summary = ImportSummary()
    with Store.create(root) as store:
        for folder in legacy_run_folders(root):
            dataset, subset, method = folder.relative_to(root).parts
            manifest_path = folder / "manifest.json"
            try:
                manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                manifest = {}
            run_id = store.run_id(dataset, subset, method, create=True)
            wanted: set[tuple[str, str]] = set()
            for path in sorted((folder / "records").glob("*.json")):
                try:
                    record = _read_record(path)
                except (OSError, ValueError, TypeError) as exc:
                    summary.skipped[str(path)] = str(exc)
                    continue
                usable = bool(record.images) and all("version" in s for s in record.scores)
                if record.status == "ok" and not usable:
                    summary.unscored.append(f"{dataset}/{subset}/{method}/{record.pair}")
                    record.status, record.reason = "failed", "imported without image hashes"
                    record.scores = []
                for s in record.scores:
                    s["value"] = math.nan if s["value"] is None else float(s["value"])
                    wanted.add((s["convention"], s["metric"]))
                store.save_pair(run_id, record)
                summary.pairs += 1
                summary.scores += len(record.scores)
            store.add_run_metrics(run_id, sorted(wanted))
            store.set_manifest(run_id, {**manifest, "imported_from": "records"})
            summary.runs.append(f"{dataset}/{subset}/{method}")
        summary.cached_scores = _import_cache(store, root / LEGACY_CACHE)
        for run in store.runs():
            write_exports(store, run, root)
    for folder in legacy_run_folders(root):
        shutil.rmtree(folder / "records")
        (folder / ".lock").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (root / (LEGACY_CACHE + suffix)).unlink(missing_ok=True)
    return summary


def _import_cache(store: Store, path: Path) -> int:
    if not path.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as old:
            rows = old.execute("SELECT a, b, f, profile, version, metric, value "
                               "FROM scores").fetchall()
    except sqlite3.Error as exc:
        raise StoreError(f"{path}: the earlier score cache cannot be read ({exc}); move it "
                         "away and import again") from exc
    store.add_scores(rows)
    return len(rows)
