"""The results store: one folder per (dataset, subset, method) run.

Layout under a results root (default ``results/``)::

    <root>/<dataset>/<subset>/<method>/
        fused/<pair>.png       lossless fused images (not for published methods)
        records/<pair>.json    one record per pair, written atomically (the source of truth)
        scores.csv             tidy: method,dataset,subset,pair,metric,convention,value
        pairs.csv              method,dataset,subset,pair,status,reason,fused_path,
                               a_path,b_path,seconds
        manifest.json          resolved config, versions, git revision, times, counts
        .lock                  held while a run writes here

The records are the source of truth. ``scores.csv`` and ``pairs.csv`` are exports written from
them (so a run killed at any point leaves no half-written table, and re-running never
duplicates a row); readers (``report``, ``regress``) build their tables from the records, so an
edited export changes no reported number.

>>> RunPaths(Path("results"), "tno", "all", "average").scores_csv.as_posix()
'results/tno/all/average/scores.csv'
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fusionbench.atomic import atomic_write_text
from fusionbench.errors import FusionbenchError, RunLockedError

SCORE_COLUMNS = ("method", "dataset", "subset", "pair", "metric", "convention", "value")
PAIR_COLUMNS = ("method", "dataset", "subset", "pair", "status", "reason", "fused_path",
                "a_path", "b_path", "seconds")
STATUS_OK, STATUS_FAILED, STATUS_MISSING = "ok", "failed", "missing"


class OutputFolderError(FusionbenchError):
    """The results folder cannot be created or written."""


@dataclass
class PairRecord:
    """What happened to one pair: status, reason, files, timing and its scores."""

    pair: str
    status: str
    reason: str = ""
    fused_path: str = ""
    a_path: str = ""
    b_path: str = ""
    seconds: float = 0.0
    scores: list[dict[str, Any]] = field(default_factory=list)
    #: sha256 of the files the scores came from (A, B and a published fused file), see
    #: :func:`fusionbench.runner.input_fingerprint`; a record whose inputs changed is redone.
    fingerprint: str = ""
    #: sha256 of the decoded A, B and fused images (keys of the score cache,
    #: :mod:`fusionbench.score_cache`).
    images: dict[str, str] = field(default_factory=dict)

    def covers(self, metrics: Iterable[str], convention: str, version: str) -> bool:
        """Whether this record holds every requested metric of ``convention`` computed at its
        engine ``version``."""
        have = {(s["metric"], s["convention"], s.get("version")) for s in self.scores}
        return all((m, convention, version) in have for m in metrics)


@dataclass(frozen=True)
class RunPaths:
    """The files of one run folder."""

    root: Path
    dataset: str
    subset: str
    method: str

    @property
    def run_dir(self) -> Path:
        return self.root / self.dataset / self.subset / self.method

    @property
    def fused_dir(self) -> Path:
        return self.run_dir / "fused"

    @property
    def records_dir(self) -> Path:
        return self.run_dir / "records"

    @property
    def scores_csv(self) -> Path:
        return self.run_dir / "scores.csv"

    @property
    def pairs_csv(self) -> Path:
        return self.run_dir / "pairs.csv"

    @property
    def manifest(self) -> Path:
        return self.run_dir / "manifest.json"

    def record_path(self, pair: str) -> Path:
        return self.records_dir / f"{pair}.json"

    def write_record(self, record: PairRecord) -> None:
        """Store one pair's record atomically."""
        atomic_write_text(self.record_path(record.pair), json.dumps(asdict(record), indent=1))

    def read_record(self, pair: str) -> PairRecord | None:
        """The stored record of a pair, or ``None``: an unreadable record, one whose ``pair``
        field is not its file's name, or one holding a (metric, convention) twice counts as
        absent (the run redoes it; readers skip it)."""
        path = self.record_path(pair)
        try:
            record = PairRecord(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None
        keys = [(s.get("metric"), s.get("convention")) for s in record.scores
                if isinstance(s, dict)]
        if (record.pair != pair or len(keys) != len(record.scores)
                or len(set(keys)) != len(keys)):
            return None
        return record

    def records(self) -> list[PairRecord]:
        """All stored records, sorted by pair name."""
        if not self.records_dir.is_dir():
            return []
        found = (self.read_record(p.stem) for p in sorted(self.records_dir.glob("*.json")))
        return [r for r in found if r is not None]

    def table_rows(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The rows of ``scores.csv`` and ``pairs.csv``, built from the records (the source of
        truth: readers use these, never the exported CSV files)."""
        records = self.records()
        key = {"method": self.method, "dataset": self.dataset, "subset": self.subset}
        score_rows = [{**key, "pair": r.pair, **{c: s[c] for c in SCORE_COLUMNS[4:]}}
                      for r in records for s in r.scores]
        pair_rows = [{**key, **{c: getattr(r, c) for c in PAIR_COLUMNS if c not in key}}
                     for r in records]
        return score_rows, pair_rows

    def write_tables(self) -> tuple[int, int]:
        """Export ``scores.csv`` and ``pairs.csv`` from the records; returns row counts.
        The exports are outputs for people and other tools, never read back."""
        score_rows, pair_rows = self.table_rows()
        atomic_write_text(self.scores_csv, _to_csv(SCORE_COLUMNS, score_rows))
        atomic_write_text(self.pairs_csv, _to_csv(PAIR_COLUMNS, pair_rows))
        return len(score_rows), len(pair_rows)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this run folder exclusively; a second writer gets :class:`RunLockedError`."""
        path = self.run_dir / ".lock"
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
        except OSError as exc:
            raise OutputFolderError(f"{self.run_dir}: output folder is not writable "
                                    f"({exc.strerror or exc})") from exc
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                fh.seek(0)
                holder = fh.read().strip() or "unknown"
                raise RunLockedError(
                    f"{self.run_dir}: another fusionbench run ({holder}) is writing here; "
                    "nothing was changed. Wait for it to finish or use another --out.") from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"pid {os.getpid()}")
            fh.flush()
            yield
        finally:
            fh.close()


def _to_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buf.getvalue()


@dataclass(frozen=True)
class DroppedRun:
    """What :func:`drop_runs` removed (or would remove): one run folder and its counts."""

    path: Path
    n_pairs: int
    n_scores: int


def drop_runs(root: Path, *, dataset: str | None = None, subset: str | None = None,
              method: str | None = None, dry_run: bool = True) -> list[DroppedRun]:
    """Remove the run folders under ``root`` that match every given name (the only way results
    are dropped); ``dry_run`` only lists them. Each folder is removed under its lock.

    >>> drop_runs(Path("/nonexistent"))
    []
    """
    import shutil

    dropped = []
    for run_dir in sorted(Path(root).glob("*/*/*")):
        if not (run_dir.is_dir() and ((run_dir / "records").is_dir()
                                      or (run_dir / "manifest.json").is_file())):
            continue
        parts = run_dir.relative_to(root).parts
        if any(want is not None and want != have
               for want, have in zip((dataset, subset, method), parts, strict=True)):
            continue
        paths = RunPaths(Path(root), *parts)
        records = paths.records()
        dropped.append(DroppedRun(run_dir, len(records), sum(len(r.scores) for r in records)))
        if not dry_run:
            with paths.lock():
                for child in run_dir.iterdir():
                    if child.name != ".lock":
                        shutil.rmtree(child) if child.is_dir() else child.unlink()
            (run_dir / ".lock").unlink(missing_ok=True)
            run_dir.rmdir()
    return dropped
