"""Weights files you can trust: a content hash, a format sniff, safe loading, finite values.

Any network method loads its weights through :func:`read_state_dict`: the file is checked to be a
PyTorch archive before torch sees it (a text or image file gets a clear message, not an
unpickler's error code), loaded with ``torch.load(weights_only=True)`` (no code can run), and
every floating tensor must be finite. :func:`weights_sha256` is the key a results store can file
runs under; a card states the sha256 of the weights it ships and :func:`check_sha256` holds the
file to it.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "notes.pt")
>>> _ = open(path, "w").write("epoch 3: loss 0.5\\n")
>>> read_state_dict(path)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
fusionbench.errors.WeightsError: ...notes.pt: not a PyTorch weights file (it starts with text: ...
"""

from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from fusionbench.errors import WeightsError

#: torch.save writes a zip archive; files from torch < 1.6 start with a pickle protocol-2 header.
_ZIP_MAGIC = b"PK\x03\x04"
_LEGACY_MAGIC = b"\x80\x02"


def weights_sha256(path: str | Path) -> str:
    """Hex sha256 of a weights file's bytes (the identity a results store keys runs by).

    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "w.pt")
    >>> _ = open(p, "wb").write(b"abc")
    >>> weights_sha256(p)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_sha256(path: str | Path, expected: str, where: str) -> None:
    """Raise :class:`WeightsError` unless ``path`` hashes to ``expected`` (stated in ``where``)."""
    actual = weights_sha256(path)
    if actual != expected.lower():
        raise WeightsError(
            f"{path}: sha256 {actual} does not match {expected} stated in {where}; the file was "
            "changed or replaced (re-download it, or update the card if you trained new weights)"
        )


def sniff_weights_file(path: str | Path) -> None:
    """Raise :class:`WeightsError` unless ``path`` exists and starts like a torch.save file."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{path}: weights file not found")
    with open(path, "rb") as fh:
        head = fh.read(64)
    if head.startswith((_ZIP_MAGIC, _LEGACY_MAGIC)):
        return
    hint = "save weights with torch.save(model.state_dict(), path)"
    if not head:
        raise WeightsError(f"{path}: the weights file is empty; {hint}")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise WeightsError(
            f"{path}: not a PyTorch weights file (it starts with bytes {head[:8]!r}); {hint}"
        ) from None
    first = text.splitlines()[0][:40] if text.strip() else text[:40]
    raise WeightsError(f"{path}: not a PyTorch weights file (it starts with text: {first!r}); "
                       f"{hint}")


def iter_tensors(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, tensor)`` for every tensor in nested dicts/lists of ``obj``."""
    import torch

    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from iter_tensors(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(obj, list | tuple):
        for k, value in enumerate(obj):
            yield from iter_tensors(value, f"{prefix}.{k}" if prefix else str(k))


def check_finite(obj: Any, path: str | Path) -> None:
    """Raise :class:`WeightsError` naming the first floating tensor with a NaN or infinity."""
    import torch

    for key, tensor in iter_tensors(obj):
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise WeightsError(f"{path}: tensor {key!r} has {bad} NaN/inf value(s) of "
                               f"{tensor.numel()}; these weights cannot be used")


def load_file(path: str | Path, map_location: Any = "cpu") -> Any:
    """``torch.load(path, weights_only=True)`` after :func:`sniff_weights_file`, errors wrapped."""
    import torch

    sniff_weights_file(path)
    try:
        return torch.load(path, weights_only=True, map_location=map_location)
    except pickle.UnpicklingError as exc:
        if "weights only load failed" in str(exc).lower():
            raise WeightsError(f"{path}: refused: the file holds objects other than tensors and "
                               "plain containers, and loading them could run code") from exc
        raise WeightsError(f"{path}: cannot read the weights file (corrupt or truncated): "
                           f"{_first_line(exc)}") from exc
    except Exception as exc:  # zip and format errors come in many types
        raise WeightsError(f"{path}: cannot read the weights file (corrupt or truncated): "
                           f"{_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without terminal colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def read_state_dict(
    path: str | Path, *, key: str | None = None, map_location: Any = "cpu"
) -> dict[str, Any]:
    """A finite state dict from ``path``: the file itself, or its ``key`` entry when the file is
    a training checkpoint holding one (e.g. ``key="net"``)."""
    obj = load_file(path, map_location)
    if key is not None and isinstance(obj, Mapping) and isinstance(obj.get(key), Mapping):
        obj = obj[key]
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(f"{path}: does not hold a state dict (a non-empty dict of tensors)")
    check_finite(obj, path)
    return dict(obj)

