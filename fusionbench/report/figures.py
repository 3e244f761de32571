"""Box plots: one panel per metric, one box per method (matplotlib Agg + seaborn).

matplotlib and seaborn are imported inside the functions so that importing this module (and
starting the CLI) stays fast.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from fusionbench.report.tables import Column, SummaryTable


def _short(name: str, limit: int = 24) -> str:
    """Shorten long method names for tick labels.

    >>> _short("a" * 30)
    'aaaaaaaaaaaaaaaaaaaaaaa…'
    """
    return name if len(name) <= limit else name[: limit - 1] + "…"


def box_plots(table: SummaryTable, scores: pd.DataFrame, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg``; return the paths (empty when nothing to plot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sel = scores[(scores["dataset"] == table.dataset) & (scores["subset"] == table.subset)
                 & (scores["convention"] == table.convention) & pd.notna(scores["value"])]
    metrics = [c for c in table.columns if (sel["metric"] == c.name).any()]
    if not metrics:
        return []
    methods = [r.method for r in table.rows]
    with matplotlib.rc_context({"text.parse_math": False, "svg.hashsalt": "fusionbench"}):
        return _draw(plt, sns, table, sel, metrics, methods, stem)


def _draw(plt: Any, sns: Any, table: SummaryTable, sel: pd.DataFrame, metrics: list[Column],
          methods: list[str], stem: Path) -> list[Path]:
    ncols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    width = max(3.2, 0.45 * len(methods) + 1.2)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.4 * nrows), squeeze=False)
    palette = dict(zip(methods, sns.color_palette("tab10", len(methods)), strict=True))
    for ax, col in zip(axes.flat, metrics, strict=False):
        data = sel[sel["metric"] == col.name]
        with warnings.catch_warnings():  # seaborn 0.13 passes matplotlib's deprecated `vert`
            warnings.simplefilter("ignore", DeprecationWarning)
            sns.boxplot(data=data, x="method", y="value", hue="method", order=methods,
                        hue_order=methods, palette=palette, ax=ax, legend=False, fliersize=2,
                        linewidth=0.8)
        ax.set_xticks(range(len(methods)), [_short(m) for m in methods])
        ax.set_title(f"{col.name} {col.arrow}", fontsize=10)
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle(table.caption, fontsize=11)
    fig.tight_layout()
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.parent / (stem.name + ".png"), stem.parent / (stem.name + ".svg")]
    fig.savefig(paths[0], dpi=110, metadata={"Software": None}, bbox_inches="tight")
    fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths
