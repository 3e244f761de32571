"""Training checkpoints: what one holds, whether a command may resume it, and how to start one
from generator weights alone.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts only, so
``torch.load(path, weights_only=True)`` reads it on any machine. It records the training config;
:func:`config_differences` names every setting in which a command differs from it, for the
settings that shape the run (device, time budget, output folder and the like may change).

>>> config_differences({"batch_size": 4, "lr": 0.001, "device": "cpu"},
...                    {"batch_size": 2, "lr": 0.001, "device": "cuda"})
['batch_size: checkpoint 4, this command 2']
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from fusionbench.weights import WeightsError, load_file, read_state_dict, weights_sha256

#: Settings that define the training trajectory: a resumed run must use the checkpoint's.
TRAJECTORY_KEYS = (
    "batch_size", "lr", "lambda1", "lambda2", "num_samples", "patch_size", "patch_stride", "tau",
    "ssim_window", "seed", "precision",
)

#: ``origin`` of a checkpoint made by :func:`checkpoint_from_weights`.
FROM_WEIGHTS = "built from generator weights only"


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file in the same folder, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        torch.save(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def config_differences(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``"key: checkpoint A, this command B"`` for each :data:`TRAJECTORY_KEYS` entry that
    differs (a key the checkpoint did not record is not compared)."""
    return [
        f"{key}: checkpoint {saved[key]!r}, this command {current.get(key)!r}"
        for key in TRAJECTORY_KEYS
        if key in saved and saved[key] != current.get(key)
    ]


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint dict from ``path`` (weights_only, finite network tensors), or WeightsError."""
    state = load_file(path, map_location="cpu")
    needed = {"net", "head", "step", "steps_per_epoch", "config"}
    if not isinstance(state, dict) or not needed <= set(state):
        missing = sorted(needed - set(state)) if isinstance(state, dict) else sorted(needed)
        raise WeightsError(f"{path}: not a CLF-Net training checkpoint (missing {missing})")
    read_state_dict(path, key="net")  # finite generator tensors
    return state


def checkpoint_from_weights(
    weights: str | Path, step: int, steps_per_epoch: int, config: dict[str, Any],
    pairs: list[str], note: str,
) -> dict[str, Any]:
    """A checkpoint that continues from generator ``weights`` at ``step``, clearly labelled.

    Only the generator is restored: the projection head (``head = {}``) keeps its fresh
    initialisation, both Adam optimisers start with empty moments, and the data order and RNGs
    are drawn anew from the config's seed. ``origin`` and ``note`` say so in the checkpoint.
    """
    return {
        "net": read_state_dict(weights, key="net"),
        "head": {},
        "opt_net": {},
        "opt_head": {},
        "step": int(step),
        "epoch": int(step) // steps_per_epoch,
        "steps_per_epoch": int(steps_per_epoch),
        "wall_seconds": 0.0,
        "rng": {},
        "config": config,
        "pairs": pairs,
        "origin": FROM_WEIGHTS,
        "origin_weights_sha256": weights_sha256(weights),
        "note": note,
    }
