"""Box plots: one panel per metric, one box per method (matplotlib Agg + seaborn).

matplotlib and seaborn are imported inside the functions so that importing this module (and
starting the CLI) stays fast.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from fusionbench.report.tables import SummaryTable


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


def _draw(plt, sns, table, sel, metrics, methods, stem: Path) -> list[Path]:  # noqa: ANN001
    ncols = min(3, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    width = max(3.2, 0.45 * len(methods) + 1.2)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.4 * nrows), squeeze=False)
    palette = dict(zip(methods, sns.color_palette("tab10", len(methods)), strict=True))
    for ax, col in zip(axes.flat, metrics, strict=False):
        data = sel[sel["metric"] == col.name]
        sns.boxplot(data=data, x="method", y="value", hue="method", order=methods,
                    hue_order=methods, palette=palette, ax=ax, legend=False, fliersize=2,
                    linewidth=0.8)
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
    fig.savefig(paths[0], dpi=110, metadata={"Software": None})
    fig.savefig(paths[1], metadata={"Date": None})
    plt.close(fig)
    return paths
