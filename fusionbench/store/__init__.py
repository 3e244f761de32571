"""The results store: one SQLite database per results root is the source of truth.

``<root>/fusionbench.sqlite`` (:mod:`fusionbench.store.schema`) holds every run, pair and
score; fused images stay on disk as lossless PNGs under ``<root>/<dataset>/<subset>/<method>/
fused/`` where people can browse them (the database records their hashes). ``scores.csv``,
``pairs.csv`` and ``manifest.json`` beside them are exports written from the database
(:mod:`fusionbench.store.exports`), never read back: ``report`` and ``regress`` read the
database (:mod:`fusionbench.store.read`).
"""

from fusionbench.store.database import RunRow, Store
from fusionbench.store.model import (
    PAIR_COLUMNS,
    SCORE_COLUMNS,
    STATUS_FAILED,
    STATUS_MISSING,
    STATUS_OK,
    ImageKey,
    PairRecord,
    RunPaths,
    array_sha256,
)
from fusionbench.store.schema import STORE_FILE, StoreError

__all__ = ["PAIR_COLUMNS", "SCORE_COLUMNS", "STATUS_FAILED", "STATUS_MISSING", "STATUS_OK",
           "STORE_FILE", "ImageKey", "PairRecord", "RunPaths", "RunRow", "Store", "StoreError",
           "array_sha256"]
