"""The ``fusionbench`` command line.

Start-up stays fast: heavy modules (numpy-based metrics, torch, matplotlib) are imported only
inside the command that needs them.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from fusionbench import __version__
from fusionbench.errors import (
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_PAIRS_FAILED,
    FusionbenchError,
    FusionbenchWarning,
    OutputError,
    is_output_os_error,
)
from fusionbench.executor_options import ExecutorChoice, executor_options
from fusionbench.heap import keep_freed_heap
from fusionbench.matching import RENAME_FORMAT

if TYPE_CHECKING:
    from fusionbench.commands import Event, ScoringResult
    from fusionbench.presenting import Line

#: Commands whose implementation lives in modules that are imported only when used.
LAZY_COMMANDS = {
    "report": ("fusionbench.report.cli", "report_command"),
    "train": ("fusionbench.methods.clfnet.cli", "train_command"),
    "regress": ("fusionbench.regress", "regress_command"),
}
#: Environment variable that turns ``--debug`` on (also seen by worker processes).
DEBUG_ENV = "FUSIONBENCH_DEBUG"


class CommandError(click.ClickException):
    """A :class:`FusionbenchError` on its way out of a command: ``error: <message>`` on stderr
    and the error's exit code, also under click's own runner (``CliRunner``)."""

    def __init__(self, error: FusionbenchError) -> None:
        super().__init__(str(error))
        self.error = error
        self.exit_code = error.exit_code

    def show(self, file: Any = None) -> None:
        if debug_enabled():
            traceback.print_exception(self.error, file=file or sys.stderr)
        click.echo(f"error: {self.message}", err=True, file=file)


class LazyGroup(click.Group):
    """A click group that imports some commands only when they are invoked.

    It is also where every command's errors meet: a :class:`FusionbenchError`, or an
    ``OSError`` meaning "cannot write here", becomes a :class:`CommandError`.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FusionbenchError as exc:
            raise CommandError(exc) from exc
        except OSError as exc:
            if is_output_os_error(exc):
                raise CommandError(OutputError.from_os_error(exc)) from exc
            raise

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(LAZY_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[cmd_name]
            return getattr(importlib.import_module(module), attr)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                rows.append((name, _LAZY_HELP.get(name, "")))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=70)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


_LAZY_HELP = {
    "report": "Write tables, box plots, image grids and an HTML report from stored results.",
    "train": "Train a network method (CLF-Net) on a dataset of pairs.",
    "regress": "Compare stored results with a committed reference; fail on regressions.",
}


def echo_lines(lines: Sequence[Line]) -> None:
    """Print the lines of a :mod:`fusionbench.presenting` function, each to its stream."""
    for line in lines:
        click.echo(line.text, err=line.err)


@contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], Any]]:
    """A progress bar on stderr for ``total`` pairs (the ``progress`` of ``run``/``eval``)."""
    from tqdm import tqdm

    with tqdm(total=total, desc=label, unit="pair", leave=True, dynamic_ncols=True) as bar:
        yield bar.update


def scoring_exit(result: ScoringResult) -> int:
    """The exit code of ``run`` and ``eval``: 3 when some pair failed, else 0."""
    return EXIT_PAIRS_FAILED if result.any_failed else 0


def show_event(event: Event) -> None:
    """Print one step ``run`` or ``eval`` reported, as it happens (their ``on_event``)."""
    from fusionbench.presenting import format_event

    echo_lines(format_event(event))


data_root_option = click.option(
    "--data-root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder holding the datasets (default: $FUSIONBENCH_DATA, ./data, ../shared/data).")




def scoring_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options shared by ``run`` and ``eval``: where results go and what is scored."""
    options = [
        click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("results"), show_default=True, help="Results root."),
        data_root_option,
        click.option("--metrics", default=None,
                     help="Comma-separated metrics (default: the profile's six)."),
        click.option("--profile", "profiles", multiple=True,
                     help="Metric convention(s); repeatable (default: standard and tang2022)."),
        click.option("--workers", type=int, default=None,
                     help="Parallel processes (default: all cores; 1 for network methods)."),
        click.option("--force", is_flag=True, default=False,
                     help="First drop everything stored for this run (says what it dropped)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fusionbench")
@click.option("--debug", is_flag=True, default=False,
              help=f"Show the full traceback of an error (or set ${DEBUG_ENV}=1).")
def cli(debug: bool) -> None:
    """fusionbench: fuse, score under named metric conventions, report, guard in CI."""
    if debug:
        os.environ[DEBUG_ENV] = "1"


@cli.command()
@click.option("--method", "method_names", required=True,
              help="Method name, several comma-separated, or 'all'.")
@click.option("--dataset", required=True, help="Dataset card name or a folder of pairs.")
@click.option("--subset", default=None, help="Subset (default: every available subset).")
@scoring_options
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default=None,
              help="Device for network methods (default: cuda when available).")
@click.option("--weights", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Weights file for a network method (default: the shipped weights).")
@executor_options
def run(method_names: str, dataset: str, subset: str | None, out: Path, data_root: Path | None,
        device: str | None, weights: Path | None, metrics: str | None,
        profiles: tuple[str, ...], workers: int | None, force: bool,
        executor: ExecutorChoice) -> None:
    """Fuse every pair of a dataset with a method, score, and store the results."""
    from fusionbench.commands import run_command

    result = run_command(method_names, dataset, subset, out, data_root, device, weights,
                         metrics, profiles, workers, executor, force=force,
                         progress=progress_bar, on_event=show_event)
    sys.exit(scoring_exit(result))


@cli.command(name="eval")
@click.option("--fused", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder of fused images named by pair.")
@click.option("--dataset", required=True, help="Dataset card name or a folder of pairs.")
@click.option("--name", required=True, help="Method name to store the scores under.")
@click.option("--subset", default=None, help="Subset of the dataset.")
@click.option("--pattern", default="{pair}.*", show_default=True,
              help="File name rule of a pair's fused image.")
@click.option("--rename", "rename_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help=f"Rename table for files not named by pair (e.g. Tang's "
              f"numbered 01.png ...): {RENAME_FORMAT}.")
@scoring_options
def eval_(fused: Path, dataset: str, name: str, subset: str | None, pattern: str,
          rename_file: Path | None, out: Path, data_root: Path | None, metrics: str | None,
          profiles: tuple[str, ...], workers: int | None, force: bool) -> None:
    """Score a folder of fused images (e.g. published outputs) without running anything."""
    from fusionbench.commands import eval_command

    result = eval_command(fused, dataset, name, subset, pattern, out, data_root, metrics,
                          profiles, workers, rename_file, force=force, progress=progress_bar,
                          on_event=show_event)
    sys.exit(scoring_exit(result))


@cli.group(invoke_without_command=True)
@data_root_option
@click.pass_context
def methods(ctx: click.Context, data_root: Path | None) -> None:
    """List methods (name, kind, datasets covered); `methods show NAME` shows a card."""
    ctx.obj = {"data_root": data_root}
    if ctx.invoked_subcommand is None:
        from fusionbench.commands import list_methods
        from fusionbench.presenting import format_methods

        echo_lines(format_methods(list_methods(data_root)))


@methods.command(name="show")
@click.argument("name")
@click.pass_context
def methods_show(ctx: click.Context, name: str) -> None:
    """Show one method's card."""
    from fusionbench.commands import show_method
    from fusionbench.presenting import format_method_card

    echo_lines(format_method_card(show_method(name, ctx.obj.get("data_root"))))


@cli.group(invoke_without_command=True)
@data_root_option
@click.pass_context
def datasets(ctx: click.Context, data_root: Path | None) -> None:
    """List dataset cards; `datasets check NAME` validates a layout."""
    ctx.obj = {"data_root": data_root}
    if ctx.invoked_subcommand is None:
        from fusionbench.commands import list_datasets
        from fusionbench.presenting import format_datasets

        echo_lines(format_datasets(list_datasets(data_root)))


@datasets.command(name="check")
@click.argument("name")
@click.option("--subset", default=None)
@click.pass_context
def datasets_check(ctx: click.Context, name: str, subset: str | None) -> None:
    """Report every problem of a dataset's layout (exit 1 when there is any)."""
    from fusionbench.commands import check_dataset
    from fusionbench.presenting import format_check

    checks = check_dataset(name, subset, ctx.obj.get("data_root"))
    echo_lines(format_check(checks))
    sys.exit(EXIT_INPUT if any(check.problems for check in checks) else 0)


@cli.command()
@click.option("--results", "root", type=click.Path(file_okay=False, path_type=Path),
              default=Path("results"), show_default=True, help="Results root.")
@click.option("--dataset", default=None, help="Only runs of this dataset (stored name).")
@click.option("--subset", default=None, help="Only runs of this subset.")
@click.option("--method", default=None, help="Only runs stored under this name.")
@click.option("--yes", is_flag=True, help="Really delete (without it: list what would go).")
def clean(root: Path, dataset: str | None, subset: str | None, method: str | None,
          yes: bool) -> None:
    """Drop stored runs (the only way results are removed); says what it dropped."""
    from fusionbench.presenting import format_clean
    from fusionbench.store.clean import drop_runs

    dropped = drop_runs(root, dataset=dataset, subset=subset, method=method, dry_run=not yes)
    echo_lines(format_clean(dropped, root, dry_run=not yes))


results_option = click.option(
    "--results", "root", type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"), show_default=True, help="Results root.")


@cli.command(name="import")
@results_option
def import_(root: Path) -> None:
    """Move results of the earlier per-pair JSON layout into the store, once."""
    from fusionbench.presenting import format_import
    from fusionbench.store.legacy import import_legacy

    echo_lines(format_import(import_legacy(root), root))


@cli.command()
@results_option
@click.option("--fix", is_flag=True, help="Rewrite exports that no longer match the store.")
def verify(root: Path, fix: bool) -> None:
    """Check the store and every file beside it; exit 1 when something disagrees."""
    from fusionbench.presenting import format_verify
    from fusionbench.store.verify import verify as verify_store

    problems = verify_store(root, fix=fix)
    echo_lines(format_verify(problems, root))
    if any(not found.fixed for found in problems):
        sys.exit(EXIT_INPUT)


@cli.command(name="metrics")
def metrics_cmd() -> None:
    """List metrics (direction, range) and metric conventions (profiles)."""
    from fusionbench.commands import list_metrics
    from fusionbench.presenting import format_metrics

    echo_lines(format_metrics(list_metrics()))


def debug_enabled() -> bool:
    """Whether tracebacks are wanted (``--debug`` or ``$FUSIONBENCH_DEBUG`` set to 1)."""
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


def describe_error(exc: BaseException) -> tuple[str, int]:
    """The one-or-two-line message and the exit code for an exception that reached ``main``.

    >>> describe_error(OSError(30, "Read-only file system", "/ro/out/x.csv"))
    ('error: cannot write in /ro/out: the file system is read-only: choose a writable folder', 6)
    >>> describe_error(ZeroDivisionError("division by zero"))[1]
    70
    """
    if isinstance(exc, FusionbenchError):
        return f"error: {exc}", exc.exit_code
    if is_output_os_error(exc):
        assert isinstance(exc, OSError)
        error = OutputError.from_os_error(exc)
        return f"error: {error}", error.exit_code
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"error: {where}{exc.strerror or exc}", EXIT_INPUT
    if isinstance(exc, MemoryError):
        return ("error: out of memory (an image too large, or too many --workers for this "
                "machine's memory)"), EXIT_INPUT
    return (f"internal error: {type(exc).__name__}: {exc}\n"
            f"  this is a bug in fusionbench or in a plugin; rerun with `fusionbench --debug "
            f"...` for the traceback and report it"), EXIT_INTERNAL


_SHOW_WARNING = warnings.showwarning


def show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
    """Print fusionbench's own warnings as ``warning: <message>`` (others as Python does)."""
    if issubclass(category, FusionbenchWarning):
        click.echo(f"warning: {message}", err=True)
    else:
        _SHOW_WARNING(message, category, filename, lineno, file, line)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry: one-line errors with the documented exit codes, no tracebacks.

    Tracebacks are printed only with ``--debug`` (see :mod:`fusionbench.errors` for the codes).
    """
    warnings.showwarning = show_warning
    keep_freed_heap()  # the metrics' full-size maps: no page faults on every call (heap.py)
    try:
        cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except SystemExit:
        raise
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted: finished pairs are stored; run the same command to resume",
                   err=True)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        # the reader of our output went away (`fusionbench methods | head`): stop quietly
        sys.stdout = open(os.devnull, "w")  # the old stream is closed
        sys.exit(EXIT_INPUT)
    except BaseException as exc:
        if debug_enabled():
            traceback.print_exception(exc)
        message, code = describe_error(exc)
        click.echo(message, err=True)
        sys.exit(code)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
