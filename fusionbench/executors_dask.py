"""Running tasks on a Dask distributed cluster (the optional ``fusionbench[dask]`` extra).

:class:`DaskExecutor` implements the executor interface of :mod:`fusionbench.executors` on the
cluster whose scheduler is at ``scheduler`` (or ``$FUSIONBENCH_SCHEDULER``), or, with no
address, on a ``LocalCluster`` of worker processes sized to this machine. Only this (client)
process sees results, so it stays the single writer of the results store.

* **Streaming, bounded.** Items travel a few to a Dask task (``batch``: Dask costs ~1-6 ms per
  task, a pair 0.1 s or more). Tasks are submitted in a window (``--workers`` on a shared
  cluster caps how many of yours run at once, so one sweep does not take every worker) and
  results come back as they finish.
* **Once-per-worker set-up.** A :class:`~fusionbench.executors.WorkerSetup` (load a network's
  weights) is registered as a worker plugin: each worker process that offers the resources runs
  it once, and again after a restart. Several sweeps may share the workers (several students on
  one cluster): a worker process holds one set-up at a time and switches only between tasks.
* **Resources.** ``WorkerSetup.resources`` (``{"GPU": 1}``) become Dask task resources, so such
  tasks go only to workers started with ``dask worker ... --resources GPU=1``; tasks without
  them run anywhere. A cluster where no worker offers them is an error, not a silent hang.
* **Faults.** A worker that dies mid-task is replaced (the nanny restarts it) and the items of
  its task run again, each alone, elsewhere or there; an item whose worker still dies more often
  than the scheduler allows is given up and handed to ``on_lost(item, reason)`` (the runner
  records it failed). A task's own failures never reach
  here (the task contract: it returns a failed result), so nothing is retried forever.
* **Data.** ``data_access="shared"`` (default): workers read sources and published outputs by
  path, so every worker must see the data root and the results root at the same path as the
  client (a shared filesystem); :meth:`DaskExecutor.check_paths_visible` verifies it.
  ``data_access="send"``: the client ships each task's files and gets the files it wrote back
  (:mod:`fusionbench.shipping`); workers need no access to the client's files.

>>> DaskExecutor(scheduler="tcp://10.0.0.5:8786").where
'the Dask scheduler at tcp://10.0.0.5:8786'
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

from fusionbench.errors import FusionbenchError, FusionbenchWarning, UsageError
from fusionbench.executors import LostHandler, WorkerSetup, _ClosingMixin, check_choice

MISSING_DASK = ("--executor dask needs Dask distributed, which is not installed: "
                "pip install 'fusionbench[dask]'")
try:
    import dask
    import distributed
    from distributed.diagnostics.plugin import WorkerPlugin
    from distributed.scheduler import KilledWorker
except ImportError as _exc:  # the optional extra is absent
    raise UsageError(MISSING_DASK) from _exc

T = TypeVar("T")
R = TypeVar("R")

#: Environment variable naming the scheduler when ``--scheduler`` is not given.
SCHEDULER_ENV = "FUSIONBENCH_SCHEDULER"

#: Dask configuration for the worker processes a nanny spawns. Dask sets
#: ``MALLOC_TRIM_THRESHOLD_=65536`` there by default; any explicit glibc malloc threshold turns
#: off glibc's adaptive mmap threshold, so every array above 128 KiB (a 1280x1024 float image is
#: 10 MiB) is a fresh ``mmap`` whose pages the kernel faults in and zeroes again: measured 3-4x
#: the kernel time per scored triple and 1.16-1.19x the wall time of a process pool (forked
#: workers keep the client's adaptive malloc). ``None`` unsets it; the thread limits stay.
#: Workers of a remote cluster need it in their Dask configuration (a YAML file, see
#: :data:`WORKER_CONFIG_YAML`; Dask's ``DASK_...`` variables lower-case the name and miss it).
WORKER_ENVIRON: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}

#: The same for ``dask worker``: a file in ``~/.config/dask/`` (or a folder named by
#: ``$DASK_CONFIG``) on each worker machine.
WORKER_CONFIG_YAML = """distributed:
  nanny:
    pre-spawn-environ:
      MALLOC_TRIM_THRESHOLD_: null
"""


class ClusterError(FusionbenchError):
    """The Dask cluster cannot be reached, or cannot run these tasks."""


class ClusterWarning(FusionbenchWarning):
    """The cluster works, but not as well as it could (e.g. workers with slow memory reuse)."""


class TaskLostError(FusionbenchError):
    """A task's worker died more often than allowed and the caller gave no ``on_lost``."""


class _SetupSlot:
    """The one set-up a worker process holds, shared by its task threads.

    Tasks of the active set-up run concurrently; a task of another set-up waits until they have
    finished, then runs its set-up (under the lock) and takes over. A waiting switch stops new
    tasks of the active set-up from entering, so neither side starves.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._token: str | None = None
        self._running = 0
        self._switching = 0

    def enter(self, token: str, setup: WorkerSetup) -> None:
        """Block until ``setup`` is the active set-up of this process, then count a task in."""
        with self._cond:
            if self._token != token or self._switching:
                self._switching += 1
                try:
                    while self._token != token:
                        if self._running == 0:
                            self._activate(token, setup)
                        else:
                            self._cond.wait()
                finally:
                    self._switching -= 1
            self._running += 1

    def leave(self) -> None:
        """Count a task out."""
        with self._cond:
            self._running -= 1
            self._cond.notify_all()

    def prepare_if_idle(self, token: str, setup: WorkerSetup) -> None:
        """Run ``setup`` now if no task is running (the plugin's eager load); else leave it to
        the first task, which does it in :meth:`enter`."""
        with self._cond:
            if self._token != token and self._running == 0:
                self._activate(token, setup)

    def _activate(self, token: str, setup: WorkerSetup) -> None:
        self._token = None
        setup()
        self._token = token
        self._cond.notify_all()


_SLOT = _SetupSlot()


def _run_batch(token: str, setup: WorkerSetup, task: Callable[[T], R], items: list[T]) -> list[R]:
    """What a worker runs for one Dask task: the set-up if this process does not hold it, then
    ``task`` on each of a batch of items."""
    _SLOT.enter(token, setup)
    try:
        return [task(item) for item in items]
    finally:
        _SLOT.leave()


def _offers(offered: dict[str, float], needed: dict[str, float]) -> bool:
    return all(offered.get(name, 0) >= amount for name, amount in needed.items())


class _SetupPlugin(WorkerPlugin):
    """Runs a :class:`WorkerSetup` once when a worker joins (or now, for running workers)."""

    def __init__(self, token: str, setup: WorkerSetup) -> None:
        self.token = token
        self.work = setup

    def setup(self, worker: Any) -> None:
        if not _offers(worker.state.total_resources, self.work.resources):
            return  # this worker never receives these tasks
        try:
            _SLOT.prepare_if_idle(self.token, self.work)
        except Exception:  # noqa: BLE001 - the first task runs it again and reports the error
            logging.getLogger(__name__).exception("fusionbench worker set-up failed")


def _missing_paths(paths: list[str]) -> list[str]:
    """Run on each worker: which of ``paths`` it cannot see."""
    return [p for p in paths if not os.path.exists(p)]


def _malloc_setting() -> str | None:
    """Run on each worker: the glibc malloc threshold its process started with, if any."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def format_resources(resources: dict[str, float]) -> str:
    """``{"GPU": 1.0}`` as ``GPU=1`` (the spelling of ``--resources``).

    >>> format_resources({"GPU": 1.0, "MEMORY": 2.5e9})
    'GPU=1,MEMORY=2500000000'
    """
    return ",".join(f"{k}={v:g}" if v != int(v) else f"{k}={int(v)}"
                    for k, v in resources.items())


class DaskExecutor(_ClosingMixin):
    """Tasks on a Dask cluster; results streamed back to this process as they finish.

    ``scheduler``: address (``tcp://host:8786``), default ``$FUSIONBENCH_SCHEDULER``; with
    neither, a ``LocalCluster`` of ``workers`` processes (default: one per core), each offering
    ``worker_resources``. With an address, ``workers`` caps how many of these tasks run at
    once. ``lost_worker_retries``: how many worker deaths one task may survive on a local
    cluster (a remote cluster uses its own ``distributed.scheduler.allowed-failures``).
    ``batch``: items per Dask task (Dask costs a few ms per task; a pair costs 0.1 s or more).
    ``data_access``: ``shared`` or ``send`` (see the module's notes; the runner acts on it).
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 worker_resources: dict[str, float] | None = None, *,
                 lost_worker_retries: int = 2, connect_timeout: float = 30.0,
                 batch: int = 4, data_access: str = "shared") -> None:
        if workers is not None and workers < 1:
            raise UsageError(f"--workers must be at least 1, got {workers}")
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        check_choice("dask", data_access=data_access)
        self.batch = batch
        self.data_access = data_access
        from_env = not scheduler and bool(os.environ.get(SCHEDULER_ENV))
        self.address = scheduler or os.environ.get(SCHEDULER_ENV) or None
        self._address_source = f" (from ${SCHEDULER_ENV})" if from_env else ""
        self.workers = workers
        self.worker_resources = dict(worker_resources or {})
        self.lost_worker_retries = lost_worker_retries
        self.connect_timeout = connect_timeout
        self._client: distributed.Client | None = None
        self._cluster: distributed.LocalCluster | None = None
        self._malloc_checked = False

    @property
    def where(self) -> str:
        """The cluster in words, for messages."""
        if self.address:
            return f"the Dask scheduler at {self.address}{self._address_source}"
        return "the local Dask cluster"

    @property
    def client(self) -> distributed.Client:
        """The connection, made on first use (a local cluster is started then)."""
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> distributed.Client:
        if self.address:
            try:
                return distributed.Client(self.address, timeout=self.connect_timeout,
                                          set_as_default=False)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ClusterError(
                    f"cannot reach {self.where}: {exc}. Start one with `dask scheduler` and "
                    "`dask worker ADDRESS`, or leave --scheduler out for a local cluster"
                ) from exc
        # One task per worker thread at a time (saturation 1.0, not Dask's 1.1): a worker that
        # dies then takes only the task that killed it into the count of lost-worker retries.
        # Workers start without Dask's MALLOC_TRIM_THRESHOLD_ (see WORKER_ENVIRON). Nannies
        # spawn workers with this process's environment, where an earlier Dask cluster (its
        # nanny writes the variable here) or the shell may have set it: it goes, so restarted
        # workers start without it too (this process's own malloc was set up at its start).
        os.environ.pop("MALLOC_TRIM_THRESHOLD_", None)
        with dask.config.set({"distributed.scheduler.worker-saturation": 1.0,
                              **WORKER_ENVIRON}):
            self._cluster = distributed.LocalCluster(
                n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1,
                processes=True, dashboard_address=None, silence_logs=logging.ERROR,
                resources=self.worker_resources or None,
                scheduler_kwargs={"allowed_failures": self.lost_worker_retries})
        return distributed.Client(self._cluster, set_as_default=False)

    def close(self) -> None:
        """Disconnect; a local cluster is shut down (its workers end)."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _workers_info(self) -> dict[str, dict[str, Any]]:
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        if not info:
            try:
                self.client.wait_for_workers(1, timeout=self.connect_timeout)
            except TimeoutError as exc:
                raise ClusterError(f"{self.where} has no workers (waited "
                                   f"{self.connect_timeout:g} s); start some with "
                                   f"`dask worker {self.address or 'ADDRESS'}`") from exc
            info = self.client.scheduler_info(n_workers=-1)["workers"]
        return info

    def _window(self, needed: dict[str, float]) -> int:
        """How many tasks to keep submitted: ``workers`` on a remote cluster when given, else
        four tasks per thread of the workers that can run them (at least 16; they must exist).
        Workers never hold more than they run (saturation 1.0); the rest wait at the scheduler."""
        info = self._workers_info()
        able = [w for w in info.values() if _offers(w.get("resources", {}), needed)]
        if not able:
            offered = sorted({format_resources(w.get("resources", {})) or "nothing"
                              for w in info.values()})
            raise ClusterError(
                f"no worker of {self.where} offers {format_resources(needed)} (its workers "
                f"offer: {', '.join(offered)}); start one with `dask worker "
                f"{self.address or 'ADDRESS'} --resources {format_resources(needed)}`"
                + ("" if self.address else " or pass --resources to the local cluster"))
        if self.address and self.workers:
            return self.workers
        return max(16, 4 * sum(int(w.get("nthreads", 1)) for w in able))

    def check_worker_malloc(self) -> list[str]:
        """The workers that started with ``MALLOC_TRIM_THRESHOLD_`` set (Dask's default), with
        a :class:`ClusterWarning` naming the fix when there are any (see
        :data:`WORKER_ENVIRON`: ~1.2x slower on image work)."""
        settings = self.client.run(_malloc_setting, on_error="ignore")  # skip a dying worker
        slow = sorted(w for w, v in settings.items() if v is not None)
        if slow:
            warnings.warn(ClusterWarning(
                f"{len(slow)} worker(s) of {self.where} run with MALLOC_TRIM_THRESHOLD_ set "
                "(Dask's default), ~1.2x slower on large images; start them with "
                "'distributed: nanny: pre-spawn-environ: MALLOC_TRIM_THRESHOLD_: null' in "
                "~/.config/dask/fusionbench.yaml (see the README's Dask section)"), stacklevel=2)
        return slow

    def check_paths_visible(self, paths: Iterable[str | Path]) -> None:
        """Raise :class:`ClusterError` unless every worker sees every path (shared storage).

        Workers read sources, published outputs and the results folder by the client's paths.
        """
        wanted = [str(Path(p).resolve()) for p in paths]
        missing = {w: m for w, m in self.client.run(_missing_paths, wanted).items() if m}
        if missing:
            lines = "; ".join(f"{w} lacks {', '.join(m)}" for w, m in sorted(missing.items()))
            raise ClusterError(f"workers of {self.where} cannot see the data: {lines}. Mount "
                               "the same shared folder at the same path on every worker")

    def map_unordered(self, task: Callable[[T], R], items: Iterable[T],
                      setup: WorkerSetup | None = None, *,
                      on_lost: LostHandler | None = None) -> Iterator[R]:
        """``task(item)`` for each item on the cluster, yielded as each finishes.

        Items travel ``batch`` to a Dask task. A batch whose worker died is split: each of its
        items is tried again alone, so that only the item that kills its worker is lost.
        """
        setup = setup or WorkerSetup()
        needed = dict(setup.resources)
        client = self.client
        window = self._window(needed)
        if not self._malloc_checked:
            self._malloc_checked = True
            self.check_worker_malloc()
        token = uuid.uuid4().hex
        plugin = f"fusionbench-setup-{token}"
        try:
            client.register_plugin(_SetupPlugin(token, setup), name=plugin)
        except OSError:  # distributed.comm.CommClosedError is one
            # A worker that died a moment ago is still listed: the scheduler keeps the plugin
            # for every worker anyway, and a worker that missed it runs the set-up in its first
            # task (_run_batch), so the eager load is all that is lost.
            logging.getLogger(__name__).info("a worker missed the set-up plugin", exc_info=True)
        run = partial(_run_batch, token, setup, task)
        todo = iter(items)
        pending: dict[distributed.Future, list[T]] = {}
        finished = distributed.as_completed(loop=client.loop)

        def submit(batches: Iterable[list[T]]) -> None:
            for batch in batches:
                fut = client.submit(run, batch, pure=False, retries=0,
                                    resources=needed or None)
                pending[fut] = batch
                finished.add(fut)

        def next_batches(count: int) -> Iterator[list[T]]:
            for _ in range(count):
                batch = list(islice(todo, self.batch))
                if not batch:
                    return
                yield batch

        try:
            submit(next_batches(window))
            for fut in finished:
                batch = pending.pop(fut)
                lost = fut.status != "finished" and isinstance(fut.exception(), KilledWorker)
                if lost and len(batch) > 1:
                    submit([item] for item in batch)
                    fut.release()
                    continue
                results = [self._lost(fut, batch[0], on_lost)] if lost else fut.result()
                fut.release()
                submit(next_batches(1))
                yield from results
        finally:
            if pending:
                client.cancel(list(pending))
            try:
                client.unregister_worker_plugin(plugin)
            except Exception:  # noqa: BLE001 - a closed cluster has no plugins left to remove
                pass

    def _lost(self, fut: distributed.Future, item: T, on_lost: LostHandler | None) -> Any:
        tries = "" if self.address else f" ({self.lost_worker_retries + 1} tries)"
        reason = (f"the worker process died every time it ran this item alone{tries}: killed, out "
                  "of memory or a crash in native code; not retried further")
        if on_lost is None:
            raise TaskLostError(f"{item!r}: {reason}") from fut.exception()
        return on_lost(item, reason)
