"""Machine-readable outputs: ``report.json`` (every table) and the CSV files.

``report.json`` holds, per table: dataset, subset, profile, which table (``main``: the ranked
set over the reference pairs, partial methods unranked; ``shared``: every method over the pairs
all share), the pairs, and per row the method, its label, ranked-set membership, n and per metric
mean, std, n and rank (``null`` when not ranked); then the significance tests and the paper
comparison. NaN is written as ``null``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from fusionbench.report.paper import PaperTable, paper_records
from fusionbench.report.significance import significance_records
from fusionbench.report.tables import table_frame

JSON_VERSION = 1


def _clean(value: Any) -> Any:
    """NaN / inf to ``None``, recursively (JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _table_json(block: Any) -> dict[str, Any]:
    table = block.table
    rows = []
    for row in table.rows:
        rows.append({
            "method": row.method, "label": row.label, "ranked": row.ranked, "n": row.n,
            "cells": {col.name: {"mean": cell.mean, "std": cell.std, "n": cell.n,
                                 "rank": cell.rank, "note": cell.note(row.n),
                                 "nonfinite": [{"pair": v.pair, "value": v.kind,
                                                "reason": v.reason} for v in cell.nonfinite]}
                      for col, cell in zip(table.columns, row.cells, strict=True)},
        })
    return {
        "id": block.table_id, "dataset": table.dataset, "subset": table.subset,
        "profile": table.convention, "table": table.scope, "caption": table.caption,
        "pairs": list(table.pairs), "n_pairs_table": len(table.pairs),
        "n_pairs_in_set": table.n_pairs, "notes": list(table.notes),
        "nonfinite_notes": table.nonfinite_notes,
        "columns": [{"metric": c.name, "higher_is_better": c.higher_is_better}
                    for c in table.columns],
        "rows": rows, "ranked_set": [r.method for r in table.ranked_rows],
        "significance": significance_records(table, block.comparisons),
        "figures": list(block.figures),
    }


def report_dict(groups: Sequence[Any], paper_tables: Sequence[PaperTable],
                context: dict[str, Any], selection: Any) -> dict[str, Any]:
    """Everything ``report.json`` holds, as plain Python data."""
    return _clean({
        "version": JSON_VERSION, "generated": context["generated"], "results": context["root"],
        "selection": {"preset": selection.preset.name if selection.preset else None,
                      "methods": selection.methods, "metrics": selection.metrics,
                      "profiles": selection.profiles},
        "groups": [{"dataset": g.dataset, "subset": g.subset, "n_pairs": g.n_pairs,
                    "synthetic_data": g.synthetic, "notes": g.notes,
                    "runs": [{"method": r.method, "label": r.label, "n_listed": r.n_listed,
                              "n_ok": r.n_ok, "n_failed": len(r.failed),
                              "warnings": [{"pair": p, "warning": w} for p, w in r.warnings]}
                             for r in g.runs],
                    "grids": [{"pair": p, "path": src} for p, src in g.grids]}
                   for g in groups],
        "tables": [_table_json(b) for g in groups for b in g.tables],
        "paper": {"source": context["paper_path"], "status": context["paper_status"],
                  "tables": [{"caption": t.caption, "statements": list(t.statements),
                              "rows": [r for r in paper_records([t])]}
                             for t in paper_tables]},
    })


def write_json(groups: Sequence[Any], paper_tables: Sequence[PaperTable],
               context: dict[str, Any], selection: Any, path: Path) -> None:
    """Write ``report.json`` (strict JSON: no NaN)."""
    data = report_dict(groups, paper_tables, context, selection)
    path.write_text(json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False) + "\n",
                    encoding="utf-8")


def write_csv(groups: Sequence[Any], paper_tables: Sequence[PaperTable], out_dir: Path) -> None:
    """``tables.csv``, ``significance.csv`` and ``paper_vs_measured.csv``."""
    blocks = [b for g in groups for b in g.tables]
    frames = [table_frame(b.table) for b in blocks]
    sig = [r for b in blocks for r in significance_records(b.table, b.comparisons)]
    if frames:
        pd.concat(frames, ignore_index=True).to_csv(out_dir / "tables.csv", index=False)
    if sig:
        pd.DataFrame.from_records(sig).to_csv(out_dir / "significance.csv", index=False)
    pd.DataFrame.from_records(paper_records(paper_tables)).to_csv(
        out_dir / "paper_vs_measured.csv", index=False)
