"""Build the whole report: tables (md / tex / html / csv), box plots, grids, manifests.

Output layout under ``out_dir``::

    index.html            self-contained page (inline CSS), links into assets/ (html)
    assets/               box plots (PNG + SVG) and qualitative grids (PNG)
    tables.md, tables.tex every summary table and the paper comparison (md, tex)
    tables.csv            tidy means/std/n/rank; significance.csv; paper_vs_measured.csv (csv)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from fusionbench.report.formats import make_env, render_template
from fusionbench.report.load import ReportError, Results, Run, load_results
from fusionbench.report.paper import (
    PAIRS_NOTE,
    PAPER_CONVENTION,
    compare,
    default_paper_scores,
    paper_frame,
    paper_tables,
    read_paper_scores,
)
from fusionbench.report.significance import Comparison, significance, significance_frame
from fusionbench.report.tables import SummaryTable, summary_table, table_frame

FORMATS = ("md", "tex", "html", "csv")


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
    notes: list[str] = field(default_factory=list)

    @property
    def significance_rows(self) -> list[tuple[str, list[Comparison | None]]]:
        """(other method, one comparison or None per column) for the HTML grid."""
        by = {(c.other, c.metric): c for c in self.comparisons}
        others = sorted({c.other for c in self.comparisons})
        return [(o, [by.get((o, col.name)) for col in self.table.columns]) for o in others]

    @property
    def best(self) -> list[str]:
        """Best method per column (first rank-1 row), '' when unranked."""
        return [next((r.method for r in self.table.rows if r.cells[j].rank == 1), "")
                for j in range(len(self.table.columns))]


@dataclass
class RunBlock:
    """What the HTML shows about one run: its manifest, pairs and failures."""

    method: str
    path: str
    manifest: list[tuple[str, str]]
    n_listed: int
    n_ok: int
    failed: list[tuple[str, str]]
    pairs: list[str]


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

    @property
    def title(self) -> str:
        """``dataset`` or ``dataset / subset``."""
        return self.dataset if self.subset == "all" else f"{self.dataset} / {self.subset}"


def _value_text(value: Any) -> str:
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


def _run_block(run: Run) -> RunBlock:
    failed = run.failed
    return RunBlock(
        method=run.method,
        path=str(run.path),
        manifest=[(str(k), _value_text(v)) for k, v in run.manifest.items()],
        n_listed=len(run.pairs),
        n_ok=int((run.pairs["status"] == "ok").sum()),
        failed=[(str(p), str(r)) for p, r in zip(failed["pair"], failed["reason"], strict=True)],
        pairs=sorted(str(p) for p in run.pairs["pair"]),
    )


def _check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    formats = tuple(dict.fromkeys(f.lower() for f in formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ReportError(f"unknown report format(s) {', '.join(unknown) or '(none)'}; "
                          f"choose from {', '.join(FORMATS)}")
    return formats


def _groups(results: Results, assets: Path, *, digits: int, figures: bool,
            grid_pairs: Sequence[str] | None, zoom: Sequence[int] | None) -> list[GroupBlock]:
    from fusionbench.report.figures import box_plots
    from fusionbench.report.grids import choose_pairs, draw_grid

    scores = results.scores
    blocks = []
    for dataset, subset in results.groups():
        runs = results.runs_of(dataset, subset)
        n_pairs = _n_pairs(runs)
        group_scores = scores[(scores["dataset"] == dataset) & (scores["subset"] == subset)]
        notes: list[str] = []
        tables = []
        for conv in sorted(group_scores["convention"].unique()):
            table = summary_table(scores, dataset, subset, conv, n_pairs=n_pairs,
                                  digits=digits)
            name = slug(f"{dataset}__{subset}__{conv}")
            block = TableBlock(table, f"table-{name}", significance(table, scores))
            shown = {r.method for r in table.rows}
            block.notes = [f"{r.method}: no scores under convention {conv}"
                           for r in runs if r.method not in shown]
            if figures:
                paths = box_plots(table, scores, assets / f"box_{name}")
                block.figures = [f"assets/{p.name}" for p in paths]
            tables.append(block)
        if not tables:
            notes.append("no scores in any run of this subset (every pair failed or nothing "
                         "was scored)")
        grids = []
        if figures:
            pairs = choose_pairs(runs, grid_pairs)
            if not pairs and not grid_pairs:
                notes.append("no qualitative grid: no pair was fused by every method")
            for pair in pairs:
                out = assets / f"grid_{slug(f'{dataset}__{subset}__{pair}')}.png"
                draw_grid(runs, pair, out, zoom)
                grids.append((pair, f"assets/{out.name}"))
        blocks.append(GroupBlock(dataset, subset, slug(f"{dataset}__{subset}"), n_pairs,
                                 tables, grids, [_run_block(r) for r in runs], notes))
    return blocks


def build_report(results_root: str | Path, out_dir: str | Path, *,
                 formats: Iterable[str] = FORMATS, template_dir: str | Path | None = None,
                 paper_scores: str | Path | None = None, grid_pairs: Sequence[str] | None = None,
                 zoom: Sequence[int] | None = None, std: bool = True, digits: int = 4,
                 figures: bool = True) -> Path:
    """Write the report and return ``out_dir/index.html`` (or ``out_dir`` without html).

    ``paper_scores``: the CLF-Net paper's scores CSV; ``None`` looks beside the data root and
    omits the comparison (saying so) when absent. ``grid_pairs``: pairs to show in the
    qualitative grids (default: the first two every method covers). ``zoom``: ``(x, y, w, h)``
    of the inset region (default: central box). ``figures=False`` skips plots and grids.
    """
    formats = _check_formats(formats)
    if digits < 0 or digits > 12:
        raise ReportError(f"digits must be between 0 and 12, got {digits}")
    results = load_results(results_root)
    env = make_env(template_dir)
    out_dir = Path(out_dir)
    assets = out_dir / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    groups = _groups(results, assets, digits=digits, figures=figures, grid_pairs=grid_pairs,
                     zoom=zoom)

    paper_path = Path(paper_scores) if paper_scores is not None else default_paper_scores()
    paper_rows, paper_notes, paper_status = [], [], ""
    if paper_path is None:
        paper_status = ("paper scores file not found (looked for "
                        "reference/clfnet_paper_scores.csv beside the data root); "
                        "paper-vs-measured comparison omitted")
    else:
        paper_rows, paper_notes = compare(read_paper_scores(paper_path), results.scores)
        if not paper_rows:
            paper_status = "no measured run matches a dataset and method of the paper"

    context = {
        "groups": groups, "std": std, "digits": digits, "root": str(results.root),
        "generated": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "paper_rows": paper_rows, "paper_tables": paper_tables(paper_rows),
        "paper_notes": paper_notes, "paper_status": paper_status,
        "paper_path": str(paper_path) if paper_path else "", "pairs_note": PAIRS_NOTE,
        "paper_convention": PAPER_CONVENTION,
        # The stylesheet is a (trusted) template, not user data: insert it unescaped.
        "css": Markup(render_template(env, "report.css")) if "html" in formats else "",
    }
    for fmt_name, template in (("md", "report.md.j2"), ("tex", "report.tex.j2")):
        if fmt_name in formats:
            text = _squeeze(render_template(env, template, context))
            (out_dir / f"tables.{fmt_name}").write_text(text, encoding="utf-8")
    if "csv" in formats:
        _write_csv(groups, paper_rows, out_dir)
    if "html" in formats:
        index = out_dir / "index.html"
        index.write_text(render_template(env, "report.html.j2", context), encoding="utf-8")
        return index
    return out_dir


def _squeeze(text: str) -> str:
    """Collapse runs of blank lines left by template control lines (md / tex only)."""
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _write_csv(groups: list[GroupBlock], paper_rows: list, out_dir: Path) -> None:
    blocks = [b for g in groups for b in g.tables]
    frames = [table_frame(b.table) for b in blocks]
    sig = [significance_frame(b.table, b.comparisons) for b in blocks]
    if frames:
        pd.concat(frames, ignore_index=True).to_csv(out_dir / "tables.csv", index=False)
    if sig:
        pd.concat(sig, ignore_index=True).to_csv(out_dir / "significance.csv", index=False)
    paper_frame(paper_rows).to_csv(out_dir / "paper_vs_measured.csv", index=False)
