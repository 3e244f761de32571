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

import numpy as np
import pandas as pd

from fusionbench.errors import FusionbenchError
from fusionbench.store import PAIR_COLUMNS, SCORE_COLUMNS, STORE_FILE, Store
from fusionbench.store.legacy import refuse_legacy_layout
from fusionbench.store.tables import ScoreColumns, current_versions, score_columns

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


def _pair_frame(store: Store) -> pd.DataFrame:
    """Every stored pair with its ``pair_id`` and ``run_id``, sorted by run and pair."""
    pairs = pd.DataFrame.from_records(store.pair_table(), columns=[
        "pair_id", "run_id", *PAIR_COLUMNS[3:], "warnings"])
    pairs["seconds"] = pairs["seconds"].astype(float)
    pairs["warnings"] = [" | ".join(json.loads(w)) if w != "[]" else "" for w in pairs["warnings"]]
    return pairs


def _shown_scores(store: Store, pairs: pd.DataFrame) -> tuple[ScoreColumns, np.ndarray,
                                                               list[tuple[str, str]]]:
    """The scores every run shows (its ``run_metrics`` at each profile's current engine
    version), sorted by run, pair, profile, metric; with each score's row in ``pairs`` and the
    ``(profile, metric)`` its code indexes. Vectorised on integer codes: a million rows in
    about a second (``benchmarks/bench_store_load.py``)."""
    metrics = store.metric_table()
    wanted = sorted({(profile, metric) for _, profile, metric in metrics})
    code = {item: i for i, item in enumerate(wanted)}
    cols = score_columns(store, wanted, current_versions())
    row = pd.Index(pairs["pair_id"]).get_indexer(cols.pair_id)  # -1: a pair added since
    run_of = pairs["run_id"].to_numpy(np.int64)[row]
    shown = np.array([run * len(wanted) + code[(p, m)] for run, p, m in metrics], dtype=np.int64)
    keep = np.flatnonzero((row >= 0) & np.isin(run_of * len(wanted) + cols.code, shown))
    keep = keep[np.lexsort((cols.code[keep], row[keep]))]  # pairs are in (run, pair) order
    shown_cols = ScoreColumns(cols.pair_id[keep], cols.code[keep], cols.value[keep],
                              cols.reason[keep])
    return shown_cols, row[keep], wanted


def _repeat(value: str, n: int) -> np.ndarray:
    """``value`` ``n`` times in an object array (a quarter of ``np.full``'s time).

    >>> _repeat("a", 2)
    array(['a', 'a'], dtype=object)
    """
    out = np.empty(n, dtype=object)
    out[:] = value
    return out


def _frames_from_store(store: Store) -> list[Run]:
    """Every run of the store with its tables (one bulk read for all runs)."""
    pairs = _pair_frame(store)
    scores, rows, wanted = _shown_scores(store, pairs)
    run_of = pairs["run_id"].to_numpy(np.int64)[rows]  # ascending: scores are in run order
    pair_names = pairs["pair"].to_numpy(object)[rows]
    conventions = np.array([p for p, _ in wanted], dtype=object)[scores.code]
    metric_names = np.array([m for _, m in wanted], dtype=object)[scores.code]
    pair_groups = dict(tuple(pairs.groupby("run_id", sort=False))) if len(pairs) else {}
    runs = []
    for row in store.runs():
        ident = {"method": row.method, "dataset": row.dataset, "subset": row.subset}
        start, stop = np.searchsorted(run_of, [row.id, row.id + 1])
        part = slice(int(start), int(stop))
        run_scores = pd.DataFrame({
            **{key: _repeat(value, stop - start) for key, value in ident.items()},
            "pair": pair_names[part], "metric": metric_names[part],
            "convention": conventions[part], "value": scores.value[part],
            "reason": scores.reason[part]})[[*SCORE_COLUMNS, "reason"]]
        run_pairs = pair_groups.get(row.id, pairs.iloc[:0])
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
