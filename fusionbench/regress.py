"""``fusionbench regress``: compare stored scores with a committed reference, fail on regressions.

A reference is a CSV with the columns of ``scores.csv`` (``method, dataset, subset, pair,
metric, convention, value``; values written with full precision, ``nan`` for NaN). Tolerances
live in a sidecar ``tolerances.toml`` beside it: a ``[default]`` table and optional
``[metrics.<NAME>]`` / ``[methods.<name>]`` tables, each with ``rtol``, ``atol`` and a
``reason``. A value's tolerance is ``max(atol, rtol * |reference|)`` with the widest ``rtol`` and
``atol`` of the tables that apply to it.

Each reference value ends as one of

* ``same``    within tolerance (NaN and NaN count as the same);
* ``worse``   moved beyond tolerance in the metric's bad direction (catalog
  ``higher_is_better``) -> fails;
* ``changed`` NaN vs a number -> fails;
* ``missing`` in the reference, absent from the results (e.g. the pair failed) -> fails;
* ``better``  moved beyond tolerance in the good direction -> reported (fails with ``--strict``);

and results without a reference value are ``new`` (reported). ``--sweep SLICE.toml`` first runs
the methods of a dataset slice into ``--results``; ``--update`` rewrites the reference on purpose.

>>> import pandas as pd
>>> ref = pd.DataFrame([["avg", "tno", "all", "p1", "EN", "standard", 7.0]], columns=COLUMNS)
>>> new = ref.assign(value=6.9)
>>> compare(ref, new, Tolerances()).rows["status"].tolist()
['worse']
"""

from __future__ import annotations

import math
import os
import sys
import tomllib
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import click

from fusionbench.data import Dataset, Pair, Subset
from fusionbench.errors import DatasetError, FusionbenchError

KEY = ["method", "dataset", "subset", "pair", "metric", "convention"]
COLUMNS = KEY + ["value"]
FAILING = ("worse", "changed", "missing")
STATUS_ORDER = ("worse", "changed", "missing", "better", "new", "same")
EXIT_REGRESSION = 4
DEFAULT_RTOL, DEFAULT_ATOL = 1e-9, 1e-12


class RegressionError(FusionbenchError):
    """A reference, tolerance or slice file is malformed, or there is nothing to compare."""


# --------------------------------------------------------------------------- tolerances

@dataclass(frozen=True)
class Tolerance:
    """One tolerance rule with the reason it exists."""

    rtol: float = 0.0
    atol: float = 0.0
    reason: str = ""


@dataclass
class Tolerances:
    """Tolerance rules: a default, per metric and per method; the widest that applies wins.

    >>> t = Tolerances(default=Tolerance(1e-6), metrics={"VIF": Tolerance(1e-3)})
    >>> t.for_value("avg", "VIF", 2.0), t.for_value("avg", "EN", 2.0)
    (0.002, 2e-06)
    """

    default: Tolerance = field(default_factory=lambda: Tolerance(DEFAULT_RTOL, DEFAULT_ATOL))
    metrics: dict[str, Tolerance] = field(default_factory=dict)
    methods: dict[str, Tolerance] = field(default_factory=dict)
    override: Tolerance | None = None

    def rule(self, method: str, metric: str) -> tuple[float, float]:
        """``(rtol, atol)`` for one method and metric."""
        if self.override is not None:
            return self.override.rtol, self.override.atol
        rules = [self.default]
        rules += [r for r in (self.metrics.get(metric), self.methods.get(method)) if r]
        return max(r.rtol for r in rules), max(r.atol for r in rules)

    def for_value(self, method: str, metric: str, reference: float) -> float:
        """The absolute tolerance around one reference value."""
        rtol, atol = self.rule(method, metric)
        return max(atol, rtol * abs(reference)) if math.isfinite(reference) else atol


def _tolerance(spec: Any, where: str) -> Tolerance:
    if not isinstance(spec, dict):
        raise RegressionError(f"{where} must be a table with rtol, atol and reason")
    unknown = set(spec) - {"rtol", "atol", "reason"}
    if unknown:
        raise RegressionError(f"{where}: unknown keys {sorted(unknown)} (use rtol, atol, reason)")
    try:
        rtol, atol = float(spec.get("rtol", 0.0)), float(spec.get("atol", 0.0))
    except (TypeError, ValueError) as exc:
        raise RegressionError(f"{where}: rtol and atol must be numbers ({exc})") from None
    if rtol < 0 or atol < 0 or not (math.isfinite(rtol) and math.isfinite(atol)):
        raise RegressionError(f"{where}: rtol and atol must be finite and >= 0")
    if not str(spec.get("reason", "")).strip():
        raise RegressionError(f"{where}: every tolerance needs a reason")
    return Tolerance(rtol, atol, str(spec["reason"]).strip())


def load_tolerances(path: Path | None) -> Tolerances:
    """Read a ``tolerances.toml``; ``None`` or an absent file gives the strict default."""
    if path is None or not Path(path).is_file():
        return Tolerances()
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegressionError(f"{path}: cannot read tolerances ({exc})") from exc
    unknown = set(data) - {"default", "metrics", "methods"}
    if unknown:
        raise RegressionError(f"{path}: unknown tables {sorted(unknown)} "
                              "(use [default], [metrics.NAME], [methods.NAME])")
    default = (_tolerance(data["default"], f"{path} [default]") if "default" in data
               else Tolerances().default)
    return Tolerances(
        default=default,
        metrics={k: _tolerance(v, f"{path} [metrics.{k}]")
                 for k, v in data.get("metrics", {}).items()},
        methods={k: _tolerance(v, f"{path} [methods.{k}]")
                 for k, v in data.get("methods", {}).items()})


# --------------------------------------------------------------------------- reference files

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


# --------------------------------------------------------------------------- comparison

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


# --------------------------------------------------------------------------- dataset slice

@dataclass(frozen=True)
class SliceSpec:
    """A regression sweep: methods x profiles x a few pairs of each dataset subset.

    ``datasets`` maps ``"dataset"`` or ``"dataset/subset"`` to pair names (``None`` = all).
    """

    methods: tuple[str, ...]
    profiles: tuple[str, ...]
    datasets: dict[str, tuple[str, ...] | None]


def load_slice(path: Path) -> SliceSpec:
    """Read a slice TOML (``methods``, ``profiles``, ``[datasets]``)."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegressionError(f"{path}: cannot read slice ({exc})") from exc
    methods, profiles = data.get("methods"), data.get("profiles", ["standard", "tang2022"])
    datasets = data.get("datasets")
    if not (isinstance(methods, list) and methods and all(isinstance(m, str) for m in methods)):
        raise RegressionError(f"{path}: 'methods' must be a non-empty list of method names")
    if not isinstance(datasets, dict) or not datasets:
        raise RegressionError(f"{path}: needs a [datasets] table of \"dataset[/subset]\" = "
                              "[pair names] or \"all\"")
    parsed: dict[str, tuple[str, ...] | None] = {}
    for key, pairs in datasets.items():
        if pairs == "all":
            parsed[key] = None
        elif isinstance(pairs, list) and pairs and all(isinstance(p, str) for p in pairs):
            parsed[key] = tuple(pairs)
        else:
            raise RegressionError(f"{path}: datasets.{key} must be \"all\" or a list of pairs")
    return SliceSpec(tuple(methods), tuple(profiles), parsed)


@dataclass(frozen=True)
class SlicedDataset(Dataset):
    """A dataset whose ``pairs()`` yields only the named pairs, in the given order."""

    only: tuple[str, ...] = ()

    def pairs(self, subset: Subset, *, strict: bool = False) -> list[Pair]:
        found = {p.name: p for p in Dataset.pairs(self, subset, strict=strict)}
        absent = [n for n in self.only if n not in found]
        if absent:
            raise DatasetError(f"dataset {self.name!r}/{subset.name}: slice pair(s) {absent} "
                               f"not found in {self.subset_dir(subset)}")
        return [found[n] for n in self.only]


def sliced_dataset(dataset: Dataset, pairs: tuple[str, ...] | None) -> Dataset:
    """A copy of ``dataset`` restricted to ``pairs`` (unchanged for ``None``)."""
    if pairs is None:
        return dataset
    values = {f.name: getattr(dataset, f.name) for f in fields(Dataset)}
    return SlicedDataset(**values, only=tuple(pairs))


@dataclass(frozen=True)
class SweepJob:
    """One (method, dataset, subset) run of a sweep."""

    method: str
    dataset: str
    subset: str
    pairs: tuple[str, ...] | None


def _run_job(job: SweepJob, out: str, data_root: str | None,
             profiles: tuple[str, ...]) -> tuple[SweepJob, str]:
    """Run one sweep job; returns ``(job, message)`` (never raises a FusionbenchError)."""
    from fusionbench.data import resolve_dataset
    from fusionbench.registry import Registry
    from fusionbench.runner import RunConfig, run_method

    try:
        method = Registry.builtin().get(job.method)
        dataset = resolve_dataset(job.dataset, data_root)
        subset = dataset.subset(job.subset)
        summary = run_method(method, sliced_dataset(dataset, job.pairs), subset, Path(out),
                             RunConfig(profiles=profiles, workers=1), data_root=data_root)
    except FusionbenchError as exc:
        return job, f"not run: {exc}"
    failed = "".join(f"\n    FAILED {p}: {r}" for p, r in sorted(summary.failed.items()))
    return job, (f"{len(summary.ok)}/{summary.n_pairs} pairs ok, {len(summary.failed)} failed"
                 + failed)


def plan_sweep(spec: SliceSpec, data_root: Path | None) -> tuple[list[SweepJob],
                                                                 list[tuple[str, str]]]:
    """The jobs of a slice, and the ``(dataset, subset)`` whose data is absent here."""
    from fusionbench.data import resolve_dataset

    jobs, absent = [], []
    for key, pairs in spec.datasets.items():
        name, _, sub_name = key.partition("/")
        dataset = resolve_dataset(name, data_root)
        subset = dataset.subset(sub_name or None)
        try:
            present = dataset.subset_dir(subset).is_dir()
        except DatasetError:
            present = False
        if not present:
            absent.append((dataset.name, subset.name))
            continue
        jobs += [SweepJob(m, dataset.name, subset.name, pairs) for m in spec.methods]
    return jobs, absent


def run_sweep(spec: SliceSpec, out: Path, data_root: Path | None, jobs: int = 1,
              echo: Any = print) -> list[tuple[str, str]]:
    """Run every job of a slice into ``out`` (``jobs`` processes); returns the absent data."""
    plan, absent = plan_sweep(spec, data_root)
    root = str(data_root) if data_root else None
    args = [(job, str(out), root, spec.profiles) for job in plan]
    if jobs <= 1:
        done = (_run_job(*a) for a in args)
    else:
        pool = ProcessPoolExecutor(max_workers=jobs)
        done = pool.map(_run_job, *zip(*args, strict=True))
    try:
        for job, message in done:
            where = f"{job.dataset}/{job.subset}"
            echo(f"  {job.method:<10} {where:<22} {message}")
    finally:
        if jobs > 1:
            pool.shutdown()
    return absent


# --------------------------------------------------------------------------- command

def run_regress(reference: Path, results: Path, *, tolerances: Path | None = None,
                rtol: float | None = None, atol: float | None = None, update: bool = False,
                strict: bool = False, sweep: Path | None = None, data_root: Path | None = None,
                jobs: int = 1, require_data: bool = False, max_rows: int = 40,
                echo: Any = print) -> int:
    """Everything ``fusionbench regress`` does; returns the exit code."""
    from fusionbench.data import resolve_data_root
    from fusionbench.report.load import ReportError, load_results

    reference = Path(reference)
    tol_path = tolerances or reference.with_name("tolerances.toml")
    tols = load_tolerances(tol_path)
    if rtol is not None or atol is not None:
        tols.override = Tolerance(rtol if rtol is not None else tols.default.rtol,
                                  atol if atol is not None else tols.default.atol, "command line")
    absent: list[tuple[str, str]] = []
    if sweep is not None:
        spec = load_slice(sweep)
        root = resolve_data_root(data_root)
        echo(f"regress: sweeping {len(spec.methods)} method(s) over {sweep} into {results}")
        absent = run_sweep(spec, Path(results), root, jobs=jobs, echo=echo)
        if absent:
            names = ", ".join(f"{d}/{s}" for d, s in absent)
            if require_data:
                raise RegressionError(f"data absent for {names} (data root: {root}); "
                                      "set --data-root or $FUSIONBENCH_DATA")
            echo(f"regress: WARNING data absent, not checked: {names}")
    try:
        stored = load_results(results)
    except ReportError as exc:
        raise RegressionError(str(exc)) from exc
    scores, pairs = stored.scores, stored.pairs
    if scores.empty and pairs.empty:
        raise RegressionError(f"{results}: no results found (run `fusionbench run` first)")
    if update:
        old = read_reference(reference) if reference.is_file() else None
        new = updated_reference(old, scores)
        write_reference(reference, new)
        echo(f"regress: wrote {len(new)} reference values to {reference} "
             f"({len(scores)} from {results})")
        return 0
    comp = compare(read_reference(reference), scores, tols, reasons=failure_reasons(pairs),
                   exclude=absent)
    echo(format_comparison(comp, max_rows=max_rows, strict=strict))
    return EXIT_REGRESSION if comp.failed(strict) else 0


@click.command(name="regress")
@click.option("--reference", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Reference CSV (method,dataset,subset,pair,metric,convention,value).")
@click.option("--results", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True, help="Results root to check.")
@click.option("--tolerances", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Tolerance TOML (default: tolerances.toml beside the reference).")
@click.option("--rtol", type=float, default=None,
              help="Relative tolerance for every value (replaces the configured ones).")
@click.option("--atol", type=float, default=None,
              help="Absolute tolerance for every value (replaces the configured ones).")
@click.option("--update", is_flag=True,
              help="Rewrite the reference from the results (on purpose; atomic).")
@click.option("--strict", is_flag=True, help="Also fail when a value got better.")
@click.option("--sweep", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Slice TOML: run its methods on its pairs into --results first.")
@click.option("--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Data root for --sweep (default: $FUSIONBENCH_DATA, ./data, ../shared/data).")
@click.option("--jobs", type=int, default=None,
              help="Parallel sweep jobs (default: all cores).")
@click.option("--require-data/--skip-absent-data", default=None,
              help="With --sweep: fail (default under CI=true) or skip when a dataset is absent.")
@click.option("--max-rows", type=int, default=40, show_default=True,
              help="Rows shown per table.")
def regress_command(reference: Path, results: Path, tolerances: Path | None, rtol: float | None,
                    atol: float | None, update: bool, strict: bool, sweep: Path | None,
                    data_root: Path | None, jobs: int | None, require_data: bool | None,
                    max_rows: int) -> None:
    """Compare stored results with a committed reference; fail on regressions.

    Exit codes: 0 no regression, 4 some value got worse, changed (NaN) or went missing,
    1 a file error (reference, tolerances, slice, no results), 2 bad options.
    """
    if require_data is None:
        require_data = os.environ.get("CI", "").lower() == "true"
    code = run_regress(reference, results, tolerances=tolerances, rtol=rtol, atol=atol,
                       update=update, strict=strict, sweep=sweep, data_root=data_root,
                       jobs=jobs or os.cpu_count() or 1, require_data=require_data,
                       max_rows=max_rows, echo=click.echo)
    sys.exit(code)
