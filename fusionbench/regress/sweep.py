"""The dataset slice of a CI sweep and running its methods into a results root."""

from __future__ import annotations

import tomllib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from fusionbench.data import Dataset, Pair, Subset
from fusionbench.errors import DatasetError, FusionbenchError
from fusionbench.regress.common import RegressionError


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


