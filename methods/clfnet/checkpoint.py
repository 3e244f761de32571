"""Training checkpoints: what one holds, whether a command may resume it, and how to start one
from generator weights alone.

A checkpoint is a dict of tensors, numbers, strings, lists and dicts only, so
``torch.load(path, weights_only=True)`` reads it on any machine. It records the training config;
:func:`config_differences` names every setting in which a command differs from it, for the
settings that shape the run (device, time budget, output folder and the like may change).
A run is shipped compacted (:func:`compact_checkpoint`) and xz-compressed (:func:`write_xz`);
:func:`expand_file` writes it back.

>>> config_differences({"batch_size": 4, "lr": 0.001, "device": "cpu"},
...                    {"batch_size": 2, "lr": 0.001, "device": "cuda"})
['batch_size: checkpoint 4, this command 2']
"""

from __future__ import annotations

import io
import lzma
import shutil
from pathlib import Path
from typing import Any

import torch

from fusionbench.atomic import atomic_write_bytes
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
    atomic_write_bytes(path, torch_bytes(obj))


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


#: Suffix of a file written by :func:`write_xz`.
XZ_SUFFIX = ".xz"

#: Entries of a checkpoint that :func:`compact_checkpoint` rounds to bfloat16.
ROUNDED_FOR_SHIPPING = ("head", "opt_net", "opt_head")


def compact_checkpoint(state: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``state`` small enough to ship: the generator (``net``), the step counts (the
    optimisers' ``step`` included), config and RNG states stay exact; the projection head's
    weights and both optimisers' moments are rounded to bfloat16 (3 significant digits), which
    halves them. Loading needs nothing special: ``load_state_dict`` casts back to float32.

    >>> s = {"net": {"w": torch.tensor([1 / 3])}, "head": {"w": torch.tensor([1 / 3])},
    ...      "opt_net": {"state": {0: {"step": torch.tensor(4001.0),
    ...                                "exp_avg": torch.tensor([1 / 3])}}}, "step": 7}
    >>> c = compact_checkpoint(s)
    >>> c["net"]["w"].dtype, c["head"]["w"].dtype, c["step"]
    (torch.float32, torch.bfloat16, 7)
    >>> c["opt_net"]["state"][0]["step"].item(), c["opt_net"]["state"][0]["exp_avg"].dtype
    (4001.0, torch.bfloat16)
    """
    def rounded(value: Any, key: str = "") -> Any:
        if isinstance(value, torch.Tensor):
            keep = key == "step" or not value.is_floating_point()
            return value if keep else value.to(torch.bfloat16)
        if isinstance(value, dict):
            return {k: rounded(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return type(value)(rounded(v) for v in value)
        return value

    return {k: rounded(v) if k in ROUNDED_FOR_SHIPPING else v for k, v in state.items()}


def write_xz(data: bytes, dest: Path) -> None:
    """xz-compress ``data`` into ``dest`` (atomically; :func:`expand_file` gives them back).

    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> write_xz(b'{"step": 1}', d / "log.jsonl.xz")
    >>> expand_file(d / "log.jsonl.xz", d / "log.jsonl")
    >>> (d / "log.jsonl").read_bytes()
    b'{"step": 1}'
    """
    atomic_write_bytes(dest, lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def torch_bytes(obj: Any) -> bytes:
    """What ``torch.save(obj, path)`` would write."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def expand_file(src: Path, dest: Path) -> None:
    """Write ``src`` to ``dest``: decompressed when ``src`` ends in ``.xz``, else copied.

    A damaged ``.xz`` file is a :class:`WeightsError` naming it.
    """
    src = Path(src)
    if not src.is_file():
        raise WeightsError(f"{src}: file not found")
    if src.name.endswith(XZ_SUFFIX):
        try:
            data = lzma.decompress(src.read_bytes())
        except lzma.LZMAError as exc:
            raise WeightsError(f"{src}: not a readable xz file ({exc})") from exc
        atomic_write_bytes(dest, data)
    else:
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)


