"""What the CLI commands do (kept apart from click so it can be called and tested directly)."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from fusionbench.data import Dataset, Subset, check_subset, dataset_cards, resolve_data_root
from fusionbench.data import resolve_dataset as _resolve_dataset
from fusionbench.errors import (
    EXIT_PAIRS_FAILED,
    FusionbenchError,
    MethodError,
    NothingToScoreError,
    UsageError,
)
from fusionbench.executor_options import ExecutorChoice
from fusionbench.executors import Executor
from fusionbench.matching import (
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

    from fusionbench.store import RunPaths


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


def _select_methods(registry: Registry, names: str, dataset: Dataset) -> list[Method]:
    chosen = check_method_list(names)
    if [n.lower() for n in chosen] == ["all"]:
        kept = [m for m in registry
                if any(covers(m, dataset, s) for s in dataset.available_subsets())]
        left = [m.name for m in registry if m not in kept]
        if left:
            click.echo(f"--method all: skipped {len(left)} method(s) without published outputs "
                       f"for {dataset.name}: {', '.join(left)}", err=True)
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


def _run_with_bar(method: Method, dataset: Dataset, subset: Subset, out: Path,
                  config: RunConfig, data_root: Path | None,
                  executor: Executor | None = None, force: bool = False) -> RunSummary:
    from tqdm import tqdm

    n = len(dataset.pairs(subset))
    label = f"{method.name} on {dataset.name}" + (f"/{subset.name}" if subset.name != "all"
                                                  else "")
    with tqdm(total=n, desc=label, unit="pair", leave=True, dynamic_ncols=True) as bar:
        return run_method(method, dataset, subset, out, config, data_root=data_root,
                          progress=bar.update, executor=executor, force=force)


def _print_summary(summary: RunSummary, profiles: tuple[str, ...]) -> None:
    paths = summary.paths
    if summary.dropped is not None:
        click.echo(f"dropped (--force): {paths.run_dir} ({summary.dropped[0]} pairs, "
                   f"{summary.dropped[1]} scores)", err=True)
    click.echo(f"{paths.method} | {paths.dataset}/{paths.subset}: {len(summary.ok)} of "
               f"{summary.n_pairs} pairs scored ({summary.skipped} already done), "
               f"{len(summary.failed)} failed, {len(summary.missing)} not covered -> "
               f"{paths.run_dir}")
    if summary.changed:
        shown = ", ".join(sorted(summary.changed)[:10])
        more = "" if len(summary.changed) <= 10 else f" (+{len(summary.changed) - 10} more)"
        click.echo(f"  redone {len(summary.changed)} pair(s) whose files changed since they were "
                   f"scored (sources, fused image or weights): {shown}{more}", err=True)
    for pair, reason in sorted(summary.failed.items()):
        click.echo(f"  FAILED {pair}: {reason}", err=True)
    if summary.missing:
        shown = ", ".join(sorted(summary.missing)[:10])
        more = "" if len(summary.missing) <= 10 else f" (+{len(summary.missing) - 10} more)"
        covered = summary.n_pairs - len(summary.missing)
        click.echo(f"  published outputs cover {covered} of {summary.n_pairs} pairs; not covered "
                   f"({len(summary.missing)}, status 'missing' in {paths.pairs_csv.name}, not "
                   f"averaged): {shown}{more}")
    scores = _stored_scores(paths)
    if scores.empty:
        return
    table = scores.pivot_table(index="convention", columns="metric", values="value",
                               aggfunc="mean")
    from fusionbench.metrics.catalog import PAPER_METRICS

    rows = [p for p in profiles if p in table.index]
    cols = [m for m in PAPER_METRICS if m in table.columns]
    cols += sorted(c for c in table.columns if c not in cols)
    n_scored = scores["pair"].nunique()
    click.echo(f"mean over {n_scored} scored pairs (convention in the first column; NaN "
               "values are listed below and left out of their mean):")
    click.echo(table.loc[rows, cols].to_string(float_format=lambda v: f"{v:.4f}"))
    for line in nan_lines(scores):
        click.echo(f"  {line}", err=True)


def _stored_scores(paths: RunPaths) -> pd.DataFrame:
    """The run's score rows as the store holds them (never read back from the export)."""
    import pandas as pd

    from fusionbench.store import SCORE_COLUMNS, Store
    from fusionbench.store.tables import score_rows

    with Store.create(paths.root) as store:
        run = store.run(paths.dataset, paths.subset, paths.method)
        rows = score_rows(store, run) if run is not None else []
    return pd.DataFrame(rows, columns=[*SCORE_COLUMNS, "reason"])


def nan_lines(scores: pd.DataFrame, limit: int = 5) -> list[str]:
    """One line per (convention, metric) with NaN or inf values: how many of how many pairs,
    which pairs and why (the report's :func:`~fusionbench.report.tables.count_note`), e.g.
    ``VIF (standard): n = 41 of 42; 1 NaN: p7 (VIF is NaN: ...)``.

    >>> import pandas as pd
    >>> rows = pd.DataFrame({"convention": ["s", "s"], "metric": ["VIF", "VIF"],
    ...                      "pair": ["p1", "p2"], "value": [0.5, float("nan")],
    ...                      "reason": ["", "VIF is NaN: source a is constant (0/0)"]})
    >>> nan_lines(rows)
    ['VIF (s): n = 1 of 2; 1 NaN: p2 (VIF is NaN: source a is constant (0/0))']
    """
    import numpy as np

    from fusionbench.report.tables import NonFinite, count_note

    out = []
    for (convention, metric), group in scores.groupby(["convention", "metric"], sort=True):
        bad = group[~np.isfinite(group["value"].to_numpy(dtype=float))]
        if bad.empty:
            continue
        nonfinite = [NonFinite(f"{r.pair} ({r.reason or 'no reason recorded'})", r.value)
                     for r in bad.itertuples()]
        out.append(f"{metric} ({convention}): "
                   f"{count_note(len(group) - len(bad), nonfinite, shown=limit)}")
    return out


def _report_pairing(dataset: Dataset, sub: Subset) -> None:
    """Name every file the pairing left out (and pairs matched ignoring case); no pairs at all
    is an error (:class:`~fusionbench.errors.NothingToScoreError`)."""
    report = dataset.pairing(sub)
    for line in report.problems():
        click.echo(f"  skipped file: {line}", err=True)
    for line in report.notes():
        click.echo(f"  note: {line}", err=True)
    report.require_pairs()


def run_command(method_names: str, dataset_name: str, subset: str | None, out: Path,
                data_root: Path | None, device: str | None, weights: Path | None,
                metrics: str | None, profiles: tuple[str, ...], workers: int | None,
                executor: ExecutorChoice | None = None, *, force: bool = False) -> int:
    """``fusionbench run``: returns the exit code (3 when some pairs failed); ``force`` drops
    each run's stored results first."""
    _check_scoring_options(metrics, profiles, workers)
    if executor is not None:
        executor.check()
    registry = Registry.builtin()
    dataset = _resolve_dataset(dataset_name, data_root)
    chosen = _select_methods(registry, method_names, dataset)
    subsets = _subsets(dataset, subset)
    for sub in subsets:
        _report_pairing(dataset, sub)
    remote = executor.make(workers) if executor is not None and executor.kind != "local" \
        else None
    any_failed = False
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
                    click.echo(f"{method.name}: skipped on {dataset.name}/{sub.name} (no "
                               "published outputs there)", err=True)
                    continue
                summary = _run_with_bar(method, dataset, sub, out, config, data_root, remote,
                                        force)
                _print_summary(summary, config.profiles)
                any_failed |= bool(summary.failed)
    finally:
        if remote is not None:
            remote.close()
    return EXIT_PAIRS_FAILED if any_failed else 0


def _match_fused_folder(fused: Path, dataset: Dataset, sub: Subset, pattern: str,
                        rename_file: Path | None) -> dict[str, str]:
    """Match the files of ``fused`` to the subset's pairs before any scoring: the rename
    table (validated, line by line), then no match at all is a
    :class:`~fusionbench.errors.NothingToScoreError` with the likely ``--pattern`` or
    ``--rename``; a partial match names the pairs left without a file."""
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
        click.echo(f"  {match.summary()}", err=True)
    if match.missing:
        click.echo(f"  no fused file for {len(match.missing)} pair(s): "
                   f"{', '.join(match.missing)}", err=True)
        hint = None if rename else suggest(fused, pairs, pattern, search)
        if hint is not None:
            click.echo(f"  try {hint.message()}", err=True)
    for pair, files in match.ambiguous.items():
        click.echo(f"  several files for pair {pair} (it fails): "
                   f"{', '.join(p.name for p in files)}", err=True)
    if match.unused:
        click.echo(f"  image file(s) matching no pair: "
                   f"{', '.join(p.name for p in match.unused)}", err=True)
    return rename


def eval_command(fused: Path, dataset_name: str, name: str, subset: str | None, pattern: str,
                 out: Path, data_root: Path | None, metrics: str | None,
                 profiles: tuple[str, ...], workers: int | None,
                 rename_file: Path | None = None, *, force: bool = False) -> int:
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
    _report_pairing(dataset, sub)
    rename = _match_fused_folder(fused, dataset, sub, pattern, rename_file)
    key = dataset.name if sub.name == "all" else f"{dataset.name}/{sub.name}"
    origin = f"fusionbench eval --fused {fused}" + (f" --rename {rename_file}"
                                                    if rename_file else "")
    method = Method(name=name, kind="published", title=name, citation="", modalities=(),
                    outputs={key: str(fused.resolve())}, file_pattern=pattern,
                    file_rename=rename, card_path=origin)
    config = _config(metrics, profiles, workers, network=False)
    summary = _run_with_bar(method, dataset, sub, out, config, data_root, force=force)
    _print_summary(summary, config.profiles)
    return EXIT_PAIRS_FAILED if summary.failed else 0


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


def list_methods(data_root: Path | None) -> None:
    """Print every method: name, kind, coverage."""
    registry = Registry.builtin()
    root = resolve_data_root(data_root)
    width = max((len(n) for n in registry.names()), default=4)
    cache: dict[str, set[str] | None] = {}
    for method in registry:
        click.echo(f"{method.name:<{width}}  {method.kind:<9}  {_coverage(method, root, cache)}")


def show_method(name: str, data_root: Path | None) -> None:
    """Print one method card."""
    method = Registry.builtin().get(name)
    root = resolve_data_root(data_root)
    click.echo(f"{method.name}: {method.title}\n  kind: {method.kind}\n  citation: "
               f"{method.citation}\n  modalities: {', '.join(method.modalities)}")
    if method.entry:
        click.echo(f"  entry: {method.entry}")
    if method.params:
        click.echo(f"  params: {method.params}")
    click.echo(f"  coverage: {_coverage(method, root)}")
    if method.description:
        click.echo(f"  {method.description}")
    for key, value in method.extra.items():
        click.echo(f"  {key}: {value}")
    if "paper_name" in method.extra:
        _show_paper_scores(str(method.extra["paper_name"]), data_root)
    click.echo(f"  card: {method.card_path}")


def _show_paper_scores(paper_name: str, data_root: Path | None) -> None:
    """The CLF-Net paper's reported means for a method (read in place from the reference)."""
    from fusionbench.paper import format_paper_scores, paper_scores_for, paper_scores_path

    path = paper_scores_path(data_root)
    if path is None:
        click.echo(f"  paper scores ({paper_name}): reference file not available (expected "
                   "reference/clfnet_paper_scores.csv beside the data root)")
        return
    rows = paper_scores_for(paper_name, path)
    click.echo(f"  reported in the CLF-Net paper as {paper_name!r} (convention tang2022, means "
               f"over the paper's own unpublished pair lists; {path}):"
               if rows else f"  paper scores: no rows for {paper_name!r} in {path}")
    for line in format_paper_scores(rows):
        click.echo(f"    {line}")


def list_datasets(data_root: Path | None) -> None:
    """Print every dataset card and whether its data is present."""
    root = resolve_data_root(data_root)
    for ds in dataset_cards(root).values():
        present = [s.name for s in ds.available_subsets()] if ds.base else []
        subsets = ", ".join(f"{s.name}{'' if s.name in present else ' (absent)'}"
                            for s in ds.subsets)
        tag = " [synthetic]" if ds.synthetic else ""
        click.echo(f"{ds.name:<11} {'/'.join(ds.roles):<10} {ds.title}{tag}\n"
                   f"{'':<11} subsets: {subsets}")
    click.echo(f"data root: {root or 'not set (use --data-root or $FUSIONBENCH_DATA)'}")


def check_dataset(name: str, subset: str | None, data_root: Path | None) -> int:
    """Validate a dataset layout; prints every problem; returns 1 when there is any."""
    dataset = _resolve_dataset(name, data_root)
    subsets = [dataset.subset(subset)] if subset else list(dataset.subsets)
    total_problems = 0
    for sub in subsets:
        if sub.optional and not dataset.subset_dir(sub).is_dir():
            click.echo(f"{dataset.name}/{sub.name}: optional subset not present (skipped)")
            continue
        n, problems = check_subset(dataset, sub)
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        click.echo(f"{dataset.name}/{sub.name}: {n} pairs, {status}")
        for problem in problems:
            click.echo(f"  - {problem}")
        total_problems += len(problems)
    return 1 if total_problems else 0


def list_metrics() -> None:
    """Print every metric (direction, range), then every profile's metrics with the file and
    function of the original code each reproduces."""
    from fusionbench.metrics import PROFILES
    from fusionbench.metrics.catalog import METRICS

    click.echo("metrics (name, better, range: what it measures):")
    for info in METRICS.values():
        better = "higher" if info.higher_is_better else "lower"
        click.echo(f"  {info.name:<9} {better:<6} {info.value_range}: {info.measures}")
    click.echo("\nconventions (profiles); default for run/eval: "
               + ", ".join(DEFAULT_PROFILES) + "; --metrics all selects every metric")
    for name, prof in PROFILES.items():
        click.echo(f"\n  {name} (version {prof.version}): {prof.description}\n"
                   f"    reference: {prof.reference}\n"
                   f"    default metrics: {', '.join(prof.default_metrics)}")
        for metric in prof.metrics:
            better = "higher" if METRICS[metric].higher_is_better else "lower"
            click.echo(f"    {metric:<9} {better:<6} {prof.origin(metric)}")
