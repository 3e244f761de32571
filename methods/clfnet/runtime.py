"""Device, numeric precision, determinism and optimisers for CLF-Net training.

``precision`` is one of:

* ``fp32`` (default, the authors' setting): IEEE float32 everywhere; TF32 is switched *off* for
  matmuls and cuDNN convolutions (PyTorch leaves it on for convolutions by default).
* ``tf32``: float32 storage, TF32 tensor-core matmuls and convolutions (CUDA, Ampere or newer).
* ``bf16``: the generator's forward pass under bfloat16 autocast, TF32 for what stays float32;
  both losses are still computed in float32.

On a CPU ``tf32`` is the same as ``fp32``; ``bf16`` autocast works but is rarely faster.

>>> import torch
>>> configure(torch.device("cpu"), "fp32", deterministic=False).autocast_dtype is None
True
>>> configure(torch.device("cpu"), "fp16", deterministic=False)
Traceback (most recent call last):
...
ValueError: precision must be one of ('fp32', 'tf32', 'bf16'), got 'fp16'
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import torch

PRECISIONS = ("fp32", "tf32", "bf16")


def pick_device(name: str) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; otherwise ``torch.device(name)``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(name)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available")
    return dev


def _set_fp32_precision(mode: str) -> None:
    """``"ieee"`` or ``"tf32"`` for CUDA matmuls and cuDNN convolutions."""
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # torch >= 2.9
        torch.backends.cuda.matmul.fp32_precision = mode
        torch.backends.cudnn.conv.fp32_precision = mode
    else:  # pragma: no cover - older torch
        torch.backends.cuda.matmul.allow_tf32 = mode == "tf32"
        torch.backends.cudnn.allow_tf32 = mode == "tf32"


@dataclass(frozen=True)
class Runtime:
    """What :func:`configure` set up: the device, its autocast dtype (or None) and flags."""

    device: torch.device
    precision: str
    deterministic: bool
    autocast_dtype: torch.dtype | None

    def autocast(self) -> contextlib.AbstractContextManager[None]:
        """The autocast context for the generator's forward pass (a no-op for fp32/tf32)."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)


def configure(device: torch.device, precision: str, *, deterministic: bool) -> Runtime:
    """Set torch's process-wide precision and determinism switches for training on ``device``.

    ``deterministic=True`` selects deterministic algorithms (cuDNN autotuning off; a warning,
    not an error, for an op that has no deterministic implementation) and, on CUDA, the cuBLAS
    workspace setting it needs. Otherwise cuDNN picks the fastest convolution algorithms.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    _set_fp32_precision("ieee" if precision == "fp32" else "tf32")
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    else:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
        torch.backends.cudnn.benchmark = device.type == "cuda"
    dtype = torch.bfloat16 if precision == "bf16" else None
    return Runtime(device, precision, deterministic, dtype)


def make_adam(params: Iterable[torch.nn.Parameter], lr: float, device: torch.device
              ) -> torch.optim.Adam:
    """Adam with the fused kernel (one launch for all tensors; the step counters stay on the
    device, so no per-step ``.item()``), falling back to the multi-tensor path where a device
    has no fused Adam. Same update rule as the per-tensor loop (betas 0.9/0.999, eps 1e-8).

    >>> opt = make_adam(torch.nn.Linear(2, 2).parameters(), 1e-3, torch.device("cpu"))
    >>> opt.defaults["fused"]
    True
    """
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # pragma: no cover - a device without fused Adam
        return torch.optim.Adam(params, lr=lr, foreach=True)


@contextlib.contextmanager
def torch_threads(num_threads: int | None) -> Iterator[None]:
    """Run with ``num_threads`` torch CPU threads (unchanged when None), restored afterwards."""
    old = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(old)
