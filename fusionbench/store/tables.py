"""A run's tidy tables as the database holds them: the rows of ``scores.csv`` and ``pairs.csv``.

Every reader (the exports, ``report``, ``regress``, ``verify``) builds its tables here, so
there is one answer to "what are this run's scores".
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from fusionbench.store.database import RunRow, Store
from fusionbench.store.model import PAIR_COLUMNS


def current_versions() -> dict[str, str]:
    """Each metric profile's engine version in this code (scores of another version are
    never shown)."""
    from fusionbench.metrics import PROFILES

    return {name: prof.version for name, prof in PROFILES.items()}


def score_rows(store: Store, run: RunRow,
               versions: dict[str, str] | None = None) -> list[dict]:
    """The run's score rows (``SCORE_COLUMNS`` + ``reason``), sorted by pair, profile, metric."""
    versions = current_versions() if versions is None else versions
    key = {"method": run.method, "dataset": run.dataset, "subset": run.subset}
    return [{**key, "pair": pair, "metric": metric, "convention": profile, "value": value,
             "reason": reason}
            for pair, metric, profile, value, reason in store.run_scores(run.id, versions)]


def pair_rows(store: Store, run: RunRow) -> list[dict]:
    """The run's pair rows (``PAIR_COLUMNS`` + ``warnings``), sorted by pair."""
    key = {"method": run.method, "dataset": run.dataset, "subset": run.subset}
    records = store.pairs(run.id)
    return [{**key, **{c: getattr(rec, c) for c in PAIR_COLUMNS if c not in key},
             "warnings": " | ".join(rec.warnings)}
            for _, rec in sorted(records.items())]


@dataclass(frozen=True)
class ScoreColumns:
    """Scores of many pairs as numpy columns (one entry per score): the pair's row id in the
    store, the index of its ``(profile, metric)`` in the ``wanted`` list it was read with, the
    value (NaN for a NaN score) and the reason a value is NaN ("" otherwise)."""

    pair_id: np.ndarray
    code: np.ndarray
    value: np.ndarray
    reason: np.ndarray


def score_columns(store: Store, wanted: Sequence[tuple[str, str]],
                  versions: dict[str, str] | None = None) -> ScoreColumns:
    """Every score of every ``ok`` pair whose ``(profile, metric)`` is in ``wanted``, at each
    profile's current engine version, as :class:`ScoreColumns` (store order)."""
    versions = current_versions() if versions is None else versions
    rows = store.score_table(versions, wanted)
    if not rows:
        empty = np.array([], dtype=np.int64)
        return ScoreColumns(empty, empty, np.array([], dtype=float),
                            np.array([], dtype=object))
    n = len(rows)  # one pass per column (np.fromiter): 5x faster than zip(*rows) here
    columns = ScoreColumns(
        np.fromiter((r[0] for r in rows), np.int64, n),
        np.fromiter((r[1] for r in rows), np.int64, n),
        np.fromiter((math.nan if r[2] is None else r[2] for r in rows), float, n),
        np.fromiter((r[3] for r in rows), object, n))
    keep = columns.code >= 0
    if keep.all():
        return columns
    return ScoreColumns(columns.pair_id[keep], columns.code[keep], columns.value[keep],
                        columns.reason[keep])
