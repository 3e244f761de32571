"""Qualitative grids: both sources and every method's fused image, with a zoomed inset.

Each tile shows the full image with the zoom region drawn as a red rectangle and, in its
lower-right corner, an inset of that region enlarged. The label sits under the tile. A method
that failed on (or never ran) the pair gets a grey tile saying so.

>>> zoom_region((100, 200), None)
(75, 37, 50, 25)
>>> zoom_region((100, 200), (190, 90, 50, 50))
(190, 90, 10, 10)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fusionbench.errors import FusionbenchError
from fusionbench.report.load import ReportError, Run

TILES_PER_ROW = 6


def zoom_region(shape: tuple[int, ...], zoom: Sequence[int] | None) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` clipped to an image of ``shape``; default: the central quarter-size box."""
    height, width = int(shape[0]), int(shape[1])
    if zoom is None:
        w, h = max(1, width // 4), max(1, height // 4)
        return (width - w) // 2, (height - h) // 2, w, h
    x, y, w, h = (int(v) for v in zoom)
    if w <= 0 or h <= 0:
        raise ReportError(f"zoom region {tuple(zoom)}: width and height must be positive")
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        raise ReportError(f"zoom region x,y,w,h={x},{y},{w},{h} lies outside the "
                          f"{width}x{height} image")
    return x0, y0, x1 - x0, y1 - y0


def parse_zoom(text: str) -> tuple[int, int, int, int]:
    """Parse ``"x,y,w,h"`` (integers, pixels).

    >>> parse_zoom("10, 20,30,40")
    (10, 20, 30, 40)
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0 or min(values[:2]) < 0:
        raise ReportError(f"--zoom {text!r}: expected x,y,w,h as four integers "
                          "(x, y >= 0; w, h > 0)")
    return values  # type: ignore[return-value]


def _ok_rows(run: Run) -> dict[str, dict]:
    ok = run.pairs[(run.pairs["status"] == "ok") & (run.pairs["fused_path"] != "")]
    return {str(r["pair"]): r for r in ok.to_dict("records")}


def covered_pairs(runs: Sequence[Run]) -> list[str]:
    """Pairs (sorted) that every run fused successfully."""
    sets = [set(_ok_rows(r)) for r in runs]
    return sorted(set.intersection(*sets)) if sets else []


def choose_pairs(runs: Sequence[Run], requested: Sequence[str] | None, k: int = 2) -> list[str]:
    """The requested pairs that any run lists, or the first ``k`` pairs every run covers."""
    if requested:
        listed = {str(p) for r in runs for p in r.pairs["pair"]}
        return [p for p in requested if p in listed]
    return covered_pairs(runs)[:k]


Tile = tuple[str, "np.ndarray | None", "str | None"]


def _tile(label: str, path: str | None, problem: str | None) -> Tile:
    from fusionbench.imageio import read_image

    if path is not None and problem is None:
        try:
            return label, read_image(path), None
        except (FusionbenchError, OSError) as exc:  # shown in the tile, never hidden
            return label, None, f"unreadable: {exc}"
    return label, None, problem or "not run"


def grid_tiles(runs: Sequence[Run], pair: str) -> list[Tile]:
    """``(label, image or None, problem or None)`` for both sources then each method."""
    source_row = None
    for run in runs:
        rows = run.pairs[run.pairs["pair"] == pair].to_dict("records")
        if rows and rows[0]["a_path"] and rows[0]["b_path"]:
            source_row = rows[0]
            break
    if source_row is None:
        raise ReportError(f"pair {pair!r}: no run lists its source paths in pairs.csv")
    tiles = []
    for key in ("a_path", "b_path"):
        path = Path(source_row[key])
        tiles.append(_tile(f"{path.parent.name or key[0]} (source)", str(path), None))
    for run in runs:
        rows = run.pairs[run.pairs["pair"] == pair].to_dict("records")
        if not rows:
            tiles.append(_tile(run.method, None, "not run on this pair"))
        elif rows[0]["status"] != "ok" or not rows[0]["fused_path"]:
            tiles.append(_tile(run.method, None, f"failed: {rows[0]['reason']}"))
        else:
            tiles.append(_tile(run.method, rows[0]["fused_path"], None))
    return tiles


def draw_grid(runs: Sequence[Run], pair: str, out: Path,
              zoom: Sequence[int] | None = None) -> Path:
    """Write the grid of one pair as a PNG at ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    tiles = grid_tiles(runs, pair)
    shape = next((img.shape for _, img, _ in tiles if img is not None), (256, 256))
    box = zoom_region(shape, zoom)
    ncols = min(TILES_PER_ROW, len(tiles))
    nrows = math.ceil(len(tiles) / ncols)
    aspect = shape[0] / shape[1]
    with matplotlib.rc_context({"text.parse_math": False}):
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.4 * aspect * nrows + 0.5),
                                 squeeze=False)
        for ax in axes.flat:
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        for ax, (label, img, problem) in zip(axes.flat, tiles, strict=False):
            ax.set_xlabel(label if len(label) <= 30 else label[:29] + "…", fontsize=9)
            if img is None:
                ax.set_facecolor("0.85")
                ax.text(0.5, 0.5, str(problem)[:80], ha="center", va="center", wrap=True,
                        fontsize=7, transform=ax.transAxes)
                continue
            _show(ax, img)
            x, y, w, h = zoom_region(img.shape, zoom) if img.shape[:2] != shape[:2] else box
            ax.add_patch(Rectangle((x - 0.5, y - 0.5), w, h, fill=False, edgecolor="red",
                                   linewidth=1.2))
            inset = ax.inset_axes([0.6, 0.0, 0.4, 0.4])
            _show(inset, img[y:y + h, x:x + w])
            inset.set_xticks([])
            inset.set_yticks([])
            for spine in inset.spines.values():
                spine.set_edgecolor("red")
                spine.set_linewidth(1.2)
        fig.suptitle(f"pair {pair}", fontsize=10)
        fig.tight_layout()
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=100, metadata={"Software": None}, bbox_inches="tight")
        plt.close(fig)
    return out


def _show(ax: Any, img: np.ndarray) -> None:
    if img.ndim == 2:
        ax.imshow(img, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        ax.imshow(img, interpolation="nearest")
