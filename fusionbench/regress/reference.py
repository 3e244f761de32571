"""Reading, writing and updating a regression reference CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fusionbench.regress.common import COLUMNS, KEY, RegressionError


def read_reference(path: Path) -> Any:
    """A reference CSV as a DataFrame (float ``value``), checked for columns and duplicates."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise RegressionError(f"{path}: reference file not found (create it with --update)")
    try:
        df = pd.read_csv(path, keep_default_na=False, dtype=str)
    except (OSError, ValueError) as exc:
        raise RegressionError(f"{path}: cannot read reference CSV ({exc})") from exc
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise RegressionError(f"{path}: missing column(s) {missing}; expected {COLUMNS}")
    values = pd.to_numeric(df["value"], errors="coerce")
    bad = df["value"][values.isna() & (df["value"].str.lower() != "nan")]
    if len(bad):
        raise RegressionError(f"{path}: non-numeric value(s) {bad.head(3).tolist()} "
                              f"on line(s) {[int(i) + 2 for i in bad.index[:3]]}")
    df = df[KEY].assign(value=values.astype(float))
    dup = df.duplicated(KEY, keep=False)
    if dup.any():
        first = df[dup].iloc[0]
        raise RegressionError(f"{path}: {int(dup.sum())} duplicated rows, e.g. "
                              + "/".join(str(first[k]) for k in KEY))
    return df


def reference_text(df: Any) -> str:
    """The CSV text of a reference: sorted rows, values as ``repr`` (full precision)."""
    import csv
    import io

    rows = df[COLUMNS].sort_values(KEY, kind="mergesort")
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    for rec in rows.itertuples(index=False):
        writer.writerow([*rec[:-1], repr(float(rec[-1]))])
    return buf.getvalue()


def write_reference(path: Path, df: Any) -> None:
    """Write a reference CSV atomically (readers see the old or the new file)."""
    from fusionbench.atomic import atomic_write_text

    atomic_write_text(Path(path), reference_text(df))


def updated_reference(reference: Any | None, results: Any) -> Any:
    """The new reference for ``--update``: every result, plus the reference rows of runs
    (method, dataset, subset) that the results do not contain (kept unchanged)."""
    import pandas as pd

    results = results[COLUMNS]
    if reference is None or reference.empty:
        return results.reset_index(drop=True)
    runs = ["method", "dataset", "subset"]
    seen = set(map(tuple, results[runs].drop_duplicates().to_numpy().tolist()))
    keep = ~reference[runs].apply(tuple, axis=1).isin(seen)
    return pd.concat([reference[keep][COLUMNS], results], ignore_index=True)


