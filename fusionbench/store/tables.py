"""A run's tidy tables as the database holds them: the rows of ``scores.csv`` and ``pairs.csv``.

Every reader (the exports, ``report``, ``regress``, ``verify``) builds its tables here, so
there is one answer to "what are this run's scores".
"""

from __future__ import annotations

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
