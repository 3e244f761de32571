"""Build the whole report: tables (md / tex / html / csv / json), box plots, grids, manifests.

Output layout under ``out_dir``::

    index.html            self-contained page (inline CSS), links into assets/ (html)
    assets/               box plots (PNG + SVG) and qualitative grids (PNG)
    tables.md, tables.tex every summary table and the paper comparison (md, tex)
    tables.csv            tidy means/std/n/rank; significance.csv; paper_vs_measured.csv (csv)
    report.json           every table, test and paper row, machine-readable (always written)

Every option is checked (and every requested pair and zoom region) before anything is written.
Only the ``Results`` / ``Run`` interface of :mod:`fusionbench.report.load` is used (``runs``,
``scores``, ``pairs``; per run ``dataset``, ``subset``, ``method``, ``path``, ``scores``,
``pairs``, ``manifest``), so the loader can change beneath it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from markupsafe import Markup

from fusionbench.errors import UsageError
from fusionbench.report.formats import make_env, render_template
from fusionbench.report.labels import RunLabel, run_label
from fusionbench.report.load import Results, Run, load_results
from fusionbench.report.output import write_csv, write_json
from fusionbench.report.paper import PaperTable, compare, default_paper_scores
from fusionbench.report.presets import Preset
from fusionbench.report.selection import (
    Selection,
    Unmeasured,
    check_selection,
    order_runs,
    unmeasured,
)
from fusionbench.report.significance import Comparison, significance
from fusionbench.report.tables import (
    SummaryTable,
    comparable_tables,
    nonfinite_scores,
    wide_scores,
    with_unmeasured,
)

FORMATS = ("md", "tex", "html", "csv")
SYNTHETIC_NOTE = ("SYNTHETIC DATA: these images are generated, so the scores say nothing about "
                  "real fusion performance")


def slug(text: str) -> str:
    """A file-name-safe form of ``text`` (a short hash is added when characters were changed).

    >>> slug("tno__all__tang2022")
    'tno__all__tang2022'
    >>> slug("a/b<c>")[:6]
    'a-b-c-'
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip(".")
    if safe != text or not safe:
        safe = f"{safe[:60]}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"
    return safe


@dataclass
class TableBlock:
    """One summary table with its tests and figures (paths relative to out_dir)."""

    table: SummaryTable
    table_id: str
    comparisons: list[Comparison]
    figures: list[str] = field(default_factory=list)

    @property
    def significance_rows(self) -> list[tuple[str, list[Comparison | None]]]:
        """(other method's label, one comparison or None per column) for the HTML grid."""
        by = {(c.other, c.metric): c for c in self.comparisons}
        label = {r.method: r.label for r in self.table.rows}
        others = [r.method for r in self.table.ranked_rows
                  if any(c.other == r.method for c in self.comparisons)]
        return [(label[o], [by.get((o, col.name)) for col in self.table.columns])
                for o in others]

    @property
    def best(self) -> list[str]:
        """Best method's label per column (first rank-1 ranked row), '' when unranked."""
        return [next((r.label for r in self.table.ranked_rows if r.cells[j].rank == 1), "")
                for j in range(len(self.table.columns))]


@dataclass
class RunBlock:
    """What the HTML shows about one run: its manifest, pairs and failures."""

    method: str
    label: str
    path: str
    manifest: list[tuple[str, str]]
    n_listed: int
    n_ok: int
    failed: list[tuple[str, str]]
    pairs: list[str]
    #: (pair, warning) for every metric warning recorded while scoring the run's pairs
    warnings: list[tuple[str, str]] = field(default_factory=list)

    @property
    def warning_notes(self) -> list[str]:
        """One line per distinct metric warning, naming the pairs it was recorded for.

        >>> block = RunBlock("m", "m", "", [], 2, 2, [], ["p1", "p2"],
        ...                  [("p1", "fused is constant"), ("p2", "fused is constant")])
        >>> block.warning_notes
        ['m: metric warning for 2 pair(s) (p1, p2): fused is constant']
        """
        by_text: dict[str, list[str]] = {}
        for pair, text in self.warnings:
            by_text.setdefault(text, []).append(pair)
        return [f"{self.label}: metric warning for {len(pairs)} pair(s) "
                f"({_some(pairs)}): {text}" for text, pairs in by_text.items()]


def _some(names: Sequence[str], shown: int = 10) -> str:
    more = f" (+{len(names) - shown} more)" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def _run_warnings(pairs: pd.DataFrame) -> list[tuple[str, str]]:
    """(pair, warning) from the ``warnings`` column of a run's pairs (" | "-joined; the
    column may be absent in older results)."""
    if "warnings" not in pairs.columns:
        return []
    out = []
    for pair, joined in zip(pairs["pair"], pairs["warnings"].fillna(""), strict=True):
        out += [(str(pair), " ".join(text.split()))  # one line (a LaTeX comment, a list item)
                for text in str(joined).split(" | ") if text.strip()]
    return sorted(out)


@dataclass
class GroupBlock:
    """One dataset subset: its tables, grids and runs."""

    dataset: str
    subset: str
    anchor: str
    n_pairs: int | None
    tables: list[TableBlock]
    grids: list[tuple[str, str]]
    runs: list[RunBlock]
    notes: list[str]
    synthetic: bool = False

    @property
    def title(self) -> str:
        """``dataset`` or ``dataset / subset``."""
        return self.dataset if self.subset == "all" else f"{self.dataset} / {self.subset}"


def _value_text(value: object) -> str:
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def _n_pairs(runs: Sequence[Run]) -> int | None:
    declared = [r.manifest.get("n_pairs") for r in runs]
    declared = [int(v) for v in declared if isinstance(v, int | float) and not isinstance(v, bool)]
    listed = {str(p) for r in runs for p in r.pairs["pair"]}
    if declared:
        return max(declared + [len(listed)])
    return len(listed) or None


def _run_block(run: Run, label: RunLabel) -> RunBlock:
    failed = run.pairs[run.pairs["status"] != "ok"]
    return RunBlock(
        method=run.method, label=label.text, path=str(run.path),
        manifest=[(str(k), _value_text(v)) for k, v in run.manifest.items()],
        n_listed=len(run.pairs), n_ok=int((run.pairs["status"] == "ok").sum()),
        failed=[(str(p), str(r)) for p, r in zip(failed["pair"], failed["reason"], strict=True)],
        pairs=sorted(str(p) for p in run.pairs["pair"]),
        warnings=_run_warnings(run.pairs),
    )


def _check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.lower() for f in formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"unknown report format(s) {', '.join(unknown) or '(none)'}; "
                         f"choose from {', '.join(FORMATS)}")
    return formats


def _synthetic(dataset: str, runs: Sequence[Run]) -> bool:
    if any(r.manifest.get("synthetic_data") is True for r in runs):
        return True
    from fusionbench.data import dataset_cards

    card = dataset_cards(None).get(dataset)
    return bool(card is not None and card.synthetic)


@dataclass
class _Plan:
    """One dataset subset to report, with its runs in display order."""

    dataset: str
    subset: str
    runs: list[Run]
    labels: dict[str, RunLabel]
    n_pairs: int | None
    grid_runs: list[Run]
    grid_pairs: list[str]
    notes: list[str]
    missing: list[Unmeasured] = field(default_factory=list)


def _plan(results: Results, selection: Selection, grid_pairs: Sequence[str] | None,
          zoom: Sequence[int] | None, figures: bool) -> list[_Plan]:
    """Resolve every group (and check --pairs / --zoom) before anything is drawn."""
    from fusionbench.report.grids import check_zoom, choose_pairs, runs_with_images

    plans = []
    every = sorted({(r.dataset, r.subset) for r in results.runs})
    groups = [g for g in every if selection.keeps_group(*g)]
    if selection.preset is not None and not groups:
        groups_text = ", ".join(f"{d}/{s}" for d, s in every)
        plans.append(_Plan(selection.dataset or "", selection.subset or "all", [], {}, None, [],
                           [], [f"preset {selection.preset.name}: no run of "
                                f"{selection.dataset} / {selection.subset} in the results "
                                f"(results have: {groups_text})"]))
    for dataset, subset in groups:
        runs = [r for r in results.runs if (r.dataset, r.subset) == (dataset, subset)]
        n_pairs = _n_pairs(runs)
        labels = {r.method: run_label(r, n_pairs) for r in runs}
        display = {m: lab.display for m, lab in labels.items()}
        runs = order_runs(selection, runs, display)
        missing = unmeasured(selection, runs, dataset, subset)
        notes = [m.note for m in missing]
        grid_runs, empty = runs_with_images(runs)
        chosen: list[str] = []
        if figures and runs:
            notes += [f"{labels[r.method].text}: no fused images, left out of the qualitative "
                      "grids" for r in empty]
            listed = {str(p) for r in runs for p in r.pairs["pair"]}
            wanted = [p for p in grid_pairs if p in listed] if grid_pairs else None
            if grid_pairs is None or wanted:
                chosen = choose_pairs(runs, wanted)
            if not chosen and grid_pairs is None:
                notes.append("no qualitative grid: no pair was fused by every method with "
                             "images")
            check_zoom(grid_runs, chosen, zoom)
        plans.append(_Plan(dataset, subset, runs, labels, n_pairs, grid_runs, chosen, notes,
                           missing))
    if grid_pairs:
        known = {str(p) for p in results.pairs["pair"]}
        unknown = [p for p in grid_pairs if p not in known]
        if unknown:
            some = ", ".join(sorted(known)[:8]) + (", ..." if len(known) > 8 else "")
            raise UsageError(f"--pairs: no run lists pair(s) {', '.join(unknown)} (pairs in "
                             f"the results: {some or 'none'})")
    return plans


def _table_notes(plan: _Plan, runs: Sequence[Run], synthetic: bool) -> list[str]:
    notes = [SYNTHETIC_NOTE] if synthetic else []
    for run in runs:
        label = plan.labels[run.method]
        if label.weights:
            notes.append(f"{label.display}: {label.weights}")
    return notes


def _group(plan: _Plan, results: Results, selection: Selection, assets: Path, *, digits: int,
           figures: bool, svg: bool, zoom: Sequence[int] | None, step) -> GroupBlock:
    from fusionbench.report.figures import box_plots
    from fusionbench.report.grids import draw_grid

    scores = results.scores
    methods = [r.method for r in plan.runs]
    labels = {m: lab.text for m, lab in plan.labels.items()}
    synthetic = _synthetic(plan.dataset, plan.runs)
    group_scores = scores[(scores["dataset"] == plan.dataset) & (scores["subset"] == plan.subset)
                          & scores["method"].isin(methods)]
    conventions = sorted(set(group_scores["convention"]))
    if selection.profiles is not None:
        conventions = [c for c in selection.profiles if c in conventions]
    notes = list(plan.notes)
    blocks = []
    all_pairs = {str(p) for r in plan.runs for p in r.pairs["pair"]}
    for conv in conventions:
        wide = wide_scores(group_scores, plan.dataset, plan.subset, conv)
        tables = comparable_tables(wide, plan.dataset, plan.subset, conv, methods=methods,
                                   labels=labels, metrics=selection.metrics, all_pairs=all_pairs,
                                   n_pairs=plan.n_pairs, digits=digits,
                                   notes=_table_notes(plan, plan.runs, synthetic),
                                   nonfinite=nonfinite_scores(group_scores, plan.dataset,
                                                              plan.subset, conv))
        tables[0] = with_unmeasured(tables[0], [(m.name, m.label) for m in plan.missing])
        shown = {r.method for r in tables[0].rows}
        notes += [f"{labels[m]}: no scores under convention {conv}" for m in methods
                  if m not in shown]
        for table in tables:
            name = slug(f"{plan.dataset}__{plan.subset}__{conv}__{table.scope}")
            block = TableBlock(table, f"table-{name}", significance(table, wide))
            if figures and table.scope == "main":
                paths = box_plots(table, wide, assets / f"box_{name}", svg=svg,
                                  names={m: lab.display for m, lab in plan.labels.items()})
                block.figures = [f"assets/{p.name}" for p in paths]
            blocks.append(block)
        step()
    if plan.runs and not blocks:
        notes.append("no scores in any run of this subset (every pair failed or nothing was "
                     "scored)")
    grids = []
    for pair in plan.grid_pairs:
        out = assets / f"grid_{slug(f'{plan.dataset}__{plan.subset}__{pair}')}.png"
        draw_grid(plan.grid_runs, pair, out, zoom,
                  {m: lab.display for m, lab in plan.labels.items()})
        grids.append((pair, f"assets/{out.name}"))
        step()
    runs = [_run_block(r, plan.labels[r.method]) for r in plan.runs]
    notes += [line for run in runs for line in run.warning_notes]
    return GroupBlock(plan.dataset, plan.subset, slug(f"{plan.dataset}__{plan.subset}"),
                      plan.n_pairs, blocks, grids, runs, notes, synthetic)


def _paper(results: Results, plans: Sequence[_Plan], selection: Selection,
           paper_scores: str | Path | None) -> tuple[list[PaperTable], str, str]:
    paper_path = Path(paper_scores) if paper_scores is not None else default_paper_scores()
    if paper_path is None:
        return [], "", ("paper scores file not found (looked for reference/"
                        "clfnet_paper_scores.csv beside the data root); paper-vs-measured "
                        "comparison omitted")
    if not paper_path.is_file():
        raise UsageError(f"--paper-scores {paper_path}: no such file")
    labels = {m: lab for p in plans for m, lab in p.labels.items()}
    presets: list[Preset] | None = None
    if selection.preset is not None:
        presets = [selection.preset] if selection.preset.paper is not None else []
    tables = compare(paper_path, results, labels, presets)
    status = "" if tables else "no measured dataset matches a table of the paper"
    return tables, str(paper_path), status


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="report", unit="step", file=sys.stderr, disable=not enabled,
                leave=False)


def build_report(results_root: str | Path, out_dir: str | Path, *,
                 formats: Iterable[str] = FORMATS, template_dir: str | Path | None = None,
                 paper_scores: str | Path | None = None, grid_pairs: Sequence[str] | None = None,
                 zoom: Sequence[int] | None = None, std: bool = True, digits: int = 4,
                 figures: bool = True, selection: Selection | None = None, svg: bool = True,
                 progress: bool = False) -> Path:
    """Write the report and return ``out_dir/index.html`` (or ``out_dir`` without html).

    ``paper_scores``: the CLF-Net paper's scores CSV; ``None`` looks beside the data root and
    omits the comparison (saying so) when absent. ``grid_pairs``: pairs to show in the
    qualitative grids (default: the first two every method with images covers). ``zoom``:
    ``(x, y, w, h)`` of the inset region (default: central box). ``figures=False`` skips plots
    and grids; ``svg=False`` writes the box plots as PNG only. ``selection``: methods, metrics,
    profiles and dataset subset to show (see :class:`~fusionbench.report.selection.Selection`).
    ``progress`` shows a progress bar on stderr.
    """
    formats = _check_formats(formats)
    if digits < 0 or digits > 12:
        raise UsageError(f"digits must be between 0 and 12, got {digits}")
    selection = selection or Selection()
    results = load_results(results_root)
    check_selection(selection, results)
    env = make_env(template_dir)
    plans = _plan(results, selection, grid_pairs, zoom, figures)
    out_dir = Path(out_dir)
    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    n_conv = max(1, len(set(results.scores["convention"])))
    total = sum(n_conv + len(p.grid_pairs) for p in plans) + 1
    with _progress(total, progress) as bar:
        groups = [_group(p, results, selection, assets, digits=digits, figures=figures,
                         svg=svg, zoom=zoom, step=bar.update) for p in plans]
        paper_tables, paper_path, paper_status = _paper(results, plans, selection, paper_scores)
        context = {
            "groups": groups, "std": std, "digits": digits, "root": str(results.root),
            "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
            "paper_tables": paper_tables, "paper_status": paper_status,
            "paper_path": paper_path,
            "title": selection.preset.title if selection.preset else "fusionbench report",
            "css": Markup(render_template(env, "report.css")) if "html" in formats else "",
        }
        for fmt_name, template in (("md", "report.md.j2"), ("tex", "report.tex.j2")):
            if fmt_name in formats:
                text = _squeeze(render_template(env, template, context))
                (out_dir / f"tables.{fmt_name}").write_text(text, encoding="utf-8")
        if "csv" in formats:
            write_csv(groups, paper_tables, out_dir)
        write_json(groups, paper_tables, context, selection, out_dir / "report.json")
        index = out_dir / "index.html"
        if "html" in formats:
            index.write_text(render_template(env, "report.html.j2", context),
                             encoding="utf-8")
        bar.update()
    return index if "html" in formats else out_dir


def _squeeze(text: str) -> str:
    """Collapse runs of blank lines left by template control lines (md / tex only)."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


__all__ = ["FORMATS", "build_report", "slug"]
