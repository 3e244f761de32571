"""The CLF-Net paper's reported scores, read in place from ``reference/clfnet_paper_scores.csv``.

The file lives beside the data root (``<data_root>/../reference/``) and is never copied into
the repository. A method card names its row label in that file with ``paper_name``.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
>>> _ = p.write_text("table,dataset,method,n_pairs,metric,value\\n"
...                  "II,tno,DenseFuse,20,EN,6.3989\\nII,tno,DenseFuse,20,MI,2.1046\\n")
>>> rows = paper_scores_for("DenseFuse", p)
>>> rows[0]
PaperScore(table='II', dataset='tno', n_pairs=20, metric='EN', value=6.3989)
>>> format_paper_scores(rows)
['Table II (TNO, 20 pairs): EN 6.3989  MI 2.1046']
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

from fusionbench.data import resolve_data_root
from fusionbench.errors import FusionbenchError

PAPER_SCORES_FILE = "clfnet_paper_scores.csv"
COLUMNS = ("table", "dataset", "method", "n_pairs", "metric", "value")


class PaperScore(NamedTuple):
    """One reported mean: ``table`` (Roman numeral), dataset, pairs averaged, metric, value."""

    table: str
    dataset: str
    n_pairs: int
    metric: str
    value: float


def paper_scores_path(data_root: str | Path | None = None) -> Path | None:
    """``<data_root>/../reference/clfnet_paper_scores.csv``, or ``None`` when it is absent.

    ``data_root`` is resolved as everywhere else (argument, ``$FUSIONBENCH_DATA``, defaults).
    """
    root = resolve_data_root(data_root)
    if root is None:
        return None
    path = root.resolve().parent / "reference" / PAPER_SCORES_FILE
    return path if path.is_file() else None


def _read_rows(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
            if missing:
                raise FusionbenchError(f"{path}: missing column(s) {', '.join(missing)}")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise FusionbenchError(f"{path}: cannot read the paper's scores ({exc})") from exc


def read_paper_scores(path: str | Path) -> dict[str, list[PaperScore]]:
    """Every reported mean of the file by method label (file order kept).

    This is the one reader of the paper's scores (``methods show`` and the report use it).
    """
    path = Path(path)
    out: dict[str, list[PaperScore]] = {}
    for row in _read_rows(path):
        try:
            score = PaperScore(row["table"], row["dataset"], int(row["n_pairs"]),
                               row["metric"], float(row["value"]))
        except (TypeError, ValueError) as exc:
            raise FusionbenchError(
                f"{path}: bad row for {row['method']!r}: {row} ({exc})") from exc
        out.setdefault(row["method"], []).append(score)
    return out


def paper_scores_for(paper_name: str, path: str | Path) -> list[PaperScore]:
    """Every score the paper reports for ``paper_name`` (exact label, else case-insensitive).

    Rows keep the file's order; an unknown name gives an empty list.
    """
    scores = read_paper_scores(path)
    if paper_name in scores:
        return scores[paper_name]
    return next((rows for label, rows in scores.items()
                 if label.lower() == paper_name.lower()), [])


def paper_methods(path: str | Path) -> list[str]:
    """Method labels of the file, in first-seen order."""
    return list(read_paper_scores(path))


def format_paper_scores(rows: list[PaperScore]) -> list[str]:
    """One line per (table, dataset, pairs): ``Table II (TNO, 20 pairs): EN 6.3989  MI ...``
    (the paper's name for the data set comes from the report presets)."""
    from fusionbench.report.presets import paper_label

    groups: dict[tuple[str, str, int], list[PaperScore]] = {}
    for row in rows:
        groups.setdefault((row.table, row.dataset, row.n_pairs), []).append(row)
    lines = []
    for (table, dataset, n_pairs), items in groups.items():
        label = paper_label(table, dataset)
        values = "  ".join(f"{r.metric} {r.value:.4f}" for r in items)
        lines.append(f"Table {table} ({label}, {n_pairs} pairs): {values}")
    return lines
