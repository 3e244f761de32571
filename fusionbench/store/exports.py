"""Exports for people and other tools, written from the database and never read back:
``scores.csv``, ``pairs.csv`` and ``manifest.json`` in each run folder.

>>> _to_csv(("a", "b"), [{"a": 1, "b": 0.1}])
'a,b\\n1,0.1\\n'
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from fusionbench.atomic import atomic_write_text
from fusionbench.store.database import RunRow, Store
from fusionbench.store.model import (
    PAIR_COLUMNS,
    PAIR_EXTRA_COLUMNS,
    SCORE_COLUMNS,
    SCORE_EXTRA_COLUMNS,
    RunPaths,
)
from fusionbench.store.tables import pair_rows, score_rows

SCORE_EXPORT_COLUMNS = SCORE_COLUMNS + SCORE_EXTRA_COLUMNS
PAIR_EXPORT_COLUMNS = PAIR_COLUMNS + PAIR_EXTRA_COLUMNS


def _to_csv(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in row.items()})
    return buf.getvalue()


def export_texts(store: Store, run: RunRow) -> dict[str, str]:
    """What each export file of ``run`` should hold now, by file name."""
    return {"scores.csv": _to_csv(SCORE_EXPORT_COLUMNS, score_rows(store, run)),
            "pairs.csv": _to_csv(PAIR_EXPORT_COLUMNS, pair_rows(store, run)),
            "manifest.json": json.dumps(run.manifest, indent=1)}


def write_exports(store: Store, run: RunRow, root: Path) -> RunPaths:
    """Write the three exports of ``run`` into its folder under ``root``."""
    paths = RunPaths(Path(root), run.dataset, run.subset, run.method)
    for name, text in export_texts(store, run).items():
        atomic_write_text(paths.run_dir / name, text)
    return paths
