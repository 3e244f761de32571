"""Where the per-pair work of a run is computed: the executor interface.

The runner turns a run into independent tasks (one per pair) and hands them to an executor.
An executor only *computes*: it calls ``task(item)`` somewhere (this process, a process pool,
a Dask cluster) and yields the results back to the calling process as they finish, in any
order. The calling process is the single writer of the results store, so the store's
guarantees do not depend on where the work ran.

Contract for a task function: a picklable top-level function that never raises for a problem
of its item (it returns a result that records the failure); an exception that escapes it is an
infrastructure failure and ends the run.

``WorkerSetup`` is what each worker does once before its first task (e.g. load a network's
weights): a picklable top-level function and its arguments.

A worker process that dies in the middle of a task (killed, out of memory, a crash in native
code) is not the task's fault: executors that can tell which task it was (Dask) run it again,
a bounded number of times, and then hand ``on_lost(item, reason)`` to the caller so that the
item is recorded as failed instead of retried forever. Local executors cannot attribute a dead
process to one task and end the run (the store keeps what finished; a re-run resumes).

:func:`make_executor` builds one from the command-line choices; executors hold resources (a
process pool, a cluster connection) until :meth:`Executor.close` (or the end of a ``with``).

>>> def double(x: int) -> int:
...     return 2 * x
>>> sorted(SerialExecutor().map_unordered(double, [1, 2, 3]))
[2, 4, 6]
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from fusionbench.errors import UsageError

T = TypeVar("T")
R = TypeVar("R")

#: ``on_lost(item, reason)``: the result to record for an item whose worker kept dying.
LostHandler = Callable[[Any, str], Any]

#: Values of ``--executor``.
EXECUTOR_KINDS: tuple[str, ...] = ("local", "dask")

#: Values of ``--data-access``: ``shared``, workers read the client's files by path (a shared
#: filesystem, or this machine); ``send``, the client ships the bytes with each task
#: (:mod:`fusionbench.shipping`).
DATA_ACCESS: tuple[str, ...] = ("shared", "send")


@dataclass(frozen=True)
class WorkerSetup:
    """Work each worker does once before its first task; ``resources`` it needs (Dask style,
    e.g. ``{"GPU": 1}``; local executors ignore them)."""

    function: Callable[..., None] | None = None
    args: tuple[Any, ...] = ()
    resources: dict[str, float] = field(default_factory=dict)

    def __call__(self) -> None:
        if self.function is not None:
            self.function(*self.args)


class Executor(Protocol):
    """Computes tasks and yields their results as they finish."""

    name: str
    #: how workers reach the client's files (one of :data:`DATA_ACCESS`)
    data_access: str

    def map_unordered(self, task: Callable[[T], R], items: Iterable[T],
                      setup: WorkerSetup | None = None, *,
                      on_lost: LostHandler | None = None) -> Iterator[R]:
        """``task(item)`` for every item, yielded as each finishes (any order)."""
        ...

    def close(self) -> None:
        """Release what the executor holds (idempotent)."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class _ClosingMixin:
    """``with executor:`` calls ``close()``; executors holding nothing need no more. Local
    executors share this machine's files."""

    data_access = "shared"

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self):  # noqa: ANN204 - returns the concrete executor
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialExecutor(_ClosingMixin):
    """Everything in this process, in order (``--workers 1``)."""

    name = "serial"

    def map_unordered(self, task: Callable[[T], R], items: Iterable[T],
                      setup: WorkerSetup | None = None, *,
                      on_lost: LostHandler | None = None) -> Iterator[R]:
        if setup is not None:
            setup()
        for item in items:
            yield task(item)


class ProcessPoolExecutorAdapter(_ClosingMixin):
    """A local process pool of ``workers`` processes; each runs ``setup`` once at start."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def map_unordered(self, task: Callable[[T], R], items: Iterable[T],
                      setup: WorkerSetup | None = None, *,
                      on_lost: LostHandler | None = None) -> Iterator[R]:
        items = list(items)
        if not items:
            return
        init = setup if setup is not None else None
        with ProcessPoolExecutor(max_workers=min(self.workers, len(items)),
                                 initializer=init) as pool:
            futures = [pool.submit(task, item) for item in items]
            for fut in as_completed(futures):
                yield fut.result()


def local_executor(workers: int) -> Executor:
    """The default executor: serial for one worker, else a local process pool."""
    return SerialExecutor() if workers == 1 else ProcessPoolExecutorAdapter(workers)


def check_choice(kind: str, scheduler: str | None = None,
                 resources: dict[str, float] | None = None, data_access: str = "shared") -> None:
    """A UsageError for an unknown executor or data access, or Dask options without Dask.

    >>> check_choice("local", scheduler="tcp://h:8786")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fusionbench.errors.UsageError: --scheduler, --resources and --data-access send need ...
    """
    if kind not in EXECUTOR_KINDS:
        raise UsageError(f"--executor {kind!r} is unknown (choose {' or '.join(EXECUTOR_KINDS)})")
    if data_access not in DATA_ACCESS:
        raise UsageError(f"--data-access {data_access!r} is unknown (choose "
                         f"{' or '.join(DATA_ACCESS)})")
    if kind != "dask" and (scheduler or resources or data_access != "shared"):
        raise UsageError("--scheduler, --resources and --data-access send need --executor dask")


def make_executor(kind: str, workers: int | None, scheduler: str | None = None,
                  resources: dict[str, float] | None = None,
                  data_access: str = "shared") -> Executor:
    """The executor chosen on the command line.

    ``local``: serial for one worker, else a process pool of ``workers`` (default: all cores).
    ``dask``: a :class:`~fusionbench.executors_dask.DaskExecutor` on the cluster at
    ``scheduler`` (default ``$FUSIONBENCH_SCHEDULER``), else on a ``LocalCluster`` of
    ``workers`` processes; ``resources`` is what each worker of a local cluster offers (remote
    workers declare theirs with ``dask worker --resources``). ``data_access``: one of
    :data:`DATA_ACCESS` (``send`` only with Dask: local workers see this machine's files).

    >>> make_executor("local", 1).name
    'serial'
    >>> make_executor("threads", 2)
    Traceback (most recent call last):
    ...
    fusionbench.errors.UsageError: --executor 'threads' is unknown (choose local or dask)
    """
    check_choice(kind, scheduler, resources, data_access)
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    if kind == "local":
        return local_executor(workers or os.cpu_count() or 1)
    from fusionbench.executors_dask import DaskExecutor  # a UsageError naming the extra if absent

    return DaskExecutor(scheduler=scheduler, workers=workers, worker_resources=resources,
                        data_access=data_access)
