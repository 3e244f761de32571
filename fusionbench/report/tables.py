"""Summary tables: methods x metrics means for one (dataset, subset, convention).

Ranking rule (documented in ``reports/README.md``): per metric column, means are rounded to
the displayed number of digits, then ranked densely in the metric's better direction, so the
three best *distinct* displayed values get ranks 1, 2, 3 and equal values share a rank. NaN
means, and metrics whose direction is unknown, are never ranked.

>>> rank_values([1.0, 3.0, 3.0, float("nan"), 2.0], higher_is_better=True)
[3, 1, 1, None, 2]
>>> rank_values([0.5, 0.2], higher_is_better=False)
[2, 1]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from fusionbench.metrics.catalog import METRICS, PAPER_METRICS


def metric_order(names: Iterable[str]) -> list[str]:
    """The paper's six metrics first (in paper order), then the others alphabetically.

    >>> metric_order(["SSIM", "SF", "CE", "EN"])
    ['EN', 'SF', 'CE', 'SSIM']
    """
    names = set(names)
    first = [m for m in PAPER_METRICS if m in names]
    return first + sorted(names - set(first), key=lambda s: (s.lower(), s))


def direction(metric: str) -> bool | None:
    """``True`` if higher is better, ``False`` if lower is, ``None`` if unknown.

    >>> direction("RMSE"), direction("EN"), direction("mystery")
    (False, True, None)
    """
    info = METRICS.get(metric)
    return None if info is None else info.higher_is_better


def rank_values(values: Sequence[float], higher_is_better: bool | None,
                digits: int | None = None) -> list[int | None]:
    """Dense ranks (1 = best); NaN or unknown direction gives ``None``."""
    if higher_is_better is None:
        return [None] * len(values)
    keys = [None if v is None or not math.isfinite(v) else
            (round(v, digits) if digits is not None else v) for v in values]
    distinct = sorted({k for k in keys if k is not None}, reverse=higher_is_better)
    position = {k: i + 1 for i, k in enumerate(distinct)}
    return [None if k is None else position[k] for k in keys]


@dataclass(frozen=True)
class Cell:
    """One method's statistics for one metric."""

    mean: float
    std: float
    n: int
    rank: int | None = None


@dataclass(frozen=True)
class Column:
    """A metric column with its direction (``None`` if the metric is not in the catalog)."""

    name: str
    higher_is_better: bool | None

    @property
    def arrow(self) -> str:
        """``↑``, ``↓`` or ``?``."""
        return {True: "↑", False: "↓", None: "?"}[self.higher_is_better]


@dataclass(frozen=True)
class Row:
    """A method's row; ``n`` is the number of distinct pairs it has scores for."""

    method: str
    n: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class SummaryTable:
    """Methods (rows) x metrics (columns) for one dataset subset and convention."""

    dataset: str
    subset: str
    convention: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    n_pairs: int | None
    digits: int = 4

    @property
    def show_n(self) -> bool:
        """Whether the ``n`` column is needed (n differs between methods or from the set)."""
        counts = {r.n for r in self.rows}
        return len(counts) > 1 or (self.n_pairs is not None and counts != {self.n_pairs})

    @property
    def key(self) -> str:
        """``dataset/subset/convention`` (for file names, after slugging)."""
        return f"{self.dataset}/{self.subset}/{self.convention}"

    @property
    def caption(self) -> str:
        """Plain-text caption naming the dataset, subset and the convention (profile)."""
        where = self.dataset if self.subset == "all" else f"{self.dataset} / {self.subset}"
        total = f", {self.n_pairs} pairs" if self.n_pairs is not None else ""
        return f"{where}{total} — metric convention (profile) {self.convention}"

    def cell_n_differs(self, row: Row, cell: Cell) -> bool:
        """Whether a cell averages over a different number of pairs than its row."""
        return cell.n != row.n


def summary_table(scores: pd.DataFrame, dataset: str, subset: str, convention: str, *,
                  n_pairs: int | None = None, digits: int = 4,
                  methods: Sequence[str] | None = None) -> SummaryTable:
    """Mean, sample std (ddof=1) and n per method and metric over the pairs each covers.

    NaN scores are left out of a cell's statistics. ``methods`` fixes the row order (default:
    method names with a score under the convention, sorted case-insensitively).

    >>> df = pd.DataFrame({"method": ["a", "a", "b"], "dataset": "d", "subset": "all",
    ...                    "pair": ["p1", "p2", "p1"], "metric": "EN",
    ...                    "convention": "standard", "value": [1.0, 3.0, 5.0]})
    >>> t = summary_table(df, "d", "all", "standard")
    >>> [(r.method, r.cells[0].mean, r.cells[0].n, r.cells[0].rank) for r in t.rows]
    [('a', 2.0, 2, 2), ('b', 5.0, 1, 1)]
    """
    sel = scores[(scores["dataset"] == dataset) & (scores["subset"] == subset)
                 & (scores["convention"] == convention)]
    sel = sel[pd.notna(sel["value"])]
    metrics = metric_order(sel["metric"].unique())
    if methods is None:
        methods = sorted(sel["method"].unique(), key=lambda s: (s.lower(), s))
    grouped = sel.groupby(["method", "metric"])["value"]
    stats = grouped.agg(["mean", "std", "count"])
    columns = tuple(Column(m, direction(m)) for m in metrics)
    raw: dict[str, list[Cell]] = {}
    for method in methods:
        cells = []
        for metric in metrics:
            if (method, metric) in stats.index:
                s = stats.loc[(method, metric)]
                cells.append(Cell(float(s["mean"]), float(s["std"]), int(s["count"])))
            else:
                cells.append(Cell(math.nan, math.nan, 0))
        raw[method] = cells
    for j, col in enumerate(columns):
        ranks = rank_values([raw[m][j].mean for m in methods], col.higher_is_better, digits)
        for m, r in zip(methods, ranks, strict=True):
            c = raw[m][j]
            raw[m][j] = Cell(c.mean, c.std, c.n, r)
    rows = tuple(Row(m, int(sel.loc[sel["method"] == m, "pair"].nunique()), tuple(raw[m]))
                 for m in methods)
    return SummaryTable(dataset, subset, convention, columns, rows, n_pairs, digits)


def table_frame(table: SummaryTable) -> pd.DataFrame:
    """The table in tidy form (one row per method x metric) for CSV output."""
    records = []
    for row in table.rows:
        for col, cell in zip(table.columns, row.cells, strict=True):
            records.append({
                "dataset": table.dataset, "subset": table.subset,
                "convention": table.convention, "method": row.method, "metric": col.name,
                "higher_is_better": col.higher_is_better, "mean": cell.mean, "std": cell.std,
                "n": cell.n, "rank": cell.rank, "n_pairs_in_set": table.n_pairs,
            })
    frame = pd.DataFrame.from_records(records)
    if len(frame):
        frame["rank"] = frame["rank"].astype("Int64")
    return frame
