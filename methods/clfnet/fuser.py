"""CLF-Net inference: ``ClfnetFuser(weights, device)(ir, vis) -> fused``.

The fuser works on 2-D float64 gray images on ``[0, 1]`` (the runner handles colour through
YCbCr). It loads a plain generator state dict with ``torch.load(..., weights_only=True)``, folds
every BatchNorm into the preceding convolution and runs under ``torch.inference_mode``.

>>> import numpy as np, tempfile, os, torch
>>> path = os.path.join(tempfile.mkdtemp(), "w.pt")
>>> torch.save(CLFNet().state_dict(), path)
>>> fuser = ClfnetFuser(weights=path, device="cpu", num_threads=1)
>>> out = fuser(np.zeros((20, 30)), np.ones((20, 30)))
>>> out.shape, out.dtype, bool(out.min() >= 0 and out.max() <= 1)
((20, 30), dtype('float64'), True)
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fusionbench.cards import read_card
from fusionbench.errors import MethodError
from fusionbench.weights import (
    WeightsError,
    check_sha256,
    read_state_dict,
    sniff_weights_file,
    weights_sha256,
)

from .model import DECODER_CHANNELS, ENCODER_CHANNELS, CLFNet, ResBlock

#: Rows of context each side of a strip: one 3x3 conv per ResBlock on the input-to-output path.
HALO = len(ENCODER_CHANNELS) - 1 + len(DECODER_CHANNELS) - 1
#: Strip height for CPU inference (faster than whole images on a 2-core CPU and far less memory).
CPU_TILE_ROWS = 96

#: The method card; it names the shipped weights file and states its sha256.
CARD_PATH = Path(__file__).resolve().parent / "card.toml"


def _fold_conv_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """A convolution with bias equal to ``bn(conv(x))`` for ``bn`` in eval mode."""
    scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
    folded = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
    ).to(device=conv.weight.device, dtype=conv.weight.dtype)
    bias = conv.bias.detach() if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        folded.weight.copy_(conv.weight.detach() * scale[:, None, None, None])
        folded.bias.copy_(bn.bias.detach() + (bias - bn.running_mean) * scale)
    return folded


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with each ResBlock's BatchNorms folded into its convs.

    Uses the running statistics, so the result equals ``model.eval()`` up to rounding.

    >>> net = fold_batchnorm(CLFNet())
    >>> any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    False
    """
    folded = copy.deepcopy(model).eval()
    for block in folded.modules():
        if isinstance(block, ResBlock):
            for conv_name, bn_name in (("conv1", "bn1"), ("conv2", "bn2")):
                bn = getattr(block, bn_name)
                if isinstance(bn, nn.BatchNorm2d):
                    setattr(block, conv_name, _fold_conv_bn(getattr(block, conv_name), bn))
                    setattr(block, bn_name, nn.Identity())
    return folded


def shipped_weights() -> tuple[Path, str]:
    """The shipped weights file and the sha256 that ``card.toml`` states for it."""
    card = read_card(CARD_PATH)
    return CARD_PATH.parent / str(card["weights"]), str(card["weights_sha256"])


@dataclass(frozen=True)
class ShippedRun:
    """What ``--resume-from shipped`` needs, as the card names it: the xz-compressed training
    checkpoint of the shipped weights, its sha256, and the compressed per-step log."""

    checkpoint: Path
    checkpoint_sha256: str
    log: Path


def shipped_run() -> ShippedRun:
    """The shipped weights' training checkpoint and log (card keys ``checkpoint``,
    ``checkpoint_sha256``, ``training_log``)."""
    card = read_card(CARD_PATH)
    return ShippedRun(CARD_PATH.parent / str(card["checkpoint"]), str(card["checkpoint_sha256"]),
                      CARD_PATH.parent / str(card["training_log"]))


def shipped_weights_steps() -> int:
    """Training steps behind the shipped weights, as the card states (``weights_steps``)."""
    return int(read_card(CARD_PATH)["weights_steps"])


def load_generator(
    path: str | Path, device: str | torch.device = "cpu", *, sha256: str | None = None
) -> CLFNet:
    """Load a CLF-Net generator state dict (or a training checkpoint's ``net``) from ``path``.

    The file must be a torch archive of finite tensors (:func:`fusionbench.weights.read_state_dict`)
    and, when ``sha256`` is given, hash to it. Errors are :class:`WeightsError` naming the file.
    """
    if sha256 is not None:
        sniff_weights_file(path)
        check_sha256(path, sha256, str(CARD_PATH))
    state = read_state_dict(path, key="net", map_location="cpu")
    net = CLFNet()
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise WeightsError(
            f"{path}: these weights do not fit the CLF-Net generator ({first[0] if first else exc}"
            f"{' ...' if len(first) > 1 else ''})"
        ) from exc
    return net.to(device)


def prepare_for_inference(
    net: nn.Module, device: str | torch.device = "cpu", *, fold: bool = True
) -> nn.Module:
    """Eval-mode copy of ``net`` on ``device`` in channels-last layout, BatchNorm folded.

    Channels-last is markedly faster for these convolutions on CPU (oneDNN) and on CUDA.
    """
    net = fold_batchnorm(net) if fold else copy.deepcopy(net).eval()
    return net.to(device=device, memory_format=torch.channels_last)


def run_in_strips(
    net: nn.Module, ir: torch.Tensor, vis: torch.Tensor, tile_rows: int | None
) -> torch.Tensor:
    """``net(ir, vis)`` computed strip by strip (``tile_rows`` rows plus ``HALO`` rows of context
    each side); equal to the whole-image result because every output pixel depends only on
    inputs within ``HALO`` pixels. ``tile_rows=None`` runs the whole image at once.

    >>> net = fold_batchnorm(CLFNet())
    >>> x, y = torch.rand(1, 1, 40, 9), torch.rand(1, 1, 40, 9)
    >>> with torch.no_grad():
    ...     bool((run_in_strips(net, x, y, 7) - net(x, y)).abs().max() < 1e-5)
    True
    """
    height = ir.shape[-2]
    if tile_rows is None or tile_rows >= height:
        return net(ir, vis)
    if tile_rows < 1:
        raise ValueError(f"tile_rows must be positive, got {tile_rows}")
    parts = []
    for start in range(0, height, tile_rows):
        stop = min(height, start + tile_rows)
        lo, hi = max(0, start - HALO), min(height, stop + HALO)
        strip = [
            t[:, :, lo:hi].contiguous(memory_format=torch.channels_last) for t in (ir, vis)
        ]
        parts.append(net(*strip)[:, :, start - lo : stop - lo])
    return torch.cat(parts, dim=2)


class ClfnetFuser:
    """Callable CLF-Net fuser: ``fuser(a, b)`` with ``a`` = infrared, ``b`` = visible.

    ``weights`` defaults to the shipped file named in ``card.toml``, whose sha256 is checked
    against the card's ``weights_sha256``; ``device`` defaults to
    CUDA when available, else CPU. On CPU torch uses ``num_threads`` threads (default: all
    cores; note that this sets torch's process-wide thread count) and images are processed in
    strips of ``tile_rows`` rows (default 96 on CPU, whole images on CUDA); the result is the
    same as whole-image inference.
    """

    name = "clfnet"

    def __init__(
        self,
        weights: str | Path | None = None,
        device: str | None = None,
        *,
        num_threads: int | None = None,
        tile_rows: int | None = -1,
    ) -> None:
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise MethodError("CLF-Net: device 'cuda' requested but CUDA is not available")
        if self.device.type == "cpu":
            torch.set_num_threads(num_threads or os.cpu_count() or 1)
        if tile_rows == -1:
            tile_rows = CPU_TILE_ROWS if self.device.type == "cpu" else None
        self.tile_rows = tile_rows
        expected = None
        if weights is None:
            weights, expected = shipped_weights()
        self.weights = Path(weights)
        net = load_generator(self.weights, self.device, sha256=expected)
        #: sha256 of the weights file (what a results store keys this run's scores by)
        self.weights_sha256 = expected or weights_sha256(self.weights)
        self.net = prepare_for_inference(net, self.device)

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ir, vis = (np.asarray(x) for x in (a, b))
        if ir.ndim != 2 or vis.ndim != 2:
            raise MethodError(f"CLF-Net needs 2-D gray images; got shapes {ir.shape}, {vis.shape}")
        if ir.shape != vis.shape:
            raise MethodError(f"CLF-Net inputs differ in size: {ir.shape} vs {vis.shape}")
        for label, x in (("infrared", ir), ("visible", vis)):
            if not np.all(np.isfinite(x)) or x.min() < -1e-6 or x.max() > 1 + 1e-6:
                raise MethodError(f"CLF-Net {label} input must be finite and on [0, 1]")
        with torch.inference_mode():
            out = run_in_strips(self.net, self._to_tensor(ir), self._to_tensor(vis), self.tile_rows)
        fused = (out[0, 0].double().cpu().numpy() + 1.0) / 2.0
        return np.clip(fused, 0.0, 1.0)

    def _to_tensor(self, x: np.ndarray) -> torch.Tensor:
        """``[0, 1]`` gray array -> ``(1, 1, H, W)`` float32 tensor on ``[-1, 1]``."""
        t = torch.from_numpy(np.asarray(x, dtype=np.float32) * 2.0 - 1.0)[None, None]
        return t.to(self.device).contiguous(memory_format=torch.channels_last)
