"""Turning a comparison into the report ``fusionbench regress`` prints."""

from __future__ import annotations

import math
from typing import Any

from fusionbench.regress.common import FAILING, STATUS_ORDER
from fusionbench.regress.compare import Comparison


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.6g}"


def _relative(row: Any) -> str:
    if math.isnan(row.delta) or row.reference == 0 or math.isnan(row.reference):
        return ""
    return f"{100.0 * row.delta / abs(row.reference):+.3g}%"


def format_comparison(comp: Comparison, *, max_rows: int = 40, strict: bool = False) -> str:
    """A readable report: counts, then per status a summary line per (method, data, metric,
    convention) naming the pairs, then a table of the values."""
    rows = comp.rows
    total_ref = int((rows["status"] != "new").sum())
    counts = ", ".join(f"{comp.count(s)} {s}" for s in STATUS_ORDER if s != "same")
    lines = [f"regress: {total_ref} reference values checked: {comp.count('same')} within "
             f"tolerance, {counts}"
             + (f"; {comp.not_checked} not checked (data absent)" if comp.not_checked else "")]
    titles = {"worse": "WORSE beyond tolerance (in the metric's bad direction)",
              "changed": "CHANGED (NaN vs a number, or a metric without direction)",
              "missing": "MISSING from the results",
              "better": "better beyond tolerance (record it with --update if intended)",
              "new": "new (no reference value yet; add them with --update)"}
    for status in STATUS_ORDER[:-1]:
        part = rows[rows["status"] == status]
        if part.empty:
            continue
        flag = "FAIL" if status in FAILING or (strict and status == "better") else "note"
        lines.append("")
        lines.append(f"[{flag}] {titles[status]}: {len(part)} value(s)")
        for (method, dataset, subset, metric, conv), grp in part.groupby(
                ["method", "dataset", "subset", "metric", "convention"], sort=True):
            pairs = sorted(grp["pair"].unique())
            shown = ", ".join(pairs[:12]) + (f" (+{len(pairs) - 12} more)" if len(pairs) > 12
                                             else "")
            lines.append(f"  {metric} ({conv}) {status} for {method} on {dataset}/{subset}: "
                         f"{shown}")
        if status in ("new",):
            continue
        lines.append(_table(part, max_rows))
    if comp.failed(strict):
        lines.append("\nregress: FAILED (worse, changed or missing values above)")
    else:
        lines.append("\nregress: OK")
    return "\n".join(lines)


def _table(part: Any, max_rows: int) -> str:
    head = ["method", "dataset/subset", "pair", "metric", "conv", "reference", "now", "change",
            "tolerance", "note"]
    body = []
    for row in part.head(max_rows).itertuples(index=False):
        body.append([row.method, f"{row.dataset}/{row.subset}", row.pair, row.metric,
                     row.convention, _fmt(row.reference), _fmt(row.value), _relative(row),
                     _fmt(row.tolerance), row.note])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    out = ["    " + "  ".join(str(h).ljust(w) for h, w in zip(head, widths, strict=True))]
    out += ["    " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
            for r in body]
    if len(part) > max_rows:
        out.append(f"    ... {len(part) - max_rows} more row(s) (--max-rows to show them)")
    return "\n".join(out)


def failure_reasons(pairs: Any) -> dict[tuple[str, ...], str]:
    """``(method, dataset, subset, pair) -> "failed: reason"`` from a results ``pairs`` table."""
    out: dict[tuple[str, ...], str] = {}
    if pairs is None or len(pairs) == 0:
        return out
    for row in pairs.itertuples(index=False):
        if row.status != "ok":
            out[(row.method, row.dataset, str(row.subset), str(row.pair))] = (
                f"pair {row.status}: {row.reason}".strip())
    return out


