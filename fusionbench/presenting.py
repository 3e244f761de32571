"""How each command's result reads on the screen: one ``format_*`` function per result.

A function returns :class:`Line` values (the text and whether it goes to stderr) and prints
nothing; :mod:`fusionbench.cli` echoes them. Notes about what was skipped, redone or failed go
to stderr, the results themselves to stdout.

>>> from fusionbench.commands import SubsetCheck
>>> [str(line) for line in format_check([SubsetCheck("tno", "all", 42)])]
['tno/all: 42 pairs, ok']
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    import pandas as pd

    from fusionbench.commands import (
        DatasetListing,
        Event,
        MethodCard,
        MethodLine,
        MetricsListing,
        PaperScores,
        RunDone,
        SubsetCheck,
    )
    from fusionbench.matching import FusedMatch, Suggestion
    from fusionbench.store.clean import DroppedRun
    from fusionbench.store.legacy import ImportSummary
    from fusionbench.store.verify import Problem


class Line(NamedTuple):
    """One line of output; ``err``: it goes to stderr.

    >>> str(Line("done")), Line("careful", err=True).err
    ('done', True)
    """

    text: str
    err: bool = False

    def __str__(self) -> str:
        return self.text


def _note(text: str) -> Line:
    return Line(text, err=True)


def _first(names: Iterable[str], limit: int = 10) -> str:
    """``a, b, c`` for at most ``limit`` names, then ``(+N more)``.

    >>> _first(["a", "b", "c"], limit=2)
    'a, b (+1 more)'
    """
    names = list(names)
    more = "" if len(names) <= limit else f" (+{len(names) - limit} more)"
    return ", ".join(names[:limit]) + more


# --- run and eval ---------------------------------------------------------------------------

def format_event(event: Event) -> list[Line]:
    """The lines for one step ``run`` or ``eval`` reported (:data:`fusionbench.commands.Event`)."""
    from fusionbench.commands import (
        FusedMatched,
        MethodsSkipped,
        PairingChecked,
        RunDone,
        RunSkipped,
    )

    if isinstance(event, MethodsSkipped):
        return [_note(f"--method all: skipped {len(event.methods)} method(s) without published "
                      f"outputs for {event.dataset}: {', '.join(event.methods)}")]
    if isinstance(event, PairingChecked):
        return ([_note(f"  skipped file: {line}") for line in event.report.problems()]
                + [_note(f"  note: {line}") for line in event.report.notes()])
    if isinstance(event, RunSkipped):
        return [_note(f"{event.method}: skipped on {event.dataset}/{event.subset} (no "
                      "published outputs there)")]
    if isinstance(event, FusedMatched):
        return format_fused_match(event.match, event.hint)
    if isinstance(event, RunDone):
        return format_run(event)
    raise TypeError(f"not a run event: {event!r}")


def format_fused_match(match: FusedMatch, hint: Suggestion | None = None) -> list[Line]:
    """``eval``: the pairs without a fused file, pairs with several, files matching none."""
    lines = [_note(f"  {match.summary()}")]
    if match.missing:
        lines.append(_note(f"  no fused file for {len(match.missing)} pair(s): "
                           f"{', '.join(match.missing)}"))
        if hint is not None:
            lines.append(_note(f"  try {hint.message()}"))
    lines += [_note(f"  several files for pair {pair} (it fails): "
                    f"{', '.join(p.name for p in files)}")
              for pair, files in match.ambiguous.items()]
    if match.unused:
        lines.append(_note(f"  image file(s) matching no pair: "
                           f"{', '.join(p.name for p in match.unused)}"))
    return lines


def format_run(done: RunDone) -> list[Line]:
    """One finished run: what ``--force`` dropped, the counts, redone, failed and uncovered
    pairs, then the mean of every metric by convention and a line per metric with NaNs."""
    summary, paths = done.summary, done.summary.paths
    lines = []
    if summary.dropped is not None:
        lines.append(_note(f"dropped (--force): {paths.run_dir} ({summary.dropped[0]} pairs, "
                           f"{summary.dropped[1]} scores)"))
    lines.append(Line(f"{paths.method} | {paths.dataset}/{paths.subset}: {len(summary.ok)} of "
                      f"{summary.n_pairs} pairs scored ({summary.skipped} already done), "
                      f"{len(summary.failed)} failed, {len(summary.missing)} not covered -> "
                      f"{paths.run_dir}"))
    if summary.changed:
        lines.append(_note(f"  redone {len(summary.changed)} pair(s) whose files changed since "
                           "they were scored (sources, fused image or weights): "
                           f"{_first(sorted(summary.changed))}"))
    lines += [_note(f"  FAILED {pair}: {reason}")
              for pair, reason in sorted(summary.failed.items())]
    if summary.missing:
        covered = summary.n_pairs - len(summary.missing)
        lines.append(Line(f"  published outputs cover {covered} of {summary.n_pairs} pairs; not "
                          f"covered ({len(summary.missing)}, status 'missing' in "
                          f"{paths.pairs_csv.name}, not averaged): "
                          f"{_first(sorted(summary.missing))}"))
    return lines + format_means(done.scores, done.profiles)


def format_means(scores: pd.DataFrame, profiles: tuple[str, ...]) -> list[Line]:
    """The mean of every metric by convention (rows in ``profiles`` order, the paper's metrics
    first), then one stderr line per metric with NaN values; nothing for no scores."""
    if scores.empty:
        return []
    from fusionbench.metrics.catalog import PAPER_METRICS

    table = scores.pivot_table(index="convention", columns="metric", values="value",
                               aggfunc="mean")
    rows = [p for p in profiles if p in table.index]
    cols = [m for m in PAPER_METRICS if m in table.columns]
    cols += sorted(c for c in table.columns if c not in cols)
    n_scored = scores["pair"].nunique()
    lines = [Line(f"mean over {n_scored} scored pairs (convention in the first column; NaN "
                  "values are listed below and left out of their mean):"),
             Line(table.loc[rows, cols].to_string(float_format=lambda v: f"{v:.4f}"))]
    return lines + [_note(f"  {line}") for line in nan_lines(scores)]


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


# --- listings -------------------------------------------------------------------------------

def format_methods(methods: list[MethodLine]) -> list[Line]:
    """``fusionbench methods``: one aligned line per method."""
    width = max((len(m.name) for m in methods), default=4)
    return [Line(f"{m.name:<{width}}  {m.kind:<9}  {m.coverage}") for m in methods]


def format_method_card(card: MethodCard) -> list[Line]:
    """``fusionbench methods show``: the card's fields, then the paper's scores if any."""
    method = card.method
    lines = [Line(f"{method.name}: {method.title}\n  kind: {method.kind}\n  citation: "
                  f"{method.citation}\n  modalities: {', '.join(method.modalities)}")]
    if method.entry:
        lines.append(Line(f"  entry: {method.entry}"))
    if method.params:
        lines.append(Line(f"  params: {method.params}"))
    lines.append(Line(f"  coverage: {card.coverage}"))
    if method.description:
        lines.append(Line(f"  {method.description}"))
    lines += [Line(f"  {key}: {value}") for key, value in method.extra.items()]
    if card.paper is not None:
        lines += format_paper(card.paper)
    return lines + [Line(f"  card: {method.card_path}")]


def format_paper(paper: PaperScores) -> list[Line]:
    """The CLF-Net paper's reported means for a method, or why there are none."""
    from fusionbench.paper import format_paper_scores

    if paper.path is None:
        return [Line(f"  paper scores ({paper.paper_name}): reference file not available "
                     "(expected reference/clfnet_paper_scores.csv beside the data root)")]
    head = (f"  reported in the CLF-Net paper as {paper.paper_name!r} (convention tang2022, "
            f"means over the paper's own unpublished pair lists; {paper.path}):"
            if paper.rows else f"  paper scores: no rows for {paper.paper_name!r} in {paper.path}")
    return [Line(head)] + [Line(f"    {line}") for line in format_paper_scores(paper.rows)]


def format_datasets(listing: DatasetListing) -> list[Line]:
    """``fusionbench datasets``: each card with its subsets (absent ones marked)."""
    lines = []
    for entry in listing.datasets:
        ds = entry.dataset
        subsets = ", ".join(f"{s.name}{'' if s.name in entry.present else ' (absent)'}"
                            for s in ds.subsets)
        tag = " [synthetic]" if ds.synthetic else ""
        lines.append(Line(f"{ds.name:<11} {'/'.join(ds.roles):<10} {ds.title}{tag}\n"
                          f"{'':<11} subsets: {subsets}"))
    root = listing.root or "not set (use --data-root or $FUSIONBENCH_DATA)"
    return lines + [Line(f"data root: {root}")]


def format_check(checks: list[SubsetCheck]) -> list[Line]:
    """``fusionbench datasets check``: pairs and problems of each subset."""
    lines = []
    for check in checks:
        where = f"{check.dataset}/{check.subset}"
        if check.absent:
            lines.append(Line(f"{where}: optional subset not present (skipped)"))
            continue
        status = "ok" if not check.problems else f"{len(check.problems)} problem(s)"
        lines.append(Line(f"{where}: {check.n_pairs} pairs, {status}"))
        lines += [Line(f"  - {problem}") for problem in check.problems]
    return lines


def format_metrics(listing: MetricsListing) -> list[Line]:
    """``fusionbench metrics``: every metric, then every profile with the original code each
    of its metrics reproduces."""
    better = {m.name: "higher" if m.higher_is_better else "lower" for m in listing.metrics}
    lines = [Line("metrics (name, better, range: what it measures):")]
    lines += [Line(f"  {m.name:<9} {better[m.name]:<6} {m.value_range}: {m.measures}")
              for m in listing.metrics]
    lines.append(Line("\nconventions (profiles); default for run/eval: "
                      + ", ".join(listing.default_profiles)
                      + "; --metrics all selects every metric"))
    for name, prof in listing.profiles.items():
        lines.append(Line(f"\n  {name} (version {prof.version}): {prof.description}\n"
                          f"    reference: {prof.reference}\n"
                          f"    default metrics: {', '.join(prof.default_metrics)}"))
        lines += [Line(f"    {metric:<9} {better[metric]:<6} {prof.origin(metric)}")
                  for metric in prof.metrics]
    return lines


# --- the store's commands -------------------------------------------------------------------

def format_clean(dropped: list[DroppedRun], root: Path, *, dry_run: bool) -> list[Line]:
    """``fusionbench clean``: each run dropped (or that would be), or that none matches."""
    verb = "would drop (pass --yes to delete)" if dry_run else "dropped"
    lines = [Line(f"{verb}: {run.path} ({run.n_pairs} pairs, {run.n_scores} scores)")
             for run in dropped]
    return lines or [Line(f"no stored run under {root} matches")]


def format_import(done: ImportSummary, root: Path) -> list[Line]:
    """``fusionbench import``: the counts moved, each record skipped, the unscored pairs."""
    lines = [Line(f"imported {len(done.runs)} run(s), {done.pairs} pairs, {done.scores} scores "
                  f"(+{done.cached_scores} cached scores) into {root}")]
    lines += [_note(f"  skipped record {path}: {why}")
              for path, why in sorted(done.skipped.items())]
    if done.unscored:
        lines.append(_note(f"  {len(done.unscored)} pair(s) had no image hashes; stored as "
                           "failed, the next run computes them: "
                           f"{', '.join(done.unscored[:5])}"))
    return lines


def format_verify(problems: list[Problem], root: Path) -> list[Line]:
    """``fusionbench verify``: each disagreement (or fix), or that everything agrees."""
    lines = [Line(f"{found.path}: {found.problem}") for found in problems]
    return lines or [Line(f"{root}: the store and every file beside it agree")]
