"""Paper vs measured: the CLF-Net paper's Tables II-V beside our ``tang2022`` means.

Method names match case-insensitively ignoring non-alphanumerics, and a measured method also
matches when its key is the paper's key plus a suffix such as ``paper`` or ``published`` (so the
paper's ``CLF-Net`` matches both ``clfnet`` and ``clfnet-paper``).

>>> method_key("RFN-Nest") == method_key("rfn_nest")
True
>>> matches("CLF-Net", "clfnet-paper"), matches("CLF-Net", "clfnet"), matches("PMGI", "IFCNN")
(True, True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from fusionbench.report.load import ReportError

PAPER_COLUMNS = ("table", "dataset", "method", "n_pairs", "metric", "value")
MAIN_TABLES = ("II", "III", "IV", "V")
PAPER_CONVENTION = "tang2022"
SUFFIXES = ("", "paper", "published", "official", "pub", "orig", "original")
PAIRS_NOTE = ("pair sets differ: the paper's test-pair lists are unpublished, so its means are "
              "over different pairs than ours")


def method_key(name: str) -> str:
    """Lower-case name with every non-alphanumeric character removed."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def matches(paper_method: str, measured_method: str) -> bool:
    """Whether a measured method corresponds to a paper method (see module doc)."""
    pk, mk = method_key(paper_method), method_key(measured_method)
    return bool(pk) and any(mk == pk + s for s in SUFFIXES)


def default_paper_scores() -> Path | None:
    """``reference/clfnet_paper_scores.csv`` beside the data root, or ``None`` if absent.

    Same lookup as ``fusionbench methods show`` (:func:`fusionbench.paper.paper_scores_path`).
    """
    from fusionbench.paper import paper_scores_path

    return paper_scores_path()


def read_paper_scores(path: str | Path) -> pd.DataFrame:
    """Read the paper's scores CSV (columns :data:`PAPER_COLUMNS`), main tables only."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"paper scores file {path} does not exist")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ReportError(f"{path}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in PAPER_COLUMNS if c not in frame.columns]
    if missing:
        raise ReportError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = frame[frame["table"].isin(MAIN_TABLES)].copy()
    for col in ("value", "n_pairs"):
        values = pd.to_numeric(frame[col], errors="coerce")
        if values.isna().any():
            bad = frame.loc[values.isna(), col].iloc[0]
            raise ReportError(f"{path}: column {col!r} has a non-number {bad!r}")
        frame[col] = values
    return frame


@dataclass(frozen=True)
class PaperRow:
    """One paper number beside our measured mean."""

    table: str
    dataset: str
    subset: str
    paper_method: str
    method: str
    metric: str
    paper: float
    measured: float
    n_paper: int
    n_measured: int

    @property
    def diff(self) -> float:
        """measured - paper (NaN when not measured)."""
        return self.measured - self.paper


def compare(paper: pd.DataFrame, scores: pd.DataFrame) -> tuple[list[PaperRow], list[str]]:
    """Rows for every paper number whose dataset and method we measured, plus notes.

    The notes list paper methods of a measured dataset with no measured counterpart.
    """
    conv = scores[scores["convention"] == PAPER_CONVENTION]
    conv = conv[pd.notna(conv["value"])]
    runs = scores[["dataset", "subset", "method"]].drop_duplicates()
    rows: list[PaperRow] = []
    unmatched: set[tuple[str, str]] = set()
    measured_sets = set(runs["dataset"])
    for (table, dataset, pmethod), group in paper.groupby(["table", "dataset", "method"],
                                                          sort=False):
        if dataset not in measured_sets:
            continue
        ours = runs[(runs["dataset"] == dataset)
                    & runs["method"].map(lambda m, p=pmethod: matches(p, m))]
        if ours.empty:
            unmatched.add((dataset, pmethod))
            continue
        for _, run in ours.sort_values(["subset", "method"]).iterrows():
            mine = conv[(conv["dataset"] == dataset) & (conv["subset"] == run["subset"])
                        & (conv["method"] == run["method"])]
            for _, prow in group.iterrows():
                vals = mine.loc[mine["metric"] == prow["metric"], "value"]
                rows.append(PaperRow(
                    str(table), str(dataset), str(run["subset"]), str(pmethod),
                    str(run["method"]), str(prow["metric"]), float(prow["value"]),
                    float(vals.mean()) if len(vals) else float("nan"), int(prow["n_pairs"]),
                    int(vals.size)))
    notes = [f"{d}: paper method {m} has no measured run" for d, m in sorted(unmatched)]
    return rows, notes


def paper_frame(rows: list[PaperRow]) -> pd.DataFrame:
    """Comparison rows as a tidy frame for CSV output."""
    return pd.DataFrame.from_records([
        {"table": r.table, "dataset": r.dataset, "subset": r.subset,
         "paper_method": r.paper_method, "method": r.method, "metric": r.metric,
         "convention": PAPER_CONVENTION, "paper": r.paper, "measured": r.measured,
         "difference": r.diff, "n_pairs_paper": r.n_paper, "n_pairs_measured": r.n_measured,
         "same_pairs": False}
        for r in rows
    ], columns=["table", "dataset", "subset", "paper_method", "method", "metric", "convention",
                "paper", "measured", "difference", "n_pairs_paper", "n_pairs_measured",
                "same_pairs"])


@dataclass(frozen=True)
class PaperTable:
    """Paper vs measured for one dataset subset: rows per measured method, metric columns."""

    table: str
    dataset: str
    subset: str
    metrics: tuple[str, ...]
    rows: tuple[tuple[str, str, int, int, tuple[PaperRow | None, ...]], ...]

    @property
    def caption(self) -> str:
        """Caption naming the paper table, dataset, subset and convention."""
        where = self.dataset if self.subset == "all" else f"{self.dataset} / {self.subset}"
        return (f"Paper (Table {self.table}) vs measured — {where} — metric convention "
                f"(profile) {PAPER_CONVENTION}")


def paper_tables(rows: list[PaperRow]) -> list[PaperTable]:
    """Group comparison rows into one :class:`PaperTable` per (table, dataset, subset).

    Each row is ``(paper method, measured method, n paper, n measured, cells)``; ``n measured``
    is the largest number of pairs behind any of the method's measured means.
    """
    from fusionbench.report.tables import metric_order

    out = []
    keys = sorted({(r.table, r.dataset, r.subset) for r in rows})
    for key in keys:
        sel = [r for r in rows if (r.table, r.dataset, r.subset) == key]
        metrics = tuple(metric_order({r.metric for r in sel}))
        table_rows = []
        for pm, m in dict.fromkeys((r.paper_method, r.method) for r in sel):
            mine = {r.metric: r for r in sel if (r.paper_method, r.method) == (pm, m)}
            cells = tuple(mine.get(metric) for metric in metrics)
            n_paper = max(r.n_paper for r in mine.values())
            n_measured = max(r.n_measured for r in mine.values())
            table_rows.append((pm, m, n_paper, n_measured, cells))
        out.append(PaperTable(*key, metrics, tuple(table_rows)))
    return out
