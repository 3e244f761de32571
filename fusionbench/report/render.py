"""Drawing the report's figures beside the rest of the work, and only when their inputs changed.

A :class:`FigureJob` is one figure: a picklable top-level function, its arguments, the files it
writes (known before it runs, so the tables can link them at once) and the files whose bytes it
reads (the images of a grid). :class:`FigureRenderer` draws the jobs in worker processes (forked
from this one, with matplotlib already imported, so a worker starts in milliseconds) while the
calling process goes on with the tables, significance tests and templates; ``workers=0`` draws
each job at once in this process.

A job is skipped when the output folder already holds its files from a job with exactly the
same inputs: the key is the sha256 of the pickled function name and arguments, the bytes of
every input file, the source of the drawing modules (with :mod:`fusionbench.imageio`, whose
decoding rules decide a grid's pixels, and its ``$FUSIONBENCH_MAX_PIXELS``), the matplotlib /
Pillow versions, matplotlib's settings and its default font; the files must still have the
sha256 they were written with. The keys live in ``assets/.figure-inputs.json``; a missing or
unreadable index only means everything is drawn.

>>> job = FigureJob(len, ("abc",), outputs=())
>>> job_key(job) == job_key(FigureJob(len, ("abc",), outputs=()))
True
>>> job_key(job) == job_key(FigureJob(len, ("abd",), outputs=()))
False
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

INDEX_NAME = ".figure-inputs.json"
INDEX_VERSION = 1
#: modules whose code decides what a figure looks like (part of every job's key); a grid's
#: tiles are the images as :func:`fusionbench.imageio.read_image` decodes them
DRAWING_MODULES = ("fusionbench.report.figures", "fusionbench.report.grids", "fusionbench.imageio")


@dataclass(frozen=True)
class FigureJob:
    """``function(*args, **kwargs)`` writes ``outputs``; it reads the files ``inputs`` (their
    bytes are part of the key)."""

    function: Callable[..., Any]
    args: tuple[Any, ...]
    outputs: tuple[Path, ...]
    inputs: tuple[str, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def _file_digest(path: str | Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def _code_digest() -> str:
    """sha256 of the drawing modules' source, the library versions, matplotlib's settings (a
    ``matplotlibrc``), the bytes of its default font and the decoder's pixel limit."""
    import importlib

    import matplotlib

    matplotlib.use("Agg")
    import PIL
    from matplotlib import font_manager

    from fusionbench.imageio import MAX_PIXELS_ENV

    digest = hashlib.sha256(f"{matplotlib.__version__} {PIL.__version__}".encode())
    for name in DRAWING_MODULES:
        digest.update(Path(importlib.import_module(name).__file__ or "").read_bytes())
    digest.update(repr(sorted((k, repr(v)) for k, v in matplotlib.rcParams.items())).encode())
    digest.update(_file_digest(font_manager.findfont(font_manager.FontProperties())).encode())
    digest.update(f"\0{MAX_PIXELS_ENV}={os.environ.get(MAX_PIXELS_ENV, '')}".encode())
    return digest.hexdigest()


def job_key(job: FigureJob, code: str = "") -> str:
    """sha256 of everything that decides a job's files (see the module docstring)."""
    digest = hashlib.sha256(code.encode())
    digest.update(f"{job.function.__module__}.{job.function.__qualname__}".encode())
    digest.update(pickle.dumps((job.args, sorted(job.kwargs.items())), protocol=5))
    digest.update(pickle.dumps([str(p) for p in job.outputs]))
    for path in job.inputs:
        digest.update(f"{path}\0{_file_digest(path)}\0".encode())
    return digest.hexdigest()


def default_workers() -> int:
    """Worker processes for drawing: the cores left idle by the load average (rounded, at most
    4); 0 (draw here) when none is, on one core or where processes cannot be forked. On a busy
    machine more processes only add work (every process imports the drawing libraries)."""
    if "fork" not in multiprocessing.get_all_start_methods() or sys.platform == "darwin":
        return 0
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    idle = round(cores - os.getloadavg()[0])
    return 0 if cores < 2 else max(0, min(idle, cores, 4))


def _run(job: FigureJob) -> None:
    job.function(*job.args, **job.kwargs)


class FigureRenderer:
    """Draws :class:`FigureJob` s (see the module docstring); ``done()`` is called once per job,
    drawn or skipped. Use as a context manager: leaving it waits for every job and raises the
    first error a job raised."""

    def __init__(self, assets: Path, workers: int | None = None,
                 done: Callable[[], object] = lambda: None) -> None:
        self.assets = Path(assets)
        self.workers = default_workers() if workers is None else workers
        self.done = done
        self.drawn: list[Path] = []  # outputs of the jobs drawn (not skipped), for tests
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[tuple[FigureJob, str, Future]] = []
        self._index = self._read_index()
        self._new_index: dict[str, dict[str, Any]] = {}
        self._code: str | None = None  # computed on the first job (imports matplotlib)
        self._submitted = False

    def _read_index(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads((self.assets / INDEX_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        ok = isinstance(data, dict) and data.get("version") == INDEX_VERSION
        entries = data.get("jobs") if ok else None
        return entries if isinstance(entries, dict) else {}

    def _unchanged(self, job: FigureJob, key: str) -> bool:
        entry = self._index.get(job.outputs[0].name) if job.outputs else None
        if not isinstance(entry, dict) or entry.get("key") != key:
            return False
        files = entry.get("files")
        return (isinstance(files, dict) and set(files) == {p.name for p in job.outputs}
                and all(files[p.name] == _file_digest(p) for p in job.outputs))

    def submit(self, job: FigureJob) -> None:
        """Draw ``job`` (in a worker when there are workers), or skip it when unchanged."""
        if self._code is None:
            self._code = _code_digest()
        self._submitted = True
        key = job_key(job, self._code)
        if self._unchanged(job, key):
            self._remember(job, key)
            self.done()
            return
        if self.workers == 0:
            _run(job)
            self._finished(job, key)
            return
        if self._pool is None:
            from concurrent.futures import ProcessPoolExecutor

            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot  # noqa: F401 (imported once here, inherited by workers)

            self._pool = ProcessPoolExecutor(self.workers,
                                             mp_context=multiprocessing.get_context("fork"))
        future = self._pool.submit(_run, job)
        future.add_done_callback(lambda _f: self.done())
        self._pending.append((job, key, future))

    def _remember(self, job: FigureJob, key: str) -> None:
        if job.outputs:
            self._new_index[job.outputs[0].name] = {
                "key": key, "files": {p.name: _file_digest(p) for p in job.outputs}}

    def _finished(self, job: FigureJob, key: str) -> None:
        self.drawn.extend(job.outputs)
        self._remember(job, key)
        self.done()

    def close(self) -> None:
        """Wait for every job, write the index of what the folder now holds, raise the first
        job error (the index then lists only the jobs that finished)."""
        error: BaseException | None = None
        try:
            for job, key, future in self._pending:
                exc = future.exception()
                if exc is None:
                    self.drawn.extend(job.outputs)
                    self._remember(job, key)
                elif error is None:
                    error = exc
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pending, self._pool = [], None
            self._write_index()
        if error is not None:
            raise error

    def _write_index(self) -> None:
        if not self._submitted:  # nothing drawn (e.g. no figures): the folder is unchanged
            return
        self.assets.mkdir(parents=True, exist_ok=True)
        path = self.assets / INDEX_NAME
        text = json.dumps({"version": INDEX_VERSION, "jobs": dict(sorted(
            self._new_index.items()))}, indent=1)
        path.write_text(text + "\n", encoding="utf-8")

    def __enter__(self) -> FigureRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["FigureJob", "FigureRenderer", "default_workers", "job_key"]
