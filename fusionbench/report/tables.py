"""Summary tables that rank only the comparable: methods x metrics for one dataset subset and
metric convention (profile).

Rules (documented in ``reports/README.md``):

* **Main table.** Its *reference set* is every pair of the subset when at least one method was
  scored on all of them, else the largest pair set a method was scored on. Methods scored on the
  whole reference set are *ranked*, with their means over exactly that set; the others (partial
  coverage: an interrupted run, failed pairs, a published set with fewer images) follow below a
  rule, unranked, with their own n.
* **Shared table.** When some methods are partial, a second table averages every method over the
  k pairs all of them share, and ranks them all there.
* **Ranks.** Per metric column, among ranked rows whose cell covers the table's whole pair set,
  means rounded to the displayed digits are ranked densely in the metric's better direction:
  equal values share a rank; NaN means and metrics of unknown direction are never ranked.
* **NaN is shown, never silently dropped.** A stored score that is NaN or infinite (a constant
  source makes VIF 0/0) counts as scored for the pair but stays out of the mean; its cell says
  so (``n = 41 of 42; 1 NaN: Road``), is not ranked, and the table lists each such pair with
  the reason stored for it (:attr:`SummaryTable.nonfinite_notes`).

>>> rank_values([1.0, 3.0, 3.0, float("nan"), 2.0], higher_is_better=True)
[3, 1, 1, None, 2]
>>> rank_values([0.5, 0.2], higher_is_better=False)
[2, 1]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from fusionbench.metrics.catalog import METRICS, PAPER_METRICS

MAIN, SHARED = "main", "shared"


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
    """Dense ranks (1 = best); NaN, ``None`` or an unknown direction give ``None``."""
    if higher_is_better is None:
        return [None] * len(values)
    keys = [None if v is None or not math.isfinite(v) else
            (round(v, digits) if digits is not None else v) for v in values]
    distinct = sorted({k for k in keys if k is not None}, reverse=higher_is_better)
    position = {k: i + 1 for i, k in enumerate(distinct)}
    return [None if k is None else position[k] for k in keys]


@dataclass(frozen=True)
class NonFinite:
    """A stored score of one pair that is NaN or infinite, with its stored reason (may be "").

    >>> NonFinite("Road", float("nan")).kind, NonFinite("Road", float("-inf")).kind
    ('NaN', '-inf')
    """

    pair: str
    value: float
    reason: str = ""

    @property
    def kind(self) -> str:
        """``NaN``, ``inf`` or ``-inf``."""
        return "NaN" if math.isnan(self.value) else ("inf" if self.value > 0 else "-inf")


def count_note(n: int, nonfinite: Sequence[NonFinite], shown: int = 3) -> str:
    """How many values a mean is over, and which pairs are NaN (or inf); "" when none are.

    >>> count_note(41, [NonFinite("Road", float("nan"))])
    'n = 41 of 42; 1 NaN: Road'
    >>> count_note(1, [NonFinite(p, v) for p, v in zip("abcd", [math.nan] * 3 + [math.inf])])
    'n = 1 of 5; 3 NaN, 1 inf: a, b, c (+1 more)'
    """
    if not nonfinite:
        return ""
    kinds = Counter(v.kind for v in nonfinite)
    counts = ", ".join(f"{k} {kind}" for kind, k in sorted(kinds.items(), key=lambda t: t[0]
                                                           != "NaN"))
    names = ", ".join(v.pair for v in nonfinite[:shown])
    if len(nonfinite) > shown:
        names += f" (+{len(nonfinite) - shown} more)"
    return f"n = {n} of {n + len(nonfinite)}; {counts}: {names}"


@dataclass(frozen=True)
class Cell:
    """One method's statistics for one metric over ``n`` pairs (finite values only);
    ``nonfinite``: the pairs of the cell whose stored value is NaN or infinite."""

    mean: float
    std: float
    n: int
    rank: int | None = None
    nonfinite: tuple[NonFinite, ...] = ()

    def note(self, row_n: int) -> str:
        """What a reader must know about the cell's n: ``(n = 41 of 42; 1 NaN: Road)``, or
        ``(n=2)`` when it averages over fewer pairs than its row; "" otherwise.

        >>> Cell(1.0, 0.0, 2).note(3), Cell(1.0, 0.0, 3).note(3)
        ('(n=2)', '')
        """
        if self.nonfinite:
            return f"({count_note(self.n, self.nonfinite)})"
        return f"(n={self.n})" if self.n != row_n else ""


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
    """A method's row. ``n``: pairs its cells average over; ``ranked``: in the ranked set."""

    method: str
    label: str
    n: int
    cells: tuple[Cell, ...]
    ranked: bool


@dataclass(frozen=True)
class SummaryTable:
    """Methods (rows: ranked first, then partial) x metrics for one subset and convention.

    ``pairs`` is the set the ranked rows average over; ``n_pairs`` the size of the subset;
    ``notes`` are stated in the caption (synthetic data, weights of network methods).
    """

    dataset: str
    subset: str
    convention: str
    scope: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    pairs: tuple[str, ...]
    n_pairs: int | None
    digits: int = 4
    notes: tuple[str, ...] = ()

    @property
    def ranked_rows(self) -> tuple[Row, ...]:
        """Rows of the ranked set."""
        return tuple(r for r in self.rows if r.ranked)

    @property
    def partial_rows(self) -> tuple[Row, ...]:
        """Rows below the rule (unranked, their own n)."""
        return tuple(r for r in self.rows if not r.ranked)

    @property
    def show_n(self) -> bool:
        """Whether the ``n`` column is needed (a row's n differs from the pair set's)."""
        return any(r.n != len(self.pairs) for r in self.rows)

    @property
    def key(self) -> str:
        """``dataset/subset/convention/scope`` (for file names, after slugging)."""
        return f"{self.dataset}/{self.subset}/{self.convention}/{self.scope}"

    @property
    def where(self) -> str:
        """``dataset`` or ``dataset / subset``."""
        return self.dataset if self.subset == "all" else f"{self.dataset} / {self.subset}"

    @property
    def pair_text(self) -> str:
        """Which pairs the ranked rows average over, in words."""
        k, total = len(self.pairs), self.n_pairs
        if self.scope == SHARED:
            return f"on the {k} pairs all {len(self.rows)} methods share"
        if total is None or k == total:
            return f"ranked: methods scored on all {k} pairs"
        return (f"ranked: methods scored on the same {k} of {total} pairs (no method was "
                "scored on all)")

    @property
    def nonfinite_notes(self) -> list[str]:
        """One line per cell with NaN (or inf) values: every such pair, by reason.

        E.g. ``alpha, VIF: NaN for p3 (VIF is NaN: source a is constant (0/0))``.
        """
        lines = []
        for row in self.rows:
            for col, cell in zip(self.columns, row.cells, strict=True):
                by_reason: dict[tuple[str, str], list[str]] = {}
                for value in cell.nonfinite:
                    by_reason.setdefault((value.kind, value.reason), []).append(value.pair)
                for (kind, reason), pairs in by_reason.items():
                    why = f" ({reason})" if reason else " (no reason stored)"
                    lines.append(f"{row.label}, {col.name}: {kind} for {', '.join(pairs)}{why}")
        return lines

    @property
    def caption(self) -> str:
        """Plain-text caption: where, which pairs, the convention, then the notes."""
        text = f"{self.where} — {self.pair_text} — metric convention (profile) {self.convention}"
        return text + "".join(f". {note}" for note in self.notes)


def wide_scores(scores: pd.DataFrame, dataset: str, subset: str,
                convention: str) -> pd.DataFrame:
    """Finite scores of one subset and convention as pair x (method, metric) (NaN = none)."""
    sel = scores[(scores["dataset"] == dataset) & (scores["subset"] == subset)
                 & (scores["convention"] == convention)]
    values = pd.to_numeric(sel["value"], errors="coerce").to_numpy(float)
    sel = sel[np.isfinite(values)]
    if sel.empty:
        return pd.DataFrame(index=pd.Index([], name="pair"),
                            columns=pd.MultiIndex.from_tuples([], names=["method", "metric"]))
    wide = sel.pivot_table(index="pair", columns=["method", "metric"], values="value",
                           aggfunc="mean")
    return wide.astype(float)


NonFiniteScores = Mapping[tuple[str, str], Sequence[NonFinite]]


def nonfinite_scores(scores: pd.DataFrame, dataset: str, subset: str,
                     convention: str) -> dict[tuple[str, str], tuple[NonFinite, ...]]:
    """The NaN and infinite scores of one subset and convention, by (method, metric), sorted
    by pair, each with the ``reason`` column's text when the scores have one.

    >>> df = pd.DataFrame({"method": "a", "dataset": "d", "subset": "all", "pair": ["p1", "p2"],
    ...                    "metric": "VIF", "convention": "standard", "value": [0.5, np.nan],
    ...                    "reason": ["", "VIF is NaN: source a is constant (0/0)"]})
    >>> nonfinite_scores(df, "d", "all", "standard")[("a", "VIF")][0].reason
    'VIF is NaN: source a is constant (0/0)'
    """
    sel = scores[(scores["dataset"] == dataset) & (scores["subset"] == subset)
                 & (scores["convention"] == convention)]
    values = pd.to_numeric(sel["value"], errors="coerce").to_numpy(float)
    bad = sel[~np.isfinite(values)].assign(value=values[~np.isfinite(values)])
    reasons = bad["reason"] if "reason" in bad.columns else pd.Series("", index=bad.index)
    out: dict[tuple[str, str], list[NonFinite]] = {}
    for (method, metric, pair, value), reason in zip(
            bad[["method", "metric", "pair", "value"]].itertuples(index=False, name=None),
            reasons.fillna("").astype(str), strict=True):
        out.setdefault((str(method), str(metric)), []).append(
            NonFinite(str(pair), float(value), " ".join(reason.split())))
    return {key: tuple(sorted(vals, key=lambda v: v.pair)) for key, vals in out.items()}


def _cells(wide: pd.DataFrame, method: str, metrics: Sequence[str],
           pairs: Sequence[str] | None, nonfinite: NonFiniteScores) -> list[Cell]:
    cells = []
    for metric in metrics:
        bad = tuple(v for v in nonfinite.get((method, metric), ())
                    if pairs is None or v.pair in pairs)
        if (method, metric) not in wide.columns:
            cells.append(Cell(math.nan, math.nan, 0, nonfinite=bad))
            continue
        col = wide[(method, metric)]
        if pairs is not None:
            col = col.reindex(list(pairs))
        vals = col.to_numpy(float)
        vals = vals[np.isfinite(vals)]
        n = int(vals.size)
        mean = float(vals.mean()) if n else math.nan
        std = float(vals.std(ddof=1)) if n > 1 else (0.0 if n == 1 else math.nan)
        cells.append(Cell(mean, std, n, nonfinite=bad))
    return cells


def _ranked_cells(rows: list[tuple[str, str, list[Cell]]], columns: Sequence[Column],
                  k: int, digits: int) -> list[list[Cell]]:
    """Rank each column among the cells that cover all ``k`` pairs."""
    out = [list(cells) for _, _, cells in rows]
    for j, col in enumerate(columns):
        means = [c[j].mean if c[j].n == k else math.nan for c in out]
        for i, rank in enumerate(rank_values(means, col.higher_is_better, digits)):
            c = out[i][j]
            out[i][j] = replace(c, rank=rank)
    return out


def _reference_set(coverage: Mapping[str, frozenset[str]], full: frozenset[str]) -> frozenset[str]:
    if any(full <= pairs for pairs in coverage.values()):
        return full
    candidates = sorted(set(coverage.values()), key=lambda s: (
        -len(s), -sum(s <= p for p in coverage.values()), sorted(s)))
    return candidates[0] if candidates else frozenset()


def comparable_tables(wide: pd.DataFrame, dataset: str, subset: str, convention: str, *,
                      methods: Sequence[str], labels: Mapping[str, str] | None = None,
                      metrics: Sequence[str] | None = None, all_pairs: Iterable[str] = (),
                      n_pairs: int | None = None, digits: int = 4,
                      notes: Sequence[str] = (),
                      nonfinite: NonFiniteScores | None = None) -> list[SummaryTable]:
    """The main table and, when some methods are partial, the shared-pairs table.

    ``wide`` comes from :func:`wide_scores`; ``methods`` fixes the row order (methods without
    any score are left out); ``labels`` maps a method to the text shown for it; ``all_pairs``
    are the subset's pairs (default: the pairs with scores); ``nonfinite`` the NaN and
    infinite scores (:func:`nonfinite_scores`): their pairs count as scored, outside the means.

    >>> df = pd.DataFrame({"method": ["a", "a", "b"], "dataset": "d", "subset": "all",
    ...                    "pair": ["p1", "p2", "p1"], "metric": "EN",
    ...                    "convention": "standard", "value": [1.0, 3.0, 5.0]})
    >>> main, shared = comparable_tables(wide_scores(df, "d", "all", "standard"), "d", "all",
    ...                                  "standard", methods=["a", "b"])
    >>> [(r.method, r.ranked, r.n, r.cells[0].mean, r.cells[0].rank) for r in main.rows]
    [('a', True, 2, 2.0, 1), ('b', False, 1, 5.0, None)]
    >>> shared.pairs, [(r.method, r.cells[0].mean, r.cells[0].rank) for r in shared.rows]
    (('p1',), [('a', 1.0, 2), ('b', 5.0, 1)])
    """
    labels = labels or {}
    nonfinite = nonfinite or {}
    present = set(wide.columns.get_level_values(0)) if len(wide.columns) else set()
    present |= {m for m, _ in nonfinite}
    methods = [m for m in methods if m in present]
    if metrics is None:
        metrics = metric_order(set(wide.columns.get_level_values(1))
                               | {metric for _, metric in nonfinite})
    columns = tuple(Column(m, direction(m)) for m in metrics)
    method_cols = [(m, c) for m in methods for c in metrics if (m, c) in wide.columns]
    scored = wide[method_cols].notna() if method_cols else wide.iloc[:, :0]
    coverage = {m: (frozenset(scored.index[scored[m].any(axis=1)]) if m in scored.columns
                    else frozenset())
                | {v.pair for c in metrics for v in nonfinite.get((m, c), ())}
                for m in methods}
    coverage = {m: p for m, p in coverage.items() if p}
    methods = [m for m in methods if m in coverage]
    full = frozenset(all_pairs) | frozenset().union(*coverage.values())
    reference = _reference_set(coverage, full)
    ranked = [m for m in methods if reference <= coverage[m]]
    partial = [m for m in methods if m not in ranked]
    ref_pairs = tuple(sorted(reference))
    total = max(n_pairs or 0, len(full)) or None

    def table(scope: str, rows_spec: list[tuple[str, bool, tuple[str, ...] | None]],
              pairs: tuple[str, ...], extra: Sequence[str] = ()) -> SummaryTable:
        raw = [(m, labels.get(m, m), _cells(wide, m, metrics, p, nonfinite))
               for m, _, p in rows_spec]
        ranked_idx = [i for i, (_, r, _) in enumerate(rows_spec) if r]
        ranked_cells = _ranked_cells([raw[i] for i in ranked_idx], columns, len(pairs), digits)
        final = [cells for _, _, cells in raw]
        for i, cells in zip(ranked_idx, ranked_cells, strict=True):
            final[i] = cells
        rows = tuple(Row(m, label, max((c.n for c in cells), default=0), tuple(cells), r)
                     for (m, label, _), (_, r, _), cells in zip(raw, rows_spec, final,
                                                                strict=True))
        return SummaryTable(dataset, subset, convention, scope, columns, rows, pairs, total,
                            digits, tuple(notes) + tuple(extra))

    spec = [(m, True, ref_pairs) for m in ranked] + [(m, False, None) for m in partial]
    shared_set = frozenset.intersection(*coverage.values()) if coverage else frozenset()
    extra = []
    if partial and not shared_set:
        extra.append("No pair is scored by every method, so there is no shared-pairs table")
    out = [table(MAIN, spec, ref_pairs, extra)]
    if partial and shared_set:
        shared_pairs = tuple(sorted(shared_set))
        out.append(table(SHARED, [(m, True, shared_pairs) for m in methods], shared_pairs))
    return out


def with_unmeasured(table: SummaryTable,
                    entries: Sequence[tuple[str, str]]) -> SummaryTable:
    """``table`` with an empty, unranked row (n = 0) per ``(method, label)`` at the end, so that a
    published table's methods we cannot score are listed where its rows are."""
    empty = tuple(Cell(math.nan, math.nan, 0) for _ in table.columns)
    extra = tuple(Row(m, label, 0, empty, False) for m, label in entries)
    return replace(table, rows=table.rows + extra)


def table_records(table: SummaryTable) -> list[dict]:
    """The table in tidy form (one record per method x metric) for CSV and JSON output."""
    records = []
    for row in table.rows:
        for col, cell in zip(table.columns, row.cells, strict=True):
            records.append({
                "dataset": table.dataset, "subset": table.subset,
                "convention": table.convention, "table": table.scope, "method": row.method,
                "label": row.label, "ranked_set": row.ranked, "metric": col.name,
                "higher_is_better": col.higher_is_better,
                "mean": None if math.isnan(cell.mean) else cell.mean,
                "std": None if math.isnan(cell.std) else cell.std,
                "n": cell.n, "n_nonfinite": len(cell.nonfinite),
                "nonfinite_pairs": ";".join(v.pair for v in cell.nonfinite),
                "rank": cell.rank, "n_pairs_table": len(table.pairs),
                "n_pairs_in_set": table.n_pairs,
            })
    return records


def table_frame(table: SummaryTable) -> pd.DataFrame:
    """:func:`table_records` as a DataFrame (``rank`` as a nullable integer)."""
    frame = pd.DataFrame.from_records(table_records(table))
    if len(frame):
        frame["rank"] = frame["rank"].astype("Int64")
    return frame
