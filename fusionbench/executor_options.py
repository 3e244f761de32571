"""The ``--executor / --scheduler / --resources / --data-access`` options, as one reusable
click decorator.

A command decorated with :func:`executor_options` receives one argument, ``executor``: an
:class:`ExecutorChoice`. :meth:`ExecutorChoice.check` raises every usage problem before any work
(an unknown executor, Dask options without ``--executor dask``, the ``dask`` extra absent);
:meth:`ExecutorChoice.make` builds the executor.

>>> parse_resources("GPU=1,MEMORY=8e9")
{'GPU': 1.0, 'MEMORY': 8000000000.0}
>>> ExecutorChoice("local").make(1).name
'serial'
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from fusionbench.errors import UsageError
from fusionbench.executors import (
    DATA_ACCESS,
    EXECUTOR_KINDS,
    Executor,
    check_choice,
    make_executor,
)


def parse_resources(text: str | None) -> dict[str, float]:
    """``NAME=AMOUNT[,NAME=AMOUNT...]`` (Dask's spelling) as a dict; a UsageError otherwise.

    >>> parse_resources("GPU")
    Traceback (most recent call last):
    ...
    fusionbench.errors.UsageError: --resources 'GPU': expected NAME=AMOUNT[,NAME=AMOUNT], e.g. GPU=1
    """
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, sep, amount = (s.strip() for s in part.partition("="))
        try:
            value = float(amount)
        except ValueError:
            value = math.nan
        if not sep or not name or not math.isfinite(value) or value <= 0:
            raise UsageError(f"--resources {part.strip()!r}: expected NAME=AMOUNT[,NAME=AMOUNT]"
                             ", e.g. GPU=1")
        out[name] = value
    return out


@dataclass(frozen=True)
class ExecutorChoice:
    """Where a run computes: ``kind`` (``local``/``dask``), the scheduler, task resources, and
    how workers reach the files (``data_access``: ``shared`` paths or ``send`` the bytes).

    ``resources`` is what one task of a method that uses an accelerator asks for (the runner
    puts it in that method's :class:`~fusionbench.executors.WorkerSetup`); a local Dask
    cluster's workers offer it too, so such tasks can run there.
    """

    kind: str = "local"
    scheduler: str | None = None
    resources: dict[str, float] = field(default_factory=dict)
    data_access: str = "shared"

    def check(self) -> None:
        """Every usage problem, before any work (no connection is made)."""
        check_choice(self.kind, self.scheduler, self.resources, self.data_access)
        if self.kind == "dask":
            importlib.import_module("fusionbench.executors_dask")  # UsageError naming the extra

    def make(self, workers: int | None) -> Executor:
        """The executor (``workers``: processes of a local pool or cluster; on a remote
        cluster, how many of this run's tasks may run at once)."""
        self.check()
        return make_executor(self.kind, workers, self.scheduler, self.resources or None,
                             self.data_access)


def executor_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--executor``, ``--scheduler``, ``--resources`` and ``--data-access``; pass
    ``executor=ExecutorChoice``.

    The scheduler defaults to ``$FUSIONBENCH_SCHEDULER`` inside the Dask executor, not here, so
    that the variable set in a shell never changes a ``--executor local`` run.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, executor_kind: str, scheduler: str | None,
                resources: str | None, data_access: str, **kwargs: Any) -> Any:
        choice = ExecutorChoice(executor_kind, scheduler or None, parse_resources(resources),
                                data_access)
        return func(*args, executor=choice, **kwargs)

    options = [
        click.option("--executor", "executor_kind", type=click.Choice(EXECUTOR_KINDS),
                     default="local", show_default=True,
                     help="Where pairs are computed: a local process pool, or a Dask cluster "
                          "(needs the fusionbench[dask] extra)."),
        click.option("--scheduler", default=None, metavar="ADDRESS",
                     help="Dask scheduler, e.g. tcp://host:8786 (default: "
                          "$FUSIONBENCH_SCHEDULER, else a local cluster of --workers "
                          "processes)."),
        click.option("--resources", default=None, metavar="NAME=N[,...]",
                     help="Dask resources each network-method task needs, e.g. GPU=1: such "
                          "tasks go only to workers started with the same --resources."),
        click.option("--data-access", "data_access", type=click.Choice(DATA_ACCESS),
                     default="shared", show_default=True,
                     help="How Dask workers reach the data: 'shared', by the same paths "
                          "(a shared filesystem); 'send', the client sends each pair's files "
                          "and receives the fused image (no shared filesystem needed)."),
    ]
    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
