"""Read a results store (one folder per run) into pandas tables for the report.

Layout: ``<root>/<dataset>/<subset>/<method>/`` holding ``scores.csv`` (tidy:
``method,dataset,subset,pair,metric,convention,value``), ``pairs.csv``
(``method,dataset,subset,pair,status,reason,fused_path,a_path,b_path,seconds``) and
``manifest.json``. A run folder needs at least one of the three files. The names written
*inside* the files are authoritative (folder names may be sanitised). Where a run folder holds
per-pair records (``records/``, the runner's source of truth), the tables are built from them
and the exported CSV files are not read: an edited or duplicated export changes nothing, and
the pairs an interrupted run finished count. A folder with exported tables only is read from
its CSV files.

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
from fusionbench.results import PAIR_COLUMNS, SCORE_COLUMNS, RunPaths

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
        """All runs' scores in one tidy frame (columns :data:`SCORE_COLUMNS`)."""
        return _concat([r.scores for r in self.runs], SCORE_COLUMNS, ("value",))

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


def _frames_from_records(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A run folder's score and pair tables built from its per-pair records."""
    paths = RunPaths(folder.parents[2], folder.parent.parent.name, folder.parent.name,
                     folder.name)
    score_rows, pair_rows = paths.table_rows()
    scores = (pd.DataFrame(score_rows, columns=list(SCORE_COLUMNS)) if score_rows
              else _empty(SCORE_COLUMNS, ("value",)))
    pairs = (pd.DataFrame(pair_rows, columns=list(PAIR_COLUMNS)) if pair_rows
             else _empty(PAIR_COLUMNS, ("seconds",)))
    scores["value"] = scores["value"].astype(float)
    pairs["seconds"] = pairs["seconds"].astype(float)
    return scores, pairs


def load_run(folder: str | Path, root: str | Path | None = None) -> Run:
    """Read one run folder (``root`` only gives fallback names from the folder path)."""
    folder = Path(folder)
    root = Path(root) if root is not None else folder.parents[2]
    scores_path, pairs_path, manifest_path = (folder / n for n in RUN_FILES)
    if (folder / "records").is_dir():
        scores, pairs = _frames_from_records(folder)
    else:  # a folder of exported tables only (e.g. copied from elsewhere)
        scores = (_read_csv(scores_path, SCORE_COLUMNS, ("value",)) if scores_path.is_file()
                  else _empty(SCORE_COLUMNS, ("value",)))
        pairs = (_read_csv(pairs_path, PAIR_COLUMNS, ("seconds",)) if pairs_path.is_file()
                 else _empty(PAIR_COLUMNS, ("seconds",)))
        duplicated = scores.duplicated(list(SCORE_COLUMNS[:6]))
        if duplicated.any():
            row = scores[duplicated].iloc[0]
            raise ReportError(f"{scores_path}: {int(duplicated.sum())} duplicated score row(s), "
                              f"e.g. pair {row['pair']!r} {row['metric']} ({row['convention']})")
    manifest = _read_manifest(manifest_path) if manifest_path.is_file() else {}
    dataset, subset, method = _identity(folder, root, scores, pairs, manifest)
    return Run(dataset, subset, method, folder, scores, pairs, manifest)


def load_results(root: str | Path) -> Results:
    """Read every ``<dataset>/<subset>/<method>/`` run folder under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise ReportError(f"results folder {root} does not exist (run `fusionbench run` first "
                          "or pass --results)")
    folders = sorted({p.parent for name in (*RUN_FILES, "records")
                      for p in root.glob(f"*/*/*/{name}")})
    if not folders:
        raise ReportError(f"no runs found under {root} (expected "
                          "<dataset>/<subset>/<method>/ with scores.csv, pairs.csv, "
                          "manifest.json or records/)")
    runs = [load_run(f, root) for f in folders]
    seen: dict[tuple[str, str, str], Path] = {}
    for run in runs:
        key = (run.dataset, run.subset, run.method)
        if key in seen:
            raise ReportError(f"two run folders claim {'/'.join(key)}: {seen[key]} and {run.path}")
        seen[key] = run.path
    return Results(root, runs)
