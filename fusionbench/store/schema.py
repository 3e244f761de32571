"""The store's SQLite schema and how a connection to it is opened.

One file per results root, ``<root>/fusionbench.sqlite``: WAL journal (readers never wait for
the writer), foreign keys on, a busy timeout so that a second writing process waits instead of
failing, and primary keys that make a duplicated run, pair or score impossible.

Tables:

``runs``
    one row per (dataset, subset, method label); ``manifest`` is the run's JSON manifest.
``run_metrics``
    every (profile, metric) ever asked of the run: its table shows these (merge, never wipe).
``images``
    the sha256 of every decoded image the store has scores of, by a small integer id (the keys
    of ``pairs`` and ``scores``: integer joins keep a million-row read fast).
``pairs``
    one row per (run, pair): status, reason, files, the sha256 of the files behind it
    (``fingerprint``) and the ids of its three decoded images (``a``, ``b``, ``f``).
``scores``
    content-addressed: (a, b, f, profile, engine version, metric) -> value, NaN reason. A run's
    scores are its ``ok`` pairs' images joined with its ``run_metrics`` at each profile's current
    engine version, so an old engine version's numbers are never shown.
"""

from __future__ import annotations

import sqlite3
import time
from functools import partial
from pathlib import Path

from fusionbench.atomic import link_new_file
from fusionbench.errors import FusionbenchError, OutputError, RunLockedError

STORE_FILE = "fusionbench.sqlite"
SCHEMA_VERSION = "2"
BUSY_TIMEOUT_MS = 60_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS images (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    dataset TEXT NOT NULL, subset TEXT NOT NULL, method TEXT NOT NULL,
    manifest TEXT NOT NULL DEFAULT '{}',
    UNIQUE (dataset, subset, method)
);
CREATE TABLE IF NOT EXISTS run_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    profile TEXT NOT NULL, metric TEXT NOT NULL,
    PRIMARY KEY (run_id, profile, metric)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pairs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    pair TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed', 'missing')),
    reason TEXT NOT NULL DEFAULT '',
    fused_path TEXT NOT NULL DEFAULT '', a_path TEXT NOT NULL DEFAULT '',
    b_path TEXT NOT NULL DEFAULT '', seconds REAL NOT NULL DEFAULT 0,
    fingerprint TEXT NOT NULL DEFAULT '',
    a INTEGER REFERENCES images(id), b INTEGER REFERENCES images(id),
    f INTEGER REFERENCES images(id),
    warnings TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (run_id, pair),
    CHECK (status != 'ok' OR (a IS NOT NULL AND b IS NOT NULL AND f IS NOT NULL))
);
CREATE INDEX IF NOT EXISTS pairs_by_images ON pairs (a, b, f);
CREATE TABLE IF NOT EXISTS scores (
    a INTEGER NOT NULL REFERENCES images(id), b INTEGER NOT NULL REFERENCES images(id),
    f INTEGER NOT NULL REFERENCES images(id),
    profile TEXT NOT NULL, version TEXT NOT NULL, metric TEXT NOT NULL,
    value REAL,                          -- NULL stands for NaN (SQLite has no NaN)
    reason TEXT NOT NULL DEFAULT '',     -- why the value is NaN
    PRIMARY KEY (a, b, f, profile, version, metric)
) WITHOUT ROWID;
"""


class StoreError(FusionbenchError):
    """The store file is not usable (corrupt, another program's file, a newer schema)."""


def store_error(exc: sqlite3.Error, path: Path, doing: str) -> FusionbenchError:
    """The project error for an SQLite failure while ``doing`` something with ``path``.

    >>> store_error(sqlite3.OperationalError("database or disk is full"), Path("r/x.sqlite"),
    ...             "writing").exit_code
    6
    """
    text = str(exc)
    if "disk is full" in text or "disk I/O error" in text:
        return OutputError(path.parent, f"the disk is full or failing while {doing} {path.name} "
                           f"({text}); free space and run again: finished pairs are kept")
    if "readonly" in text or "unable to open" in text:
        return OutputError(path.parent, f"{path.name} cannot be opened ({text}) while {doing}")
    if "locked" in text or "busy" in text:
        return RunLockedError(f"{path}: another fusionbench process kept the store busy for "
                              f"{BUSY_TIMEOUT_MS // 1000} s while {doing}; nothing was changed. "
                              "Run again when it is done.")
    return StoreError(f"{path}: the results store cannot be used while {doing} ({text}); "
                      "`fusionbench verify` checks it")


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; on a read-only file system (where SQLite cannot make the WAL
    index beside the file) the file is opened as immutable: nobody can change it there."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                           isolation_level=None)
    try:
        conn.execute("SELECT 1 FROM meta LIMIT 1").fetchall()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if "unable to open" not in str(exc):
            raise
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True, isolation_level=None)


def _write_schema(path: Path, *, store: Path) -> None:
    """Fill the empty file ``path`` with an empty store (rollback journal: the file alone is
    the whole store, ready to be linked into place as ``store``, the name errors give)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(SCHEMA)
        conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
    except sqlite3.Error as exc:
        raise store_error(exc, store, "creating") from exc
    finally:
        conn.close()


def connect(path: Path, *, create: bool, readonly: bool = False) -> sqlite3.Connection:
    """Open (and with ``create`` make) the store file at ``path``; ``readonly`` for readers
    (``report``, ``regress``, ``verify``, workers), which then also work on a read-only copy.

    SQLite answers "database is locked" at once, without its busy handler, when several
    processes switch a new file to WAL at the same moment, so setting up waits and tries again,
    up to the busy timeout.
    """
    path = Path(path)
    try:
        if create and not path.exists():
            link_new_file(path, partial(_write_schema, store=path))
        if readonly and not create:
            conn = _open_read_only(path)
        else:
            uri = f"file:{path}?mode={'rwc' if create else 'rw'}"
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                                   isolation_level=None)
    except OSError as exc:
        raise OutputError(path.parent, f"cannot create the store ({exc.strerror or exc})") from exc
    except sqlite3.Error as exc:
        raise store_error(exc, path, "opening") from exc
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not readonly:
                conn.execute("PRAGMA foreign_keys = ON")
            if create:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(SCHEMA)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            found = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            break
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) and time.monotonic() < deadline:
                time.sleep(0.02)
                continue
            conn.close()
            raise store_error(exc, path, "opening") from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise store_error(exc, path, "opening") from exc
    if found is None or found[0] != SCHEMA_VERSION:
        conn.close()
        raise StoreError(f"{path}: store schema {found[0] if found else 'unknown'} is not the "
                         f"{SCHEMA_VERSION} this fusionbench reads")
    return conn
