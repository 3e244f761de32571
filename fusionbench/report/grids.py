"""Qualitative grids: both sources and every method's fused image, with a zoomed inset.

Each tile shows the full image with the zoom region drawn as a red rectangle and, in its
lower-right corner, an inset of that region enlarged; the label sits under the tile. A method
that failed on (or never ran) the pair gets a grey tile saying so; a run with no fused image at
all (e.g. a folder left empty by a failed run) is left out of the grids and named in a note,
so it cannot remove the grids of the whole subset. Drawn with Pillow (fast, no matplotlib).

>>> zoom_region((100, 200), None)
(75, 37, 50, 25)
>>> zoom_region((100, 200), (190, 90, 50, 50))
(190, 90, 10, 10)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from fusionbench.errors import FusionbenchError, UsageError
from fusionbench.report.figures import PNG_COMPRESS_LEVEL
from fusionbench.report.load import Run

TILES_PER_ROW = 6
TILE_WIDTH = 240
LABEL_HEIGHT = 34
RED = (220, 0, 0)


def zoom_region(shape: tuple[int, ...], zoom: Sequence[int] | None) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` clipped to an image of ``shape``; default: the central quarter-size box.

    A region outside the image is a :class:`UsageError` (a bad ``--zoom``).
    """
    height, width = int(shape[0]), int(shape[1])
    if zoom is None:
        w, h = max(1, width // 4), max(1, height // 4)
        return (width - w) // 2, (height - h) // 2, w, h
    x, y, w, h = (int(v) for v in zoom)
    if w <= 0 or h <= 0:
        raise UsageError(f"--zoom {x},{y},{w},{h}: width and height must be positive")
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(width, x + w), min(height, y + h)
    if x1 <= x0 or y1 <= y0:
        raise UsageError(f"--zoom x,y,w,h={x},{y},{w},{h} lies outside the "
                         f"{width}x{height} image")
    return x0, y0, x1 - x0, y1 - y0


def parse_zoom(text: str) -> tuple[int, int, int, int]:
    """Parse ``"x,y,w,h"`` (integers, pixels); anything else is a :class:`UsageError`.

    >>> parse_zoom("10, 20,30,40")
    (10, 20, 30, 40)
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or values[2] <= 0 or values[3] <= 0 or min(values[:2]) < 0:
        raise UsageError(f"--zoom {text!r}: expected x,y,w,h as four integers "
                         "(x, y >= 0; w, h > 0)")
    return values  # type: ignore[return-value]


def _ok_rows(run: Run) -> dict[str, dict]:
    ok = run.pairs[(run.pairs["status"] == "ok") & (run.pairs["fused_path"] != "")]
    return {str(r["pair"]): r for r in ok.to_dict("records")}


def runs_with_images(runs: Sequence[Run]) -> tuple[list[Run], list[Run]]:
    """``(runs with at least one fused image, runs with none)``."""
    with_images = [r for r in runs if _ok_rows(r)]
    return with_images, [r for r in runs if r not in with_images]


def covered_pairs(runs: Sequence[Run]) -> list[str]:
    """Pairs (sorted) that every run fused successfully."""
    sets = [set(_ok_rows(r)) for r in runs]
    return sorted(set.intersection(*sets)) if sets else []


def choose_pairs(runs: Sequence[Run], requested: Sequence[str] | None, k: int = 2) -> list[str]:
    """The requested pairs, or the first ``k`` pairs every run with images covers.

    A requested pair that no run lists is a :class:`UsageError` naming it.
    """
    if requested:
        listed = {str(p) for r in runs for p in r.pairs["pair"]}
        unknown = [p for p in requested if p not in listed]
        if unknown:
            some = ", ".join(sorted(listed)[:8]) + (", ..." if len(listed) > 8 else "")
            raise UsageError(f"--pairs: no run lists pair(s) {', '.join(unknown)} "
                             f"(pairs here: {some or 'none'})")
        return list(requested)
    return covered_pairs(runs_with_images(runs)[0])[:k]


Tile = tuple[str, "np.ndarray | None", "str | None"]


def _tile(label: str, path: str | None, problem: str | None) -> Tile:
    from fusionbench.imageio import read_image

    if path is not None and problem is None:
        try:
            return label, read_image(path), None
        except (FusionbenchError, OSError) as exc:  # shown in the tile, never hidden
            return label, None, f"unreadable: {exc}"
    return label, None, problem or "not run"


def source_paths(runs: Sequence[Run], pair: str) -> tuple[str, str] | None:
    """The two source files of a pair, from the first run that lists them."""
    for run in runs:
        rows = run.pairs[run.pairs["pair"] == pair].to_dict("records")
        if rows and rows[0]["a_path"] and rows[0]["b_path"]:
            return str(rows[0]["a_path"]), str(rows[0]["b_path"])
    return None


def _tile_specs(runs: Sequence[Run], pair: str,
                labels: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    """``(label, image path or None, problem or None)`` for both sources then each method."""
    sources = source_paths(runs, pair)
    if sources is None:
        raise UsageError(f"pair {pair!r}: no run lists its source paths")
    specs: list[tuple[str, str | None, str | None]] = [
        (f"{Path(p).parent.name or role} (source)", p, None)
        for p, role in zip(sources, ("a", "b"), strict=True)]
    for run in runs:
        label = labels.get(run.method, run.method)
        rows = run.pairs[run.pairs["pair"] == pair].to_dict("records")
        if not rows:
            specs.append((label, None, "not run on this pair"))
        elif rows[0]["status"] != "ok" or not rows[0]["fused_path"]:
            specs.append((label, None, f"{rows[0]['status']}: {rows[0]['reason']}"))
        else:
            specs.append((label, str(rows[0]["fused_path"]), None))
    return specs


def grid_tiles(runs: Sequence[Run], pair: str,
               labels: dict[str, str] | None = None) -> list[Tile]:
    """``(label, image or None, problem or None)`` for both sources then each method."""
    return [_tile(*spec) for spec in _tile_specs(runs, pair, labels or {})]


def grid_inputs(runs: Sequence[Run], pair: str) -> list[str]:
    """The image files the grid of ``pair`` reads (sources, then each fused image)."""
    return [path for _, path, problem in _tile_specs(runs, pair, {})
            if path is not None and problem is None]


def pair_view(runs: Sequence[Run], pair: str) -> list[Run]:
    """``runs`` cut down to what the grid of ``pair`` reads: each run's row(s) of that pair
    (a small thing to hand to a worker process)."""
    return [replace(run, scores=run.scores.iloc[:0], manifest={},
                    pairs=run.pairs[run.pairs["pair"] == pair].reset_index(drop=True))
            for run in runs]


def image_size(path: str) -> tuple[int, int] | None:
    """``(height, width)`` of an image file from its header, ``None`` if unreadable."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.height, img.width
    except (OSError, ValueError):
        return None


def check_zoom(runs: Sequence[Run], pairs: Sequence[str], zoom: Sequence[int] | None) -> None:
    """Raise :class:`UsageError` when ``zoom`` lies outside a grid pair's source image."""
    if zoom is None:
        return
    for pair in pairs:
        sources = source_paths(runs, pair)
        size = image_size(sources[0]) if sources else None
        if size is not None:
            zoom_region(size, zoom)


def _to_rgb(img: np.ndarray) -> np.ndarray:
    arr = np.asarray(img)
    if arr.dtype != np.uint8:
        arr = np.clip(np.nan_to_num(arr.astype(float)), 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.stack([arr] * 3, axis=-1)
    return arr[..., :3]


def _draw_tile(label: str, img: np.ndarray | None, problem: str | None, size: tuple[int, int],
               zoom: Sequence[int] | None, font: object) -> object:
    from PIL import Image, ImageDraw

    width, height = size
    tile = Image.new("RGB", (width, height + LABEL_HEIGHT), "white")
    draw = ImageDraw.Draw(tile)
    if img is None:
        draw.rectangle((0, 0, width - 1, height - 1), fill=(217, 217, 217))
        draw.multiline_text((6, height // 2 - 10), _wrap(str(problem), 34, 3), fill="black",
                            font=font)
    else:
        arr = _to_rgb(img)
        try:
            x, y, w, h = zoom_region(arr.shape, zoom)
        except UsageError:  # checked on the source; an odd-sized fused image gets the default
            x, y, w, h = zoom_region(arr.shape, None)
        full = Image.fromarray(arr).resize((width, height), Image.Resampling.BILINEAR)
        sx, sy = width / arr.shape[1], height / arr.shape[0]
        inset_w, inset_h = int(width * 0.4), int(height * 0.4)
        inset = Image.fromarray(arr[y:y + h, x:x + w]).resize((inset_w, inset_h),
                                                              Image.Resampling.NEAREST)
        tile.paste(full, (0, 0))
        draw.rectangle((int(x * sx), int(y * sy), int((x + w) * sx) - 1,
                        int((y + h) * sy) - 1), outline=RED, width=2)
        tile.paste(inset, (width - inset_w, height - inset_h))
        draw.rectangle((width - inset_w, height - inset_h, width - 1, height - 1),
                       outline=RED, width=2)
    draw.text((4, height + 4), _wrap(label, 36, 2), fill="black", font=font)
    return tile


def _wrap(text: str, width: int, lines: int) -> str:
    chunks = [text[i:i + width] for i in range(0, len(text), width)][:lines]
    return "\n".join(chunks) if chunks else ""


def draw_grid(runs: Sequence[Run], pair: str, out: Path, zoom: Sequence[int] | None = None,
              labels: dict[str, str] | None = None) -> Path:
    """Write the grid of one pair as a PNG at ``out``."""
    from PIL import Image, ImageDraw, ImageFont

    tiles = grid_tiles(runs, pair, labels)
    shape = next((img.shape for _, img, _ in tiles if img is not None), (256, 256))
    tile_size = (TILE_WIDTH, max(40, round(TILE_WIDTH * shape[0] / shape[1])))
    font = ImageFont.load_default(size=12)
    ncols = min(TILES_PER_ROW, len(tiles))
    nrows = -(-len(tiles) // ncols)
    pad, title = 6, 24
    cell_w, cell_h = tile_size[0] + pad, tile_size[1] + LABEL_HEIGHT + pad
    canvas = Image.new("RGB", (ncols * cell_w + pad, nrows * cell_h + pad + title), "white")
    ImageDraw.Draw(canvas).text((pad, 4), f"pair {pair}", fill="black",
                                font=ImageFont.load_default(size=15))
    for i, (label, img, problem) in enumerate(tiles):
        tile = _draw_tile(label, img, problem, tile_size, zoom, font)
        canvas.paste(tile, (pad + (i % ncols) * cell_w, title + pad + (i // ncols) * cell_h))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out, optimize=False, compress_level=PNG_COMPRESS_LEVEL)
    return out
