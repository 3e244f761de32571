"""Tasks for workers that do not see the client's files: the bytes travel with the task.

On a small cluster without a shared filesystem (``--data-access send``) the client reads the
files a task needs and packs them with its item in a :class:`Parcel`. On the worker,
:class:`ShippedTask` writes them into a private temporary folder, calls the real task with the
item and that folder, and returns a :class:`Delivery`: the task's result and every file the
task wrote into the folder, as bytes. The folder is deleted before the result leaves the
worker. The client decides what to do with the files (the runner writes fused images into the
results tree). Nothing here knows about Dask: any executor can carry parcels.

Files are named by their *place*: a relative POSIX path inside the worker's folder (``a/x.png``).

>>> import tempfile
>>> src = Path(tempfile.mkdtemp()) / "x.txt"
>>> _ = src.write_text("hello")
>>> def shout(item: str, folder: Path) -> str:
...     (folder / "out").mkdir()
...     (folder / "out" / "y.txt").write_text((folder / "in/x.txt").read_text().upper())
...     return item
>>> delivery = ShippedTask(shout)(pack("job 1", {"in/x.txt": src}))
>>> delivery.result, delivery.outputs
('job 1', (('out/y.txt', b'HELLO'),))
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Generic, TypeVar

from fusionbench.executors import Executor, LostHandler, WorkerSetup

T = TypeVar("T")
R = TypeVar("R")


def check_place(place: str) -> str:
    """``place`` if it is a plain relative path that stays inside the folder; else ValueError.

    >>> check_place("a/scene_01.png")
    'a/scene_01.png'
    >>> check_place("../etc/passwd")
    Traceback (most recent call last):
    ...
    ValueError: '../etc/passwd' is not a relative path inside the task folder
    """
    pure = PurePosixPath(place)
    if not place or pure.is_absolute() or ".." in pure.parts or "\\" in place:
        raise ValueError(f"{place!r} is not a relative path inside the task folder")
    return place


@dataclass(frozen=True)
class Parcel(Generic[T]):
    """A task's item and the files it needs: ``(place, bytes)``; ``None`` bytes for a file the
    client does not have (the worker creates nothing there, so the task reports it missing)."""

    item: T
    files: tuple[tuple[str, bytes | None], ...] = ()


@dataclass(frozen=True)
class Delivery(Generic[R]):
    """What a shipped task sends back: its result and the files it wrote ``(place, bytes)``."""

    result: R
    outputs: tuple[tuple[str, bytes], ...] = ()


def _read_or_none(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def pack(item: T, files: Mapping[str, Path]) -> Parcel[T]:
    """Read ``files`` (``place -> client path``) into a parcel with ``item``.

    A file that does not exist travels as ``None``. Other read errors (permission) propagate.
    """
    return Parcel(item, tuple((check_place(place), _read_or_none(Path(path)))
                              for place, path in files.items()))


def unpack(parcel: Parcel[Any], folder: Path) -> None:
    """Write the parcel's files into ``folder`` (their parent folders are always created)."""
    for place, data in parcel.files:
        target = folder / check_place(place)
        target.parent.mkdir(parents=True, exist_ok=True)
        if data is not None:
            target.write_bytes(data)


def written_files(folder: Path, shipped: Iterable[str]) -> tuple[tuple[str, bytes], ...]:
    """Every file under ``folder`` that is not one of the ``shipped`` places, sorted."""
    known = set(shipped)
    out = []
    for path in sorted(folder.rglob("*")):
        place = path.relative_to(folder).as_posix()
        if path.is_file() and place not in known:
            out.append((place, path.read_bytes()))
    return tuple(out)


@dataclass(frozen=True)
class ShippedTask(Generic[T, R]):
    """Worker side: ``task(item, folder)`` on a private temporary copy of a parcel's files.

    ``task`` must be picklable (a top-level function or a ``functools.partial`` of one).
    """

    task: Callable[[T, Path], R]

    def __call__(self, parcel: Parcel[T]) -> Delivery[R]:
        with tempfile.TemporaryDirectory(prefix="fusionbench-task-") as tmp:
            folder = Path(tmp)
            unpack(parcel, folder)
            result = self.task(parcel.item, folder)
            outputs = written_files(folder, (place for place, _ in parcel.files))
        return Delivery(result, outputs)


@dataclass(frozen=True)
class _LostParcel:
    """The executor's ``on_lost`` for parcels: the caller's handler, given the item."""

    on_lost: LostHandler

    def __call__(self, parcel: Parcel[Any], reason: str) -> Delivery[Any]:
        return Delivery(self.on_lost(parcel.item, reason))


def map_shipped(executor: Executor, task: Callable[[T, Path], R], items: Iterable[T],
                files_of: Callable[[T], Mapping[str, Path]], setup: WorkerSetup | None = None,
                *, on_lost: LostHandler | None = None) -> Iterator[Delivery[R]]:
    """``task(item, folder)`` for every item on ``executor``, each with its files shipped.

    Parcels are packed lazily, as the executor takes items, so only the executor's window of
    items is held in memory at once. ``on_lost(item, reason)`` gets the item, not the parcel.
    """
    parcels = (pack(item, files_of(item)) for item in items)
    lost = _LostParcel(on_lost) if on_lost is not None else None
    yield from executor.map_unordered(ShippedTask(task), parcels, setup, on_lost=lost)
