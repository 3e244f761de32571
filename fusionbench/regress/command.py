"""The ``fusionbench regress`` command: compare, report, exit code."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from fusionbench.regress.common import EXIT_REGRESSION, RegressionError
from fusionbench.regress.compare import compare
from fusionbench.regress.formatting import failure_reasons, format_comparison
from fusionbench.regress.reference import read_reference, updated_reference, write_reference
from fusionbench.regress.sweep import load_slice, run_sweep
from fusionbench.regress.tolerances import Tolerance, load_tolerances


def run_regress(reference: Path, results: Path, *, tolerances: Path | None = None,
                rtol: float | None = None, atol: float | None = None, update: bool = False,
                strict: bool = False, sweep: Path | None = None, data_root: Path | None = None,
                jobs: int = 1, require_data: bool = False, max_rows: int = 40,
                echo: Any = print) -> int:
    """Everything ``fusionbench regress`` does; returns the exit code."""
    from fusionbench.data import resolve_data_root
    from fusionbench.options import check_tolerance
    from fusionbench.report.load import ReportError, load_results

    check_tolerance(rtol, "--rtol")
    check_tolerance(atol, "--atol")
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
