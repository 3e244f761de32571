"""Training patches for CLF-Net: 128x128 tiles at stride 32 from infrared/visible pairs.

A pair folder has ``ir/`` and ``vi/`` sub-folders whose images share file stems. Tiles start at
``0, 32, 64, ...``; when the last tile does not reach the right (bottom) border an extra tile
aligned to that border is added, so every pixel is covered and no tile is padded.

>>> tile_starts(200)
[0, 32, 64, 72]
>>> tile_starts(128)
[0]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from fusionbench.colour import rgb2gray_matlab
from fusionbench.errors import DatasetError
from fusionbench.imageio import is_image_file, read_image

PATCH_SIZE = 128
STRIDE = 32


def tile_starts(length: int, size: int = PATCH_SIZE, stride: int = STRIDE) -> list[int]:
    """Start offsets of tiles of ``size`` along an axis of ``length`` (last one border-aligned)."""
    if length < size:
        raise ValueError(f"axis of length {length} is shorter than the patch size {size}")
    starts = list(range(0, length - size + 1, stride))
    if starts[-1] != length - size:
        starts.append(length - size)
    return starts


def _gray(path: Path) -> np.ndarray:
    img = read_image(path)
    return rgb2gray_matlab(img) if img.ndim == 3 else img


def list_pairs(root: str | Path) -> list[tuple[str, Path, Path]]:
    """``(stem, ir_path, vi_path)`` for every stem present in both ``root/ir`` and ``root/vi``.

    Raises :class:`DatasetError` when a folder is missing, a stem lacks its partner, or nothing
    is found.
    """
    root = Path(root)
    dirs = {role: root / role for role in ("ir", "vi")}
    for role, d in dirs.items():
        if not d.is_dir():
            raise DatasetError(f"training folder {root} has no '{role}/' sub-folder")
    files = {
        role: {p.stem: p for p in sorted(d.iterdir()) if p.is_file() and is_image_file(p)}
        for role, d in dirs.items()
    }
    unpaired = sorted(set(files["ir"]) ^ set(files["vi"]))
    if unpaired:
        raise DatasetError(f"{root}: images without a partner in ir/ or vi/: {unpaired[:5]}")
    if not files["ir"]:
        raise DatasetError(f"{root}: no image pairs in ir/ and vi/")
    return [(stem, files["ir"][stem], files["vi"][stem]) for stem in sorted(files["ir"])]


def pair_patches(
    ir: np.ndarray, vi: np.ndarray, size: int = PATCH_SIZE, stride: int = STRIDE
) -> np.ndarray:
    """All tiles of one gray ``uint8`` pair as an array ``(N, 2, size, size)`` (channel 0 = IR).

    >>> pair_patches(np.zeros((130, 200), np.uint8), np.zeros((130, 200), np.uint8)).shape
    (8, 2, 128, 128)
    """
    if ir.shape != vi.shape or ir.ndim != 2:
        raise ValueError(f"pair images must be 2-D and equal in size; got {ir.shape}, {vi.shape}")
    stack = np.stack([ir, vi])
    tiles = [
        stack[:, y : y + size, x : x + size]
        for y in tile_starts(ir.shape[0], size, stride)
        for x in tile_starts(ir.shape[1], size, stride)
    ]
    return np.stack(tiles)


def load_patches(
    roots: str | Path | Sequence[str | Path], size: int = PATCH_SIZE, stride: int = STRIDE
) -> tuple[torch.Tensor, list[str]]:
    """Patches of all pairs under one or more pair folders, as a ``uint8`` tensor.

    Returns ``(patches, pair_names)``: ``patches`` is ``(N, 2, size, size)`` (IR, VI) kept in
    memory; ``pair_names`` lists ``<folder name>/<stem>`` of the pairs used.
    """
    if isinstance(roots, str | Path):
        roots = [roots]
    chunks: list[np.ndarray] = []
    names: list[str] = []
    for root in roots:
        for stem, ir_path, vi_path in list_pairs(root):
            ir, vi = _gray(ir_path), _gray(vi_path)
            if ir.shape != vi.shape:
                raise DatasetError(
                    f"{ir_path} and {vi_path} differ in size: {ir.shape}, {vi.shape}"
                )
            if min(ir.shape) < size:
                raise DatasetError(f"{ir_path} is smaller than the {size}x{size} patch size")
            chunks.append(pair_patches(ir, vi, size, stride))
            names.append(f"{Path(root).name}/{stem}")
    return torch.from_numpy(np.concatenate(chunks)), names


def to_unit_range(batch: torch.Tensor) -> torch.Tensor:
    """``uint8`` values to float in ``[-1, 1]``: ``(x - 127.5) / 127.5``.

    >>> to_unit_range(torch.tensor([0, 255], dtype=torch.uint8)).tolist()
    [-1.0, 1.0]
    """
    return (batch.float() - 127.5) / 127.5

