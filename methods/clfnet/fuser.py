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
from pathlib import Path

import numpy as np
import torch
from torch import nn

from fusionbench.errors import MethodError

from .model import CLFNet, ResBlock

#: Weights shipped with the package (trained on ``tno-train``; see the method card README).
DEFAULT_WEIGHTS = Path(__file__).resolve().parent / "weights" / "clfnet_tno-train.pt"


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


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> CLFNet:
    """Load a CLF-Net generator state dict (or a training checkpoint's ``net``) from ``path``."""
    path = Path(path)
    if not path.is_file():
        raise MethodError(f"CLF-Net weights file not found: {path}")
    try:
        state = torch.load(path, weights_only=True, map_location=device)
    except Exception as exc:  # unpickling errors come in many types
        raise MethodError(f"cannot read CLF-Net weights {path}: {exc}") from exc
    if isinstance(state, dict) and isinstance(state.get("net"), dict):
        state = state["net"]
    if not isinstance(state, dict):
        raise MethodError(f"CLF-Net weights {path} do not hold a state dict")
    net = CLFNet()
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        raise MethodError(f"CLF-Net weights {path} do not match the network: {exc}") from exc
    return net.to(device)


def prepare_for_inference(
    net: nn.Module, device: str | torch.device = "cpu", *, fold: bool = True
) -> nn.Module:
    """Eval-mode copy of ``net`` on ``device`` in channels-last layout, BatchNorm folded.

    Channels-last is markedly faster for these convolutions on CPU (oneDNN) and on CUDA.
    """
    net = fold_batchnorm(net) if fold else copy.deepcopy(net).eval()
    return net.to(device=device, memory_format=torch.channels_last)


class ClfnetFuser:
    """Callable CLF-Net fuser: ``fuser(a, b)`` with ``a`` = infrared, ``b`` = visible.

    ``weights`` defaults to the shipped ``weights/clfnet_tno-train.pt``; ``device`` defaults to
    CUDA when available, else CPU. On CPU torch uses ``num_threads`` threads (default: all
    cores; note that this sets torch's process-wide thread count).
    """

    name = "clfnet"

    def __init__(
        self,
        weights: str | Path | None = None,
        device: str | None = None,
        *,
        num_threads: int | None = None,
    ) -> None:
        if device is None:
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise MethodError("CLF-Net: device 'cuda' requested but CUDA is not available")
        if self.device.type == "cpu":
            torch.set_num_threads(num_threads or os.cpu_count() or 1)
        self.weights = Path(weights) if weights is not None else DEFAULT_WEIGHTS
        self.net = prepare_for_inference(load_generator(self.weights, self.device), self.device)

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
            out = self.net(self._to_tensor(ir), self._to_tensor(vis))
        fused = (out[0, 0].double().cpu().numpy() + 1.0) / 2.0
        return np.clip(fused, 0.0, 1.0)

    def _to_tensor(self, x: np.ndarray) -> torch.Tensor:
        """``[0, 1]`` gray array -> ``(1, 1, H, W)`` float32 tensor on ``[-1, 1]``."""
        t = torch.from_numpy(np.asarray(x, dtype=np.float32) * 2.0 - 1.0)[None, None]
        return t.to(self.device).contiguous(memory_format=torch.channels_last)
