"""Comparing stored scores with a reference: one status per value."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fusionbench.regress.common import COLUMNS, FAILING, KEY, STATUS_ORDER
from fusionbench.regress.tolerances import Tolerances


@dataclass
class Comparison:
    """Row-by-row outcome (``rows``: KEY, reference, value, delta, tolerance, status, note)."""

    rows: Any
    not_checked: int = 0

    def count(self, status: str) -> int:
        return int((self.rows["status"] == status).sum())

    def failed(self, strict: bool = False) -> bool:
        bad = FAILING + (("better",) if strict else ())
        return bool(self.rows["status"].isin(bad).any())


def _direction(metric: str) -> bool | None:
    from fusionbench.metrics.catalog import METRICS

    info = METRICS.get(metric)
    return None if info is None else bool(info.higher_is_better)


def _status(ref: float, new: float, tol: float, higher: bool | None) -> str:
    if math.isnan(ref) and math.isnan(new):
        return "same"
    if math.isnan(ref) or math.isnan(new):
        return "changed"
    if ref == new or abs(new - ref) <= tol:
        return "same"
    if higher is None:
        return "changed"
    return "better" if (new > ref) == higher else "worse"


def compare(reference: Any, results: Any, tolerances: Tolerances, *,
            reasons: dict[tuple[str, ...], str] | None = None,
            exclude: Iterable[tuple[str, str]] = ()) -> Comparison:
    """Compare results with a reference, value by value.

    ``reasons`` maps ``(method, dataset, subset, pair)`` to why a pair has no scores (shown for
    missing values); reference rows of ``exclude``-d ``(dataset, subset)`` are not checked.
    """
    import pandas as pd

    reference = reference[COLUMNS]
    excluded = set(exclude)
    if excluded:
        skip = reference[["dataset", "subset"]].apply(tuple, axis=1).isin(excluded)
        not_checked = int(skip.sum())
        reference = reference[~skip]
    else:
        not_checked = 0
    results = results[COLUMNS].drop_duplicates(KEY, keep="last")
    merged = reference.rename(columns={"value": "reference"}).merge(
        results, on=KEY, how="outer", indicator="side")
    statuses, tols, notes = [], [], []
    directions: dict[str, bool | None] = {}
    for row in merged.itertuples(index=False):
        where = row._asdict()
        if where["side"] == "left_only":
            statuses.append("missing")
            tols.append(math.nan)
            pair_key = tuple(where[k] for k in ("method", "dataset", "subset", "pair"))
            notes.append((reasons or {}).get(pair_key, "no score in the results"))
            continue
        if where["side"] == "right_only":
            statuses.append("new")
            tols.append(math.nan)
            notes.append("")
            continue
        metric = where["metric"]
        if metric not in directions:
            directions[metric] = _direction(metric)
        ref, new = float(where["reference"]), float(where["value"])
        tol = tolerances.for_value(where["method"], metric, ref)
        statuses.append(_status(ref, new, tol, directions[metric]))
        tols.append(tol)
        notes.append("" if directions[metric] is not None else "metric has no direction")
    merged = merged.drop(columns="side").assign(status=statuses, tolerance=tols, note=notes)
    merged["delta"] = merged["value"] - merged["reference"]
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    merged = merged.sort_values(["status"] + KEY, key=lambda c: c.map(order)
                                if c.name == "status" else c, kind="mergesort")
    cols = KEY + ["reference", "value", "delta", "tolerance", "status", "note"]
    return Comparison(rows=pd.DataFrame(merged[cols]).reset_index(drop=True),
                      not_checked=not_checked)


