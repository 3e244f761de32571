"""Box plots: one panel per metric, one box per method, its n written under it.

Every method gets its own look: a colour of ``tab10`` and, beyond ten methods, a hatch pattern
as well (:func:`method_styles`). Panels are laid out for a page: a figure 10 inches wide, one
panel per line when there are many methods. matplotlib is imported inside the functions so that
importing this module (and starting the CLI) stays fast.

>>> styles = method_styles(["a", "b", "c"] + [f"m{i}" for i in range(20)])
>>> len(set(styles.values())) == 23
True
>>> styles["a"], styles["m7"][1]
(('#1f77b4', ''), '//')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fusionbench.report.tables import SummaryTable

#: matplotlib's tab10 colours and the hatches that tell apart methods sharing a colour.
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
HATCHES = ("", "//", "..", "xx", "\\\\", "oo", "--", "++")
PAGE_WIDTH = 10.0  # inches
#: zlib level of the PNGs (box plots and grids): 3 encodes these plots ~1.5-2.5x faster than
#: Pillow's default 6 into files no larger (the pixels are the same at every level)
PNG_COMPRESS_LEVEL = 3


def method_styles(methods: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``(colour, hatch)`` per method, all distinct for up to 80 methods."""
    out = {}
    for i, method in enumerate(methods):
        colour = COLOURS[i % len(COLOURS)]
        hatch = HATCHES[(i // len(COLOURS)) % len(HATCHES)]
        out[method] = (colour, hatch)
    return out


def _short(name: str, limit: int = 24) -> str:
    """Shorten long method names for tick labels.

    >>> _short("a" * 30)
    'aaaaaaaaaaaaaaaaaaaaaaa…'
    """
    return name if len(name) <= limit else name[: limit - 1] + "…"


def plotted_metrics(table: SummaryTable, wide: pd.DataFrame) -> list:
    """The table's columns that get a panel: those some listed method has scores of."""
    return [c for c in table.columns
            if any((r.method, c.name) in wide.columns for r in table.rows if r.n)]


def box_plot_paths(stem: Path, svg: bool = True) -> list[Path]:
    """The files :func:`box_plots` writes for ``stem`` (when there is something to plot)."""
    return [stem.parent / (stem.name + ext) for ext in (".png", ".svg")[: 2 if svg else 1]]


def box_plots(table: SummaryTable, wide: pd.DataFrame, stem: Path, *, svg: bool = True,
              names: dict[str, str] | None = None) -> list[Path]:
    """Write ``stem.png`` (and ``stem.svg``); return the paths (empty when nothing to plot,
    :func:`plotted_metrics`).

    ``wide`` is :func:`fusionbench.report.tables.wide_scores` of the table's subset and
    convention; each box holds every finite score of that method (its own pairs). ``names``:
    the tick label per method (default: the row's label); partial rows get a ``*``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = plotted_metrics(table, wide)
    if not metrics:
        return []
    with matplotlib.rc_context({"text.parse_math": False, "svg.hashsalt": "fusionbench",
                                "hatch.linewidth": 0.6}):
        fig = _draw(plt, table, wide, metrics, names or {})
        stem.parent.mkdir(parents=True, exist_ok=True)
        paths = box_plot_paths(stem, svg)
        fig.savefig(paths[0], dpi=100, metadata={"Software": None},
                    pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
        if svg:
            fig.savefig(paths[1], metadata={"Date": None})
        plt.close(fig)
    return paths


def _draw(plt: Any, table: SummaryTable, wide: pd.DataFrame, metrics: list,
          names: dict[str, str]) -> Any:
    rows = [r for r in table.rows if r.n]  # a method listed without any score has no box
    ticks = [_short(names.get(r.method, r.label)) + ("" if r.ranked else " *") for r in rows]
    styles = method_styles([r.method for r in rows])
    ncols = 1 if len(rows) > 10 else (2 if len(rows) > 4 else 3)
    ncols = min(ncols, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    # Fixed margins in inches (faster than a layout engine): tick labels under each panel,
    # a title above it, the figure title on top.
    panel_h, top, left, right = 2.4, 0.65, 0.6, 0.15
    label_space = 0.055 * max(len(t) for t in ticks) + 0.3
    gap = label_space + 0.35
    height = top + nrows * panel_h + (nrows - 1) * gap + label_space
    panel_w = (PAGE_WIDTH - left - right - (ncols - 1) * 0.5) / ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(PAGE_WIDTH, height), squeeze=False)
    fig.subplots_adjust(left=left / PAGE_WIDTH, right=1 - right / PAGE_WIDTH,
                        top=1 - top / height, bottom=label_space / height,
                        hspace=gap / panel_h, wspace=0.5 / panel_w)
    for ax, col in zip(axes.flat, metrics, strict=False):
        j = table.columns.index(col)
        data, counts = [], []
        for r in rows:
            key = (r.method, col.name)
            vals = wide[key].to_numpy(float) if key in wide.columns else np.array([])
            vals = vals[np.isfinite(vals)]
            data.append(vals if vals.size else np.array([np.nan]))
            bad = len(r.cells[j].nonfinite)  # NaN or inf: no box point, but said
            counts.append(f"n={vals.size}" + (f"\n+{bad} not finite" if bad else ""))
        parts = ax.boxplot(data, patch_artist=True, widths=0.6, showfliers=True,
                           flierprops={"markersize": 2}, medianprops={"color": "black"})
        for patch, r in zip(parts["boxes"], rows, strict=True):
            colour, hatch = styles[r.method]
            patch.set_facecolor(colour)
            patch.set_alpha(0.85)
            patch.set_hatch(hatch)
            patch.set_linewidth(0.7)
        for i, n in enumerate(counts, start=1):
            ax.text(i, 0.01, n, ha="center", va="bottom", fontsize=6.5,
                    transform=ax.get_xaxis_transform(), color="0.2")
        ax.set_xticks(range(1, len(rows) + 1), ticks,
                      rotation=50, ha="right", rotation_mode="anchor", fontsize=8)
        ax.set_title(f"{col.name} {col.arrow}", fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.margins(y=0.12)
        ax.grid(axis="y", linewidth=0.3, alpha=0.5)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    partial = " (* partial coverage, not ranked)" if table.partial_rows else ""
    fig.suptitle(f"{table.where} — {table.convention}: per-pair scores, n pairs under each "
                 f"box{partial}", fontsize=10, y=1 - 0.12 / height, va="top")
    return fig
