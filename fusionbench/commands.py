"""What the CLI commands do, kept apart from click so it can be called and tested directly.

Every command function returns data (the small dataclasses below, or the store's own results)
and raises a :class:`~fusionbench.errors.FusionbenchError` for a problem; it never prints. The
click layer (:mod:`fusionbench.cli`) shows the data with :mod:`fusionbench.presenting` and picks
the exit code. ``run`` and ``eval`` also hand each step to an ``on_event`` callback as it
happens (what the pairing left out, each finished run), so that the screen follows the work,
and draw progress through a ``progress`` callback (the click layer's bar).

>>> listing = list_metrics()
>>> "EN" in [m.name for m in listing.metrics], "standard" in listing.profiles
(True, True)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fusionbench.data import (
    Dataset,
    PairingReport,
    Subset,
    check_subset,
    dataset_cards,
    resolve_data_root,
)
from fusionbench.data import resolve_dataset as _resolve_dataset
from fusionbench.errors import (
    FusionbenchError,
    MethodError,
    NothingToScoreError,
    UsageError,
)
from fusionbench.executor_options import ExecutorChoice
from fusionbench.executors import Executor
from fusionbench.matching import (
    FusedMatch,
    Suggestion,
    match_fused,
    no_match_hint,
    pair_slot_values,
    read_rename,
    suggest,
)
from fusionbench.options import (
    check_method_list,
    check_metrics,
    check_name,
    check_pattern,
    check_workers,
)
from fusionbench.registry import Method, Registry
from fusionbench.runner import (
    DEFAULT_PROFILES,
    RunConfig,
    RunSummary,
    run_method,
)

if TYPE_CHECKING:
    import pandas as pd

    from fusionbench.metrics.catalog import MetricInfo
    from fusionbench.metrics.profiles import Profile
    from fusionbench.paper import PaperScore
    from fusionbench.store import RunPaths

#: ``progress(label, total)``: a context manager giving the function to call with the number
#: of pairs just finished (the click layer passes a progress bar; the default draws nothing).
Progress = Callable[[str, int], AbstractContextManager[Callable[[int], Any]]]


@contextmanager
def no_progress(label: str, total: int) -> Iterator[Callable[[int], Any]]:
    """The :data:`Progress` that draws nothing."""
    yield lambda done: None


# --- what ``run`` and ``eval`` report while they work ---------------------------------------

@dataclass(frozen=True)
class MethodsSkipped:
    """``--method all`` left out these methods: no published outputs for the dataset."""

    dataset: str
    methods: tuple[str, ...]


@dataclass(frozen=True)
class PairingChecked:
    """The pairing of one subset's role folders: the files it left out, pairs matched
    ignoring case (no pair at all is an error raised right after this event)."""

    report: PairingReport


@dataclass(frozen=True)
class RunSkipped:
    """A method of several was not run on a subset: no published outputs there."""

    method: str
    dataset: str
    subset: str


@dataclass(frozen=True)
class FusedMatched:
    """``eval``: how the files of the fused folder matched the pairs (only when some did not
    match cleanly), with an option that would match more, if one is found."""

    match: FusedMatch
    hint: Suggestion | None = None


@dataclass(frozen=True)
class RunDone:
    """One method finished on one subset: its counts, and its score rows as the store holds
    them (columns of :data:`fusionbench.store.SCORE_COLUMNS` plus ``reason``)."""

    summary: RunSummary
    profiles: tuple[str, ...]
    scores: pd.DataFrame = field(repr=False, compare=False)


Event = MethodsSkipped | PairingChecked | RunSkipped | FusedMatched | RunDone


@dataclass
class ScoringResult:
    """Everything ``run`` or ``eval`` did, as the events it reported, in order."""

    events: list[Event] = field(default_factory=list)

    @property
    def runs(self) -> list[RunDone]:
        """The finished runs (one per method and subset)."""
        return [e for e in self.events if isinstance(e, RunDone)]

    @property
    def any_failed(self) -> bool:
        """Whether a pair failed in any run (the CLI then exits 3)."""
        return any(run.summary.failed for run in self.runs)


class _Reporter:
    """Collects a command's events and passes each on as it happens."""

    def __init__(self, on_event: Callable[[Event], Any] | None) -> None:
        self.result = ScoringResult()
        self._on_event = on_event

    def __call__(self, event: Event) -> None:
        self.result.events.append(event)
        if self._on_event is not None:
            self._on_event(event)


# --- shared steps of ``run`` and ``eval`` ---------------------------------------------------

def _subsets(dataset: Dataset, subset: str | None) -> list[Subset]:
    if subset:
        return [dataset.subset(subset)]
    available = dataset.available_subsets()
    if not available:
        dataset.role_dirs(dataset.subsets[0])  # raises the clear "not found" error
    return available


def covers(method: Method, dataset: Dataset, subset: Subset) -> bool:
    """Whether ``method`` can run on a dataset subset (published: has outputs there)."""
    if method.is_published:
        return method.outputs_for(dataset.name, subset.name) is not None
    return True


def _select_methods(registry: Registry, names: str, dataset: Dataset,
                    report: _Reporter) -> list[Method]:
    chosen = check_method_list(names)
    if [n.lower() for n in chosen] == ["all"]:
        kept = [m for m in registry
                if any(covers(m, dataset, s) for s in dataset.available_subsets())]
        left = tuple(m.name for m in registry if m not in kept)
        if left:
            report(MethodsSkipped(dataset.name, left))
        return kept
    return [registry.get(n) for n in chosen]


def _check_scoring_options(metrics: str | None, profiles: tuple[str, ...],
                           workers: int | None) -> None:
    """Validate what is scored and how, before any work (:mod:`fusionbench.options`)."""
    check_workers(workers)
    metric_list = [m.strip() for m in metrics.split(",")] if metrics else None
    if metric_list is not None and not all(metric_list):
        raise UsageError(f"--metrics {metrics!r} has an empty name")
    check_metrics(tuple(profiles) or DEFAULT_PROFILES, metric_list)


def _config(metrics: str | None, profiles: tuple[str, ...], workers: int | None,
            network: bool, device: str | None = None, weights: Path | None = None) -> RunConfig:
    if workers is None:
        workers = 1 if network else (os.cpu_count() or 1)
    metric_list = tuple(m.strip() for m in metrics.split(",")) if metrics else None
    return RunConfig(metrics=metric_list, profiles=tuple(profiles) or DEFAULT_PROFILES,
                     device=device, weights=str(weights) if weights else None, workers=workers)


def _run_one(method: Method, dataset: Dataset, subset: Subset, out: Path, config: RunConfig,
             data_root: Path | None, progress: Progress, executor: Executor | None = None,
             force: bool = False) -> RunDone:
    """Run (or resume) one method on one subset, then read its scores back from the store."""
    label = f"{method.name} on {dataset.name}" + (f"/{subset.name}" if subset.name != "all"
                                                  else "")
    with progress(label, len(dataset.pairs(subset))) as advance:
        summary = run_method(method, dataset, subset, out, config, data_root=data_root,
                             progress=advance, executor=executor, force=force)
    return RunDone(summary, config.profiles, _stored_scores(summary.paths))


def _stored_scores(paths: RunPaths) -> pd.DataFrame:
    """The run's score rows as the store holds them (never read back from the export)."""
    import pandas as pd

    from fusionbench.store import SCORE_COLUMNS, Store
    from fusionbench.store.tables import score_rows

    with Store.create(paths.root) as store:
        run = store.run(paths.dataset, paths.subset, paths.method)
        rows = score_rows(store, run) if run is not None else []
    return pd.DataFrame(rows, columns=[*SCORE_COLUMNS, "reason"])


def _check_pairing(dataset: Dataset, sub: Subset, report: _Reporter) -> None:
    """Report what the pairing left out; no pairs at all is an error
    (:class:`~fusionbench.errors.NothingToScoreError`)."""
    pairing = dataset.pairing(sub)
    report(PairingChecked(pairing))
    pairing.require_pairs()


# --- run and eval ---------------------------------------------------------------------------

def run_command(method_names: str, dataset_name: str, subset: str | None, out: Path,
                data_root: Path | None, device: str | None, weights: Path | None,
                metrics: str | None, profiles: tuple[str, ...], workers: int | None,
                executor: ExecutorChoice | None = None, *, force: bool = False,
                progress: Progress = no_progress,
                on_event: Callable[[Event], Any] | None = None) -> ScoringResult:
    """``fusionbench run``: every chosen method on every chosen subset; ``force`` drops each
    run's stored results first. A single method without outputs for a subset is a
    :class:`~fusionbench.errors.MethodError`; one of several is skipped (:class:`RunSkipped`).
    """
    _check_scoring_options(metrics, profiles, workers)
    if executor is not None:
        executor.check()
    report = _Reporter(on_event)
    registry = Registry.builtin()
    dataset = _resolve_dataset(dataset_name, data_root)
    chosen = _select_methods(registry, method_names, dataset, report)
    subsets = _subsets(dataset, subset)
    for sub in subsets:
        _check_pairing(dataset, sub, report)
    remote = executor.make(workers) if executor is not None and executor.kind != "local" \
        else None
    try:
        for method in chosen:
            config = _config(metrics, profiles, workers, method.kind == "network", device,
                             weights)
            if executor is not None and executor.resources:
                config = replace(config, resources=tuple(sorted(executor.resources.items())))
            for sub in subsets:
                if not covers(method, dataset, sub):
                    if len(chosen) == 1:
                        raise MethodError(f"{method.name!r} has no published outputs for "
                                          f"{dataset.name}/{sub.name}")
                    report(RunSkipped(method.name, dataset.name, sub.name))
                    continue
                report(_run_one(method, dataset, sub, out, config, data_root, progress,
                                remote, force))
    finally:
        if remote is not None:
            remote.close()
    return report.result


def _match_fused_folder(fused: Path, dataset: Dataset, sub: Subset, pattern: str,
                        rename_file: Path | None, report: _Reporter) -> dict[str, str]:
    """Match the files of ``fused`` to the subset's pairs before any scoring: the rename
    table (validated, line by line), then no match at all is a
    :class:`~fusionbench.errors.NothingToScoreError` with the likely ``--pattern`` or
    ``--rename``; a partial match is reported (:class:`FusedMatched`)."""
    pairs = [p.name for p in dataset.pairs(sub)]
    where = dataset.name if sub.name == "all" else f"{dataset.name}/{sub.name}"
    rename: dict[str, str] = {}
    if rename_file is not None:
        rename = read_rename(rename_file, pair_slot_values(fused, pattern), pairs, strict=True,
                             where=where)
    match = match_fused(fused, pairs, pattern, rename)
    search = [fused, *(d for d in (dataset.base, dataset.subset_dir(sub)) if d is not None)]
    if not match.found:
        raise NothingToScoreError(no_match_hint(fused, pairs, pattern, search, rename_file))
    if match.missing or match.ambiguous or match.case_matched or match.unused:
        hint = suggest(fused, pairs, pattern, search) if match.missing and not rename else None
        report(FusedMatched(match, hint))
    return rename


def eval_command(fused: Path, dataset_name: str, name: str, subset: str | None, pattern: str,
                 out: Path, data_root: Path | None, metrics: str | None,
                 profiles: tuple[str, ...], workers: int | None,
                 rename_file: Path | None = None, *, force: bool = False,
                 progress: Progress = no_progress,
                 on_event: Callable[[Event], Any] | None = None) -> ScoringResult:
    """``fusionbench eval``: score a folder of fused images as a published method."""
    _check_scoring_options(metrics, profiles, workers)
    check_name(name, "--name")
    check_pattern(pattern)
    if not fused.is_dir():
        raise FusionbenchError(f"{fused}: folder of fused images not found")
    dataset = _resolve_dataset(dataset_name, data_root)
    subs = _subsets(dataset, subset)
    if len(subs) != 1:
        raise FusionbenchError(f"dataset {dataset.name!r} has several subsets; pass --subset")
    sub = subs[0]
    report = _Reporter(on_event)
    _check_pairing(dataset, sub, report)
    rename = _match_fused_folder(fused, dataset, sub, pattern, rename_file, report)
    key = dataset.name if sub.name == "all" else f"{dataset.name}/{sub.name}"
    origin = f"fusionbench eval --fused {fused}" + (f" --rename {rename_file}"
                                                    if rename_file else "")
    method = Method(name=name, kind="published", title=name, citation="", modalities=(),
                    outputs={key: str(fused.resolve())}, file_pattern=pattern,
                    file_rename=rename, card_path=origin)
    config = _config(metrics, profiles, workers, network=False)
    report(_run_one(method, dataset, sub, out, config, data_root, progress, force=force))
    return report.result


# --- listings -------------------------------------------------------------------------------

def _pair_names(key: str, root: Path, cache: dict[str, set[str] | None]) -> set[str] | None:
    """Pair names of an outputs key (``tno`` or ``medical/ifcnn-md``); ``None`` if unknown."""
    if key not in cache:
        name, _, sub = key.partition("/")
        dataset = dataset_cards(root).get(name)
        try:
            cache[key] = ({p.name for p in dataset.pairs(dataset.subset(sub or None))}
                          if dataset else None)
        except FusionbenchError:
            cache[key] = None
    return cache[key]


def _coverage(method: Method, root: Path | None,
              cache: dict[str, set[str] | None] | None = None) -> str:
    """``tno 8/42 pairs, ...`` for a published method (its files matched to the pairs)."""
    if not method.is_published:
        return "any dataset (" + ", ".join(method.modalities) + ")"
    cache = {} if cache is None else cache
    parts = []
    for key, rel in method.outputs.items():
        folder = (root / rel) if root else None
        if folder is None:
            parts.append(key)
        elif not folder.is_dir():
            parts.append(f"{key} (folder {rel} not found)")
        elif (names := _pair_names(key, root, cache)) is None:
            count = sum(1 for p in folder.iterdir() if p.is_file())
            parts.append(f"{key} ({count} files)")
        else:
            covered = len(match_fused(folder, sorted(names), method.file_pattern).found)
            parts.append(f"{key} {covered}/{len(names)} pairs")
    return ", ".join(parts) or "no outputs distributed here (see the card's description)"


@dataclass(frozen=True)
class MethodLine:
    """One method in ``fusionbench methods``: name, kind and what it covers."""

    name: str
    kind: str
    coverage: str


def list_methods(data_root: Path | None) -> list[MethodLine]:
    """Every method of the registry, in its order, with its coverage of the data present."""
    root = resolve_data_root(data_root)
    cache: dict[str, set[str] | None] = {}
    return [MethodLine(m.name, m.kind, _coverage(m, root, cache)) for m in Registry.builtin()]


@dataclass(frozen=True)
class PaperScores:
    """What the CLF-Net paper reports for a method: the reference file (``None`` when it is
    not available) and its rows for ``paper_name``."""

    paper_name: str
    path: Path | None
    rows: list[PaperScore]


@dataclass(frozen=True)
class MethodCard:
    """``fusionbench methods show NAME``: the card, its coverage, the paper's scores (for a
    method the card names a ``paper_name`` for)."""

    method: Method
    coverage: str
    paper: PaperScores | None = None


def show_method(name: str, data_root: Path | None) -> MethodCard:
    """One method card (an unknown name is a :class:`~fusionbench.errors.MethodError`)."""
    from fusionbench.paper import paper_scores_for, paper_scores_path

    method = Registry.builtin().get(name)
    coverage = _coverage(method, resolve_data_root(data_root))
    paper = None
    if "paper_name" in method.extra:
        paper_name = str(method.extra["paper_name"])
        path = paper_scores_path(data_root)
        paper = PaperScores(paper_name, path,
                            paper_scores_for(paper_name, path) if path is not None else [])
    return MethodCard(method, coverage, paper)


@dataclass(frozen=True)
class DatasetLine:
    """One dataset card in ``fusionbench datasets``; ``present``: the subsets found on disk."""

    dataset: Dataset
    present: tuple[str, ...]


@dataclass(frozen=True)
class DatasetListing:
    """Every dataset card, and the data root they were looked up in (``None``: not set)."""

    datasets: list[DatasetLine]
    root: Path | None


def list_datasets(data_root: Path | None) -> DatasetListing:
    """Every dataset card and which of its subsets are present."""
    root = resolve_data_root(data_root)
    lines = [DatasetLine(ds, tuple(s.name for s in ds.available_subsets()) if ds.base else ())
             for ds in dataset_cards(root).values()]
    return DatasetListing(lines, root)


@dataclass(frozen=True)
class SubsetCheck:
    """``datasets check``: one subset's pair count and layout problems; ``absent`` for an
    optional subset whose folder is not there (not checked)."""

    dataset: str
    subset: str
    n_pairs: int = 0
    problems: tuple[str, ...] = ()
    absent: bool = False


def check_dataset(name: str, subset: str | None, data_root: Path | None) -> list[SubsetCheck]:
    """Validate a dataset's layout, subset by subset (every subset unless one is named)."""
    dataset = _resolve_dataset(name, data_root)
    subsets = [dataset.subset(subset)] if subset else list(dataset.subsets)
    checks = []
    for sub in subsets:
        if sub.optional and not dataset.subset_dir(sub).is_dir():
            checks.append(SubsetCheck(dataset.name, sub.name, absent=True))
            continue
        n, problems = check_subset(dataset, sub)
        checks.append(SubsetCheck(dataset.name, sub.name, n, tuple(problems)))
    return checks


@dataclass(frozen=True)
class MetricsListing:
    """``fusionbench metrics``: every metric, every profile (convention), the default ones."""

    metrics: list[MetricInfo]
    profiles: dict[str, Profile]
    default_profiles: tuple[str, ...]


def list_metrics() -> MetricsListing:
    """Every metric (direction, range) and every profile with its metrics."""
    from fusionbench.metrics import PROFILES
    from fusionbench.metrics.catalog import METRICS

    return MetricsListing(list(METRICS.values()), dict(PROFILES), tuple(DEFAULT_PROFILES))
