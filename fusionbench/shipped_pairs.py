"""``--data-access send``: the runner's pairs computed on workers that cannot see its files.

The client ships a pair's two sources and, when there is one, its fused image (a published
method's file or the fused PNG an earlier run of ours left); the worker runs the runner's own
:func:`~fusionbench.runner.process_pair` on private copies laid out as::

    a/<source a's file name>      b/<source b's file name>
    published/<the method's matching files>      run/<dataset>/<subset>/<method>/fused/

and the record it returns names the client's paths again (a reason such as "file not found"
names the client's file). The client writes the fused PNG the worker made into the results
tree; the records go to the store as in a shared-filesystem run, so both give the same results.

>>> restore = PathMap({"/tmp/w/a/x.png": "/data/ir/x.png", "/tmp/w/run": "/results"})
>>> restore("/tmp/w/a/x.png: cannot read; /tmp/w/run/d/s/m/fused/x.png")
'/data/ir/x.png: cannot read; /results/d/s/m/fused/x.png'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from fusionbench.atomic import atomic_write_bytes
from fusionbench.data import Pair
from fusionbench.executors import Executor, LostHandler, WorkerSetup
from fusionbench.matching import fused_candidates
from fusionbench.shipping import Delivery, map_shipped
from fusionbench.store import PairRecord, RunPaths

if TYPE_CHECKING:
    from fusionbench.registry import Method
    from fusionbench.runner import RunConfig

#: Folder of the worker's copy of the results root (where a fused PNG is written).
RUN_PLACE = "run"
PUBLISHED_PLACE = "published"


@dataclass(frozen=True)
class PathMap:
    """Replaces path prefixes in text, longest first (``/w/a`` never shadows ``/w/ab``)."""

    prefixes: dict[str, str]

    def __call__(self, text: str) -> str:
        for old in sorted(self.prefixes, key=len, reverse=True):
            text = text.replace(old, self.prefixes[old])
        return text


@dataclass(frozen=True)
class PairShipping:
    """How one run's pairs travel: what to ship, how a worker runs them, what comes back."""

    method: Method
    paths: RunPaths
    published_dir: Path | None
    config: RunConfig

    def files_of(self, pair: Pair) -> dict[str, Path]:
        """The client files one pair needs, by place in the worker's folder."""
        files = {f"a/{pair.a.name}": pair.a, f"b/{pair.b.name}": pair.b}
        if self.published_dir is not None:
            for match in fused_candidates(self.published_dir, self.method.file_pattern,
                                          pair.name, self.method.file_rename):
                files[f"{PUBLISHED_PLACE}/{match.name}"] = match
        else:
            own = self.paths.fused_dir / f"{pair.name}.png"
            if own.is_file():  # reused by process_pair, as in a shared run
                files[f"{RUN_PLACE}/{own.relative_to(self.paths.root).as_posix()}"] = own
        return files

    def receive(self, delivery: Delivery[PairRecord]) -> PairRecord:
        """Write the fused image a worker made into the results tree; return the record."""
        for place, data in delivery.outputs:
            parts = PurePosixPath(place).parts
            if parts[0] == RUN_PLACE and not parts[-1].startswith("."):
                atomic_write_bytes(self.paths.root.joinpath(*parts[1:]), data)
        return delivery.result

    def run(self, executor: Executor, pairs: Iterable[Pair], setup: WorkerSetup | None = None,
            *, on_lost: LostHandler | None = None) -> Iterator[PairRecord]:
        """The records of ``pairs`` computed on ``executor`` from shipped bytes."""
        task = partial(process_shipped_pair, self)
        for delivery in map_shipped(executor, task, pairs, self.files_of, setup,
                                    on_lost=on_lost):
            yield self.receive(delivery)


def process_shipped_pair(shipping: PairShipping, pair: Pair, folder: Path) -> PairRecord:
    """Worker side: :func:`~fusionbench.runner.process_pair` on the copies in ``folder``, its
    record naming the client's files."""
    from fusionbench.runner import process_pair

    local = Pair(pair.name, folder / "a" / pair.a.name, folder / "b" / pair.b.name)
    local_paths = replace(shipping.paths, root=folder / RUN_PLACE)
    local_published = folder / PUBLISHED_PLACE if shipping.published_dir is not None else None
    if local_published is not None:  # a pair without a shipped file is missing, not failed
        local_published.mkdir(parents=True, exist_ok=True)
    record = process_pair(shipping.method, local, local_paths, local_published,
                          shipping.config)
    prefixes = {str(local.a): str(pair.a), str(local.b): str(pair.b),
                str(local_paths.root): str(shipping.paths.root)}
    if local_published is not None:
        prefixes[str(local_published)] = str(shipping.published_dir)
    restore = PathMap(prefixes)
    return replace(record, reason=restore(record.reason), a_path=restore(record.a_path),
                   b_path=restore(record.b_path), fused_path=restore(record.fused_path))
