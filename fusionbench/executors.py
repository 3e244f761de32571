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

>>> def double(x: int) -> int:
...     return 2 * x
>>> sorted(SerialExecutor().map_unordered(double, [1, 2, 3]))
[2, 4, 6]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


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

    def map_unordered(self, task: Callable[[T], R], items: Iterable[T],
                      setup: WorkerSetup | None = None) -> Iterator[R]:
        """``task(item)`` for every item, yielded as each finishes (any order)."""
        ...


class SerialExecutor:
    """Everything in this process, in order (``--workers 1``)."""

    name = "serial"

    def map_unordered(self, task: Callable[[T], R], items: Iterable[T],
                      setup: WorkerSetup | None = None) -> Iterator[R]:
        if setup is not None:
            setup()
        for item in items:
            yield task(item)


class ProcessPoolExecutorAdapter:
    """A local process pool of ``workers`` processes; each runs ``setup`` once at start."""

    name = "processes"

    def __init__(self, workers: int) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers

    def map_unordered(self, task: Callable[[T], R], items: Iterable[T],
                      setup: WorkerSetup | None = None) -> Iterator[R]:
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
