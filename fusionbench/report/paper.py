"""Paper vs measured, like with like: a published table beside our means only where the
dataset, the modality and the metric convention match.

What a paper table was measured on (dataset, the two roles of its pairs, its pair count and what
is known of its pair list) comes from the presets with a ``[paper]`` section
(:mod:`fusionbench.report.presets`); the numbers come from :func:`fusionbench.paper.
read_paper_scores`, the one reader of the paper's scores file. A measured run matches a paper
row through its method card's ``paper_name``. Measured subsets of the same dataset with other
roles (e.g. CT/MRI against the paper's MR-T1/MR-T2) are named in the table as not compared.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from fusionbench.paper import PaperScore, paper_scores_path, read_paper_scores
from fusionbench.report.labels import RunLabel, card_named, card_of
from fusionbench.report.load import Results, Run
from fusionbench.report.presets import Preset, packaged_presets
from fusionbench.report.tables import NonFinite, count_note, nonfinite_scores


def default_paper_scores() -> Path | None:
    """``reference/clfnet_paper_scores.csv`` beside the data root, or ``None`` if absent."""
    return paper_scores_path()


@lru_cache(maxsize=64)
def subset_roles(dataset: str, subset: str) -> tuple[str, ...] | None:
    """The two roles of a dataset card's subset (its modality), ``None`` when unknown."""
    from fusionbench.data import dataset_cards
    from fusionbench.errors import FusionbenchError

    try:
        card = dataset_cards(None).get(dataset)
        return None if card is None else tuple(card.subset(subset).roles)
    except FusionbenchError:
        return None


@dataclass(frozen=True)
class PaperCell:
    """A paper value beside the measured mean (``None`` when not measured)."""

    paper: float
    measured: float | None
    n_measured: int
    #: measured pairs whose value is NaN or infinite (left out of ``measured``)
    nonfinite: tuple[NonFinite, ...] = ()

    @property
    def diff(self) -> float | None:
        """measured − paper, or ``None``."""
        return None if self.measured is None else self.measured - self.paper


@dataclass(frozen=True)
class PaperRow:
    """One paper method and (when measured) one of our runs of it."""

    paper_method: str
    method: str | None
    label: str
    n_paper: int
    n_measured: int
    cells: tuple[PaperCell | None, ...]
    status: str


@dataclass(frozen=True)
class PaperTable:
    """A paper table beside the measured runs of the matching subset (if any)."""

    preset: Preset
    subset: str | None
    convention: str
    metrics: tuple[str, ...]
    rows: tuple[PaperRow, ...]
    statements: tuple[str, ...]

    @property
    def caption(self) -> str:
        """Caption stating the table, the modality, the pair sets and the convention."""
        spec = self.preset.paper
        assert spec is not None
        where = spec.dataset if self.subset in (None, "all") else f"{spec.dataset} / {self.subset}"
        return (f"Paper (Table {spec.table}, {spec.modality}, {spec.n_pairs} pairs) vs measured "
                f"({where if self.subset is not None else 'no matching subset measured'}) — "
                f"metric convention (profile) {self.convention}")


def _measured(run: Run, convention: str, metric: str) -> PaperCell:
    """The measured side of a cell (its ``paper`` value is filled in by the caller)."""
    sel = run.scores[(run.scores["convention"] == convention) & (run.scores["metric"] == metric)]
    values = pd.to_numeric(sel["value"], errors="coerce").to_numpy(float)
    finite = values[np.isfinite(values)]
    bad = nonfinite_scores(sel, run.dataset, run.subset, convention).get((run.method, metric), ())
    mean = float(finite.mean()) if finite.size else None
    return PaperCell(math.nan, mean, int(finite.size), tuple(bad))


def _unmeasured_reason(preset: Preset, paper_method: str) -> str:
    for name in preset.methods:
        card = card_named(name)
        if card is None or card.extra.get("paper_name") != paper_method:
            continue
        if card.is_published and card.outputs_for(preset.dataset, preset.subset) is None:
            return f"cannot be scored: no published fused images for {preset.dataset}"
        return f"not measured: no run of {name}"
    return "not measured: no method card names it as its paper_name"


def _paper_table(preset: Preset, paper: Sequence[tuple[str, PaperScore]], results: Results,
                 labels: Mapping[str, RunLabel]) -> PaperTable | None:
    spec = preset.paper
    assert spec is not None
    mine = [(m, s) for m, s in paper if s.table == spec.table and s.dataset == spec.dataset]
    ours = [r for r in results.runs if r.dataset == preset.dataset]
    if not mine or not ours:
        return None
    metrics = tuple(dict.fromkeys(s.metric for _, s in mine))
    subsets = sorted({r.subset for r in ours})
    match = [s for s in subsets if subset_roles(preset.dataset, s) == spec.roles]
    statements = [f"Pair sets differ: {spec.pairs}; means are over different images"]
    for s in subsets:
        if s not in match:
            roles = subset_roles(preset.dataset, s)
            shown = " / ".join(r.upper() for r in roles) if roles else "unknown roles"
            statements.append(f"{preset.dataset} / {s} ({shown}): not compared, a different "
                              f"modality from the paper's {spec.modality}")
    subset = match[0] if match else None
    runs = [r for r in ours if r.subset == subset]
    rows = []
    for pm in dict.fromkeys(m for m, _ in mine):
        values = {s.metric: s for m, s in mine if m == pm}
        n_paper = max(s.n_pairs for s in values.values())
        matched = [r for r in runs if (c := card_of(r)) is not None
                   and c.extra.get("paper_name") == pm]
        for run in matched:
            cells, n_run = [], 0
            for metric in metrics:
                if metric not in values:
                    cells.append(None)
                    continue
                cell = replace(_measured(run, preset.profile, metric),
                               paper=values[metric].value)
                n_run = max(n_run, cell.n_measured)
                cells.append(cell)
            label = labels[run.method].text if run.method in labels else run.method
            statements += [f"{label}, {metric} measured: {count_note(c.n_measured, c.nonfinite)}"
                           " (left out of the measured mean)"
                           for metric, c in zip(metrics, cells, strict=True)
                           if c is not None and c.nonfinite]
            weights = labels[run.method].weights if run.method in labels else None
            if weights:
                statements.append(f"{labels[run.method].display}: {weights}")
            rows.append(PaperRow(pm, run.method, label, n_paper, n_run, tuple(cells),
                                 "compared"))
        if not matched:
            cells = [PaperCell(values[m].value, None, 0) if m in values else None
                     for m in metrics]
            rows.append(PaperRow(pm, None, "—", n_paper, 0, tuple(cells),
                                 _unmeasured_reason(preset, pm)))
    return PaperTable(preset, subset, preset.profile, metrics, tuple(rows), tuple(statements))


def compare(paper_path: str | Path, results: Results, labels: Mapping[str, RunLabel],
            presets: Sequence[Preset] | None = None) -> list[PaperTable]:
    """One :class:`PaperTable` per preset with a ``[paper]`` section whose dataset was measured.

    ``presets`` defaults to every packaged preset.
    """
    scores = read_paper_scores(paper_path)
    flat = [(m, s) for m, rows in scores.items() for s in rows]
    presets = packaged_presets() if presets is None else presets
    tables = [_paper_table(p, flat, results, labels) for p in presets if p.paper is not None]
    return [t for t in tables if t is not None]


def paper_records(tables: Sequence[PaperTable]) -> list[dict]:
    """Every paper cell as a tidy record for CSV and JSON output."""
    out = []
    for t in tables:
        spec = t.preset.paper
        assert spec is not None
        for row in t.rows:
            for metric, cell in zip(t.metrics, row.cells, strict=True):
                if cell is None:
                    continue
                out.append({
                    "table": spec.table, "dataset": spec.dataset, "subset": t.subset,
                    "paper_modality": spec.modality, "paper_method": row.paper_method,
                    "method": row.method, "label": row.label, "metric": metric,
                    "convention": t.convention, "paper": cell.paper,
                    "measured": cell.measured, "difference": cell.diff,
                    "n_pairs_paper": row.n_paper, "n_pairs_measured": cell.n_measured,
                    "n_nonfinite_measured": len(cell.nonfinite),
                    "same_pairs": False, "status": row.status})
    return out
