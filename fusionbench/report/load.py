"""Read a results root into pandas tables for the report and ``regress``.

A root written by ``fusionbench run`` is read from its store, ``<root>/fusionbench.sqlite``
(:mod:`fusionbench.store`), the one source of truth: the exported ``scores.csv`` / ``pairs.csv``
/ ``manifest.json`` in the run folders are never read, so an edited or duplicated export
changes nothing, and the pairs an interrupted run finished count. A root without a store (a
folder of exports, e.g. shared by a colleague) is read from the exports of each
``<dataset>/<subset>/<method>/`` folder, where the names written *inside* the files are
authoritative and a duplicated score key is an error. The two are never mixed: a store root
with export folders it does not know is refused, and so is a root of the earlier per-pair
JSON layout (``fusionbench import`` converts it).

>>> import tempfile
>>> load_results(tempfile.mkdtemp())
Traceback (most recent call last):
...
fusionbench.report.load.ReportError: no runs found under ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from fusionbench.errors import FusionbenchError
from fusionbench.store import PAIR_COLUMNS, SCORE_COLUMNS, STORE_FILE, Store
from fusionbench.store.legacy import refuse_legacy_layout
from fusionbench.store.tables import current_versions

RUN_FILES = ("scores.csv", "pairs.csv", "manifest.json")


class ReportError(FusionbenchError):
    """The results store or a report option is not usable; the message says why."""


@dataclass
class Run:
    """One run folder: a method on one dataset subset."""

    dataset: str
    subset: str
    method: str
    path: Path
    scores: pd.DataFrame
    pairs: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> pd.DataFrame:
        """Rows of ``pairs.csv`` whose status is not ``ok``."""
        return self.pairs[self.pairs["status"] != "ok"]


@dataclass
class Results:
    """Every run found under a results root."""

    root: Path
    runs: list[Run]

    @property
    def scores(self) -> pd.DataFrame:
        """All runs' scores in one tidy frame (columns :data:`SCORE_COLUMNS` and ``reason``,
        why a value is NaN)."""
        return _concat([r.scores for r in self.runs], (*SCORE_COLUMNS, "reason"), ("value",))

    @property
    def pairs(self) -> pd.DataFrame:
        """All runs' pair statuses in one frame (columns :data:`PAIR_COLUMNS`)."""
        return _concat([r.pairs for r in self.runs], PAIR_COLUMNS, ("seconds",))

    def groups(self) -> list[tuple[str, str]]:
        """Sorted distinct ``(dataset, subset)`` pairs."""
        return sorted({(r.dataset, r.subset) for r in self.runs})

    def runs_of(self, dataset: str, subset: str) -> list[Run]:
        """The runs of one dataset subset, sorted by method name."""
        found = [r for r in self.runs if (r.dataset, r.subset) == (dataset, subset)]
        return sorted(found, key=lambda r: r.method)


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...],
            numeric: tuple[str, ...]) -> pd.DataFrame:
    """The non-empty ``frames`` one after the other (an empty frame of ``columns`` if none)."""
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else _empty(columns, numeric)


def _empty(columns: tuple[str, ...], numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=float if c in numeric else object)
                         for c in columns})


def _read_csv(path: Path, columns: tuple[str, ...], numeric: tuple[str, ...]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        return _empty(columns, numeric)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReportError(f"{path}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}; "
                          f"expected {','.join(columns)}")
    for col in numeric:
        text = frame[col].str.strip()
        values = pd.to_numeric(text.replace("", "nan"), errors="coerce")
        bad = values.isna() & ~text.str.lower().isin(["", "nan", "na"])
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise ReportError(f"{path}: column {col!r} row {row + 2} is not a number: "
                              f"{frame[col].iloc[row]!r}")
        frame[col] = values.astype(float)
    return frame


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected a JSON object, got {type(data).__name__}")
    return data


def _identity(folder: Path, root: Path, scores: pd.DataFrame, pairs: pd.DataFrame,
              manifest: dict[str, Any]) -> tuple[str, str, str]:
    rel = folder.relative_to(root).parts
    out = []
    for i, key in enumerate(("dataset", "subset", "method")):
        value = manifest.get(key)
        for frame in (scores, pairs):
            if value is None and len(frame):
                value = frame[key].iloc[0]
        out.append(str(value) if value is not None else rel[i])
    for frame, name in ((scores, "scores.csv"), (pairs, "pairs.csv")):
        for i, key in enumerate(("dataset", "subset", "method")):
            if len(frame) and (frame[key] != out[i]).any():
                raise ReportError(f"{folder / name}: column {key!r} is not {out[i]!r} "
                                  "in every row (one run per folder)")
    return out[0], out[1], out[2]


def load_run(folder: str | Path, root: str | Path | None = None) -> Run:
    """Read one folder of exports (``root`` only gives fallback names from the folder path)."""
    folder = Path(folder)
    root = Path(root) if root is not None else folder.parents[2]
    scores_path, pairs_path, manifest_path = (folder / n for n in RUN_FILES)
    scores = (_read_csv(scores_path, SCORE_COLUMNS, ("value",)) if scores_path.is_file()
              else _empty(SCORE_COLUMNS, ("value",)))
    pairs = (_read_csv(pairs_path, PAIR_COLUMNS, ("seconds",)) if pairs_path.is_file()
             else _empty(PAIR_COLUMNS, ("seconds",)))
    if "reason" not in scores.columns:
        scores["reason"] = ""
    duplicated = scores.duplicated(list(SCORE_COLUMNS[:6]))
    if duplicated.any():
        row = scores[duplicated].iloc[0]
        raise ReportError(f"{scores_path}: {int(duplicated.sum())} duplicated score row(s), "
                          f"e.g. pair {row['pair']!r} {row['metric']} ({row['convention']})")
    manifest = _read_manifest(manifest_path) if manifest_path.is_file() else {}
    dataset, subset, method = _identity(folder, root, scores, pairs, manifest)
    return Run(dataset, subset, method, folder, scores, pairs, manifest)


def _store_frames(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All pairs and all shown scores of a store, each row with its ``run_id``: the scores of
    every run's ``run_metrics`` at each profile's current engine version (vectorised: a
    million rows in about a second, ``benchmarks/bench_store_load.py``)."""
    pair_cols = ["pair_id", "run_id", *PAIR_COLUMNS[3:], "warnings"]
    pairs = pd.DataFrame.from_records(store.pair_table(), columns=pair_cols)
    pairs["seconds"] = pairs["seconds"].astype(float)
    pairs["warnings"] = [" | ".join(json.loads(w)) if w != "[]" else "" for w in pairs["warnings"]]
    raw = pd.DataFrame.from_records(store.score_table(current_versions()), columns=[
        "pair_id", "convention", "metric", "value", "reason"])
    raw["value"] = raw["value"].astype(float)
    raw = raw.merge(pairs[["pair_id", "run_id", "pair"]], on="pair_id", how="inner")
    wanted = pd.DataFrame.from_records(store.metric_table(),
                                       columns=["run_id", "convention", "metric"])
    scores = raw.merge(wanted, on=["run_id", "convention", "metric"], how="inner")
    scores = scores.sort_values(["run_id", "pair", "convention", "metric"], kind="stable")
    return scores, pairs


def _frames_from_store(store: Store) -> list[Run]:
    """Every run of the store with its tables (one bulk read for all runs)."""
    scores, pairs = _store_frames(store)
    score_groups = dict(tuple(scores.groupby("run_id", sort=False))) if len(scores) else {}
    pair_groups = dict(tuple(pairs.groupby("run_id", sort=False))) if len(pairs) else {}
    runs = []
    for row in store.runs():
        ident = {"method": row.method, "dataset": row.dataset, "subset": row.subset}
        run_scores = score_groups.get(row.id, scores.iloc[:0])
        run_pairs = pair_groups.get(row.id, pairs.iloc[:0])
        run_scores = run_scores.assign(**ident)[[*SCORE_COLUMNS, "reason"]].reset_index(
            drop=True)
        run_pairs = run_pairs.assign(**ident)[[*PAIR_COLUMNS, "warnings"]].reset_index(
            drop=True)
        folder = store.root / row.dataset / row.subset / row.method
        runs.append(Run(row.dataset, row.subset, row.method, folder, run_scores, run_pairs,
                        row.manifest))
    return runs


def load_results(root: str | Path) -> Results:
    """Read every run under ``root``: from its store, or from folders of exports."""
    root = Path(root)
    if not root.is_dir():
        raise ReportError(f"results folder {root} does not exist (run `fusionbench run` first "
                          "or pass --results)")
    refuse_legacy_layout(root)
    folders = sorted({p.parent for name in RUN_FILES for p in root.glob(f"*/*/*/{name}")})
    store = Store.open(root)
    if store is not None:
        with store:
            runs = _frames_from_store(store)
        known = {r.path for r in runs}
        strangers = [f for f in folders if f not in known]
        if strangers:
            raise ReportError(f"{strangers[0]}: a run folder the store {root / STORE_FILE} does "
                              "not hold (copied in?); results of a store and loose exports are "
                              "not mixed: move it to a root of its own")
        if not runs:
            raise ReportError(f"no runs found under {root} (its store is empty)")
        return Results(root, runs)
    if not folders:
        raise ReportError(f"no runs found under {root} (expected a store written by "
                          "`fusionbench run`, or <dataset>/<subset>/<method>/ folders with "
                          "scores.csv, pairs.csv or manifest.json)")
    runs = [load_run(f, root) for f in folders]
    seen: dict[tuple[str, str, str], Path] = {}
    for run in runs:
        key = (run.dataset, run.subset, run.method)
        if key in seen:
            raise ReportError(f"two run folders claim {'/'.join(key)}: {seen[key]} and {run.path}")
        seen[key] = run.path
    return Results(root, runs)
