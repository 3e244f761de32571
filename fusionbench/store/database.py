"""The store of one results root: the one source of truth for runs, pairs and scores.

Worker processes only read (the score lookup); the calling process of a run is the only writer,
one transaction per pair. Several runs may write one root at the same time: each transaction
waits for the other's (busy timeout) and primary keys keep every row single.

>>> import tempfile
>>> store = Store.create(Path(tempfile.mkdtemp()))
>>> run = store.run_id("tno", "all", "average", create=True)
>>> rec = PairRecord("p1", "ok", images={"a": "1", "b": "2", "f": "3"}, scores=[
...     {"metric": "EN", "convention": "standard", "value": 6.5, "version": "1", "reason": ""}])
>>> store.save_pair(run, rec)
>>> store.add_run_metrics(run, [("standard", "EN")])
>>> store.run_scores(run, {"standard": "1"})
[('p1', 'EN', 'standard', 6.5, '')]
>>> store.run_scores(run, {"standard": "2"})  # a bumped engine version shows nothing stale
[]
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fusionbench.errors import RunLockedError
from fusionbench.store.model import ImageKey, PairRecord
from fusionbench.store.schema import STORE_FILE, connect, store_error


@dataclass(frozen=True)
class RunRow:
    """One stored run."""

    id: int
    dataset: str
    subset: str
    method: str
    manifest: dict[str, Any]


def _value(v: float) -> float | None:
    return None if math.isnan(v) else float(v)


def _image_ids(conn: sqlite3.Connection, shas: Iterable[str]) -> tuple[int, ...]:
    """The ids of these image sha256s, adding the unknown ones (inside a transaction)."""
    out = []
    for sha in shas:
        conn.execute("INSERT OR IGNORE INTO images (sha256) VALUES (?)", (sha,))
        out.append(conn.execute("SELECT id FROM images WHERE sha256 = ?", (sha,)).fetchone()[0])
    return tuple(out)


class Store:
    """The runs, pairs and scores under one results root (``<root>/fusionbench.sqlite``)."""

    def __init__(self, root: Path, conn: sqlite3.Connection) -> None:
        self.root = Path(root)
        self.path = self.root / STORE_FILE
        self._conn = conn

    @classmethod
    def create(cls, root: Path) -> Store:
        """Open the store of ``root``, making it if absent."""
        return cls(root, connect(Path(root) / STORE_FILE, create=True))

    @classmethod
    def open(cls, root: Path, *, readonly: bool = True) -> Store | None:
        """Open the store of ``root`` (for reading only unless ``readonly=False``); ``None``
        when there is none."""
        path = Path(root) / STORE_FILE
        if not path.is_file():
            return None
        return cls(root, connect(path, create=False, readonly=readonly))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self, doing: str) -> Iterator[sqlite3.Connection]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise store_error(exc, self.path, doing) from exc

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self._conn.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as exc:
            raise store_error(exc, self.path, "reading") from exc

    # runs -----------------------------------------------------------------------------------
    def run_id(self, dataset: str, subset: str, method: str, *, create: bool = False) -> int | None:
        """The id of a run (made when ``create``); ``None`` when it is not stored."""
        sql = "SELECT id FROM runs WHERE dataset = ? AND subset = ? AND method = ?"
        found = self._query(sql, (dataset, subset, method))
        if found or not create:
            return found[0][0] if found else None
        with self._transaction("adding a run") as conn:
            conn.execute("INSERT OR IGNORE INTO runs (dataset, subset, method) VALUES (?, ?, ?)",
                         (dataset, subset, method))
        return self._query(sql, (dataset, subset, method))[0][0]

    def run(self, dataset: str, subset: str, method: str) -> RunRow | None:
        """One stored run, or ``None``."""
        found = self._query("SELECT id, dataset, subset, method, manifest FROM runs WHERE "
                            "dataset = ? AND subset = ? AND method = ?", (dataset, subset, method))
        return RunRow(*found[0][:4], json.loads(found[0][4])) if found else None

    def runs(self) -> list[RunRow]:
        """Every stored run, sorted by dataset, subset, method."""
        rows = self._query("SELECT id, dataset, subset, method, manifest FROM runs "
                           "ORDER BY dataset, subset, method")
        return [RunRow(i, d, s, m, json.loads(man)) for i, d, s, m, man in rows]

    def _require_run(self, conn: sqlite3.Connection, run_id: int) -> None:
        """Refuse to write for a run that another process dropped (``clean``, ``--force``)
        while this one was writing it: nothing of it is stored after the drop."""
        if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
            raise RunLockedError(
                f"{self.root}: this run's results were dropped by another process (`fusionbench "
                "clean` or `--force`) while it was writing them; nothing more was stored: "
                "run it again")

    def set_manifest(self, run_id: int, manifest: Mapping[str, Any]) -> None:
        with self._transaction("writing a manifest") as conn:
            self._require_run(conn, run_id)
            conn.execute("UPDATE runs SET manifest = ? WHERE id = ?",
                         (json.dumps(manifest), run_id))

    def add_run_metrics(self, run_id: int, wanted: Iterable[tuple[str, str]]) -> None:
        """Add (profile, metric) pairs to what the run's tables show (never removes any)."""
        with self._transaction("recording the run's metrics") as conn:
            conn.executemany("INSERT OR IGNORE INTO run_metrics VALUES (?, ?, ?)",
                             [(run_id, p, m) for p, m in wanted])

    def run_metrics(self, run_id: int) -> list[tuple[str, str]]:
        return self._query("SELECT profile, metric FROM run_metrics WHERE run_id = ? "
                           "ORDER BY profile, metric", (run_id,))

    def drop_run(self, run_id: int) -> tuple[int, int]:
        """Delete a run with its pairs; scores no other pair refers to go too. Returns the
        numbers of pairs and of the run's scores dropped."""
        n_pairs = self._query("SELECT COUNT(*) FROM pairs WHERE run_id = ?", (run_id,))[0][0]
        n_scores = len(self.run_scores(run_id, None))
        with self._transaction("dropping a run") as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
            conn.execute("DELETE FROM scores WHERE NOT EXISTS (SELECT 1 FROM pairs p WHERE "
                         "p.a = scores.a AND p.b = scores.b AND p.f = scores.f)")
            conn.execute("DELETE FROM images WHERE id NOT IN (SELECT a FROM pairs WHERE a "
                         "NOT NULL UNION SELECT b FROM pairs WHERE b NOT NULL UNION SELECT f "
                         "FROM pairs WHERE f NOT NULL)")
        return n_pairs, n_scores

    # pairs ----------------------------------------------------------------------------------
    def pairs(self, run_id: int) -> dict[str, PairRecord]:
        """The stored pairs of a run (without scores), by pair name."""
        rows = self._query(
            "SELECT pair, status, reason, fused_path, a_path, b_path, seconds, fingerprint, "
            "ia.sha256, ib.sha256, i_f.sha256, warnings FROM pairs p "
            "LEFT JOIN images ia ON ia.id = p.a LEFT JOIN images ib ON ib.id = p.b "
            "LEFT JOIN images i_f ON i_f.id = p.f WHERE run_id = ?", (run_id,))
        out = {}
        for pair, status, reason, fused, a_path, b_path, secs, fp, a, b, f, warns in rows:
            images = {"a": a, "b": b, "f": f} if a is not None else {}
            out[pair] = PairRecord(pair, status, reason, fused, a_path, b_path, secs,
                                   fingerprint=fp, images=images, warnings=json.loads(warns))
        return out

    def pair_table(self) -> list[tuple]:
        """``(pair_id, run_id, pair, status, reason, fused_path, a_path, b_path, seconds,
        warnings)`` of every stored pair, sorted by run and pair (``warnings`` as JSON text;
        ``pair_id`` is the row's id that :meth:`score_table` refers to)."""
        return self._query("SELECT rowid, run_id, pair, status, reason, fused_path, a_path, "
                           "b_path, seconds, warnings FROM pairs ORDER BY run_id, pair")

    def score_table(self, versions: Mapping[str, str]) -> list[tuple]:
        """``(pair_id, profile, metric, value, reason)`` of every score of every ``ok`` pair
        at each profile's ``versions[profile]``, unfiltered by the runs' metrics (the bulk read
        behind ``load_results``, which filters with pandas; value ``None`` for NaN)."""
        if not versions:
            return []
        cases = " ".join("WHEN ? THEN ?" for _ in versions)
        return self._query(
            "SELECT p.rowid, s.profile, s.metric, s.value, s.reason "
            "FROM pairs p JOIN scores s ON s.a = p.a AND s.b = p.b AND s.f = p.f "
            f"WHERE p.status = 'ok' AND s.version = CASE s.profile {cases} END",
            [x for item in versions.items() for x in item])

    def metric_table(self) -> list[tuple]:
        """``(run_id, profile, metric)`` of every run."""
        return self._query("SELECT run_id, profile, metric FROM run_metrics")

    def save_pair(self, run_id: int, record: PairRecord) -> None:
        """Store one pair and its scores in one transaction (replaces the pair's row; a score
        already known for the same images and convention keeps its value)."""
        key = record.key if record.status == "ok" else None
        with self._transaction(f"storing pair {record.pair}") as conn:
            self._require_run(conn, run_id)
            ids = _image_ids(conn, (key.a, key.b, key.f)) if key else (None, None, None)
            conn.execute(
                "INSERT OR REPLACE INTO pairs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (run_id, record.pair, record.status, record.reason, record.fused_path,
                 record.a_path, record.b_path, float(record.seconds), record.fingerprint,
                 *ids, json.dumps(record.warnings)))
            if key is not None:
                conn.executemany(
                    "INSERT OR IGNORE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(*ids, s["convention"], s["version"], s["metric"],
                      _value(s["value"]), s.get("reason", "")) for s in record.scores])

    # scores ---------------------------------------------------------------------------------
    def lookup(self, key: ImageKey, profile: str, version: str,
               metrics: Iterable[str]) -> dict[str, tuple[float, str]]:
        """The known ``(value, reason)`` among ``metrics`` for these images and convention."""
        names = list(metrics)
        if not names:
            return {}
        marks = ",".join("?" * len(names))
        image = "(SELECT id FROM images WHERE sha256 = ?)"
        rows = self._query(
            f"SELECT metric, value, reason FROM scores WHERE a = {image} AND b = {image} "
            f"AND f = {image} AND profile = ? AND version = ? AND metric IN ({marks})",
            (key.a, key.b, key.f, profile, version, *names))
        return {m: (math.nan if v is None else float(v), r) for m, v, r in rows}

    def run_scores(self, run_id: int | None,
                   versions: Mapping[str, str] | None) -> list[tuple]:
        """``(pair, metric, profile, value, reason)`` of one run's ``ok`` pairs, sorted by
        pair, profile, metric (``run_id`` ``None``: ``(run_id, pair, ...)`` of every run, in no
        particular order). Only the run's ``run_metrics`` are shown, each profile at
        ``versions[profile]`` (``versions`` ``None``: at any version).

        The join keeps to the scores' primary key and the filtering happens here: SQLite
        plans the three-way join with the metric list and the versions ten times slower.
        """
        where, args = ("AND p.run_id = ? ", (run_id,)) if run_id is not None else ("", ())
        rows = self._query(
            "SELECT p.run_id, p.pair, s.metric, s.profile, s.version, s.value, s.reason "
            "FROM pairs p JOIN scores s ON s.a = p.a AND s.b = p.b AND s.f = p.f "
            f"WHERE p.status = 'ok' {where}", args)
        sql = "SELECT run_id, profile, metric FROM run_metrics"
        wanted = set(self._query(sql + " WHERE run_id = ?", (run_id,)) if run_id is not None
                     else self._query(sql))
        nan = math.nan
        kept = [(r, pair, metric, profile, nan if value is None else value, reason)
                for r, pair, metric, profile, version, value, reason in rows
                if (r, profile, metric) in wanted
                and (versions is None or versions.get(profile) == version)]
        if run_id is not None:
            return sorted((row[1:] for row in kept), key=lambda t: (t[0], t[2], t[1]))
        return kept

    def add_scores(self, rows: Iterable[tuple]) -> None:
        """Add content-addressed ``(a, b, f, profile, version, metric, value[, reason])`` rows
        (value ``None`` for NaN); known keys keep their value."""
        with self._transaction("adding scores") as conn:
            full = [(*_image_ids(conn, r[:3]), *r[3:], *([""] if len(r) == 7 else []))
                    for r in rows]
            conn.executemany("INSERT OR IGNORE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?)", full)

    def count_scores(self) -> int:
        """How many (content-addressed) scores the store holds."""
        return int(self._query("SELECT COUNT(*) FROM scores")[0][0])

    def integrity_problems(self) -> list[str]:
        """SQLite's own ``PRAGMA integrity_check`` and foreign-key check (empty: sound)."""
        found = [r[0] for r in self._query("PRAGMA integrity_check")]
        problems = [] if found == ["ok"] else found
        problems += [f"foreign key broken in {r[0]}" for r in
                     self._query("PRAGMA foreign_key_check")]
        return problems
