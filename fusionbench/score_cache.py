"""The content-addressed score cache: a score is a pure function of three images and a convention.

One SQLite file per results root (``<root>/scores.sqlite``) holds every score ever computed
there, keyed by ``(sha256 of A, B and F as decoded, profile, the profile's engine version,
metric)``. The primary key makes a duplicated score impossible; the WAL journal lets worker
processes read while the one writing process (the runner's calling process) adds rows, one
transaction per pair; a busy timeout makes a second process wait instead of failing.

So the same images under another run name, another folder or another dataset cost no scoring;
other images, other weights or a bumped engine version (``Profile.version``) can never be
answered from an old score.

>>> import numpy as np, tempfile
>>> cache = ScoreCache(Path(tempfile.mkdtemp()) / "scores.sqlite")
>>> key = ImageKey.of(np.zeros((2, 2)), np.ones((2, 2)), np.zeros((2, 2)))
>>> cache.add(key, "standard", "1", {"EN": 0.0, "VIF": float("nan")})
>>> cache.lookup(key, "standard", "1", ["EN", "VIF"])
{'EN': 0.0, 'VIF': nan}
>>> cache.lookup(key, "standard", "2", ["EN"])  # another engine version: not known
{}
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fusionbench.errors import FusionbenchError

CACHE_FILE = "scores.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    a TEXT NOT NULL, b TEXT NOT NULL, f TEXT NOT NULL,
    profile TEXT NOT NULL, version TEXT NOT NULL, metric TEXT NOT NULL,
    value REAL,            -- NULL stands for NaN (SQLite has no NaN)
    PRIMARY KEY (a, b, f, profile, version, metric)
) WITHOUT ROWID;
"""
BUSY_TIMEOUT_MS = 60_000


class ScoreCacheError(FusionbenchError):
    """The score cache file cannot be opened or written."""


def array_sha256(image: np.ndarray) -> str:
    """sha256 of a decoded image: its dtype, shape and pixel bytes.

    >>> array_sha256(np.zeros((2, 2), np.uint8)) == array_sha256(np.zeros((2, 2), np.uint16))
    False
    """
    image = np.ascontiguousarray(image)
    digest = hashlib.sha256(f"{image.dtype.str}{image.shape}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ImageKey:
    """The three decoded images a score is a function of, by their sha256."""

    a: str
    b: str
    f: str

    @classmethod
    def of(cls, a: np.ndarray, b: np.ndarray, fused: np.ndarray) -> ImageKey:
        return cls(array_sha256(a), array_sha256(b), array_sha256(fused))


def _set_up(conn: sqlite3.Connection) -> None:
    """Switch to the WAL journal and create the table. SQLite answers "database is locked" at
    once, without its busy handler, when several processes make the file at the same moment,
    so this waits and tries again, up to the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class ScoreCache:
    """Read and add scores of one results root's cache file (opened lazily)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                _set_up(conn)
            except (OSError, sqlite3.Error) as exc:
                raise ScoreCacheError(f"{self.path}: score cache cannot be opened ({exc})") from exc
            self._conn = conn
        return self._conn

    def lookup(self, key: ImageKey, profile: str, version: str,
               metrics: Iterable[str]) -> dict[str, float]:
        """The known scores among ``metrics`` for these images and convention."""
        names = list(metrics)
        if not names:
            return {}
        marks = ",".join("?" * len(names))
        try:
            rows = self._connect().execute(
                f"SELECT metric, value FROM scores WHERE a=? AND b=? AND f=? AND profile=? "
                f"AND version=? AND metric IN ({marks})",
                (key.a, key.b, key.f, profile, version, *names)).fetchall()
        except sqlite3.Error as exc:
            raise ScoreCacheError(f"{self.path}: score cache cannot be read ({exc})") from exc
        return {m: (math.nan if v is None else float(v)) for m, v in rows}

    def add(self, key: ImageKey, profile: str, version: str,
            values: Mapping[str, float]) -> None:
        """Store scores (one transaction); an already known key keeps its value."""
        rows = [(key.a, key.b, key.f, profile, version, m,
                 None if math.isnan(v) else float(v)) for m, v in values.items()]
        conn = self._connect()
        try:
            with conn:
                conn.executemany("INSERT OR IGNORE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 rows)
        except sqlite3.Error as exc:
            raise ScoreCacheError(f"{self.path}: score cache cannot be written ({exc})") from exc

    def create(self) -> None:
        """Create the file and its table if absent (readers in other processes need it)."""
        self._connect()

    def count(self) -> int:
        """How many scores the cache holds."""
        return int(self._connect().execute("SELECT COUNT(*) FROM scores").fetchone()[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
