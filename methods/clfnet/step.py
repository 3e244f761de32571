"""One CLF-Net training step's forward pass and losses, free of host-device traffic.

:func:`forward_losses` takes device tensors only (the batch, the PatchNCE sample locations) and
returns the three loss tensors without reading any value back, so a training loop can run many
steps before it synchronises; it is also the unit that ``torch.compile`` compiles.

>>> import torch
>>> from .model import CLFNet
>>> from .losses import ProjectionHead
>>> net, head = CLFNet(), ProjectionHead()
>>> batch = torch.randint(0, 256, (2, 2, 16, 16), dtype=torch.uint8)
>>> idx = torch.arange(10)
>>> loss, nce, ssim = forward_losses(net, head, batch, idx, LossWeights())
>>> bool(torch.isclose(loss, nce + ssim))
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .data import to_unit_range
from .losses import patch_nce_loss, ssim_loss
from .model import CLFNet


@dataclass(frozen=True)
class LossWeights:
    """``L = lambda1 * PatchNCE + lambda2 * L_SSIM`` and the loss settings (authors' values)."""

    lambda1: float = 1.0
    lambda2: float = 1.0
    tau: float = 0.07
    ssim_window: str = "gaussian"


def forward_losses(
    net: CLFNet,
    head: nn.Module,
    batch: torch.Tensor,
    idx: torch.Tensor,
    weights: LossWeights,
    autocast: Callable[[], contextlib.AbstractContextManager[None]] = contextlib.nullcontext,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(loss, nce, ssim)`` for a ``uint8`` batch ``(B, 2, H, W)`` (IR, VI) on the net's device.

    The generator runs under ``autocast()`` (bf16 or nothing); both losses run in float32. The
    source encodings ``E_ir(ir)``, ``E_vis(vis)`` of the generator pass are reused in PatchNCE.
    """
    images = to_unit_range(batch)
    ir, vi = images[:, :1], images[:, 1:]
    if ir.is_cuda:
        ir = ir.contiguous(memory_format=torch.channels_last)
        vi = vi.contiguous(memory_format=torch.channels_last)
    with autocast():
        f_vi_src, f_ir_src = net.encode_vis(vi), net.encode_ir(ir)
        fused = net.decode(f_vi_src, f_ir_src)
        f_ir_fused, f_vi_fused = net.encode_ir(fused), net.encode_vis(fused)
    nce = patch_nce_loss(f_ir_fused, f_ir_src, f_vi_fused, f_vi_src, head, tau=weights.tau, idx=idx)
    ssim = ssim_loss(fused.float(), ir, vi, window=weights.ssim_window)  # type: ignore[arg-type]
    loss = weights.lambda1 * nce + weights.lambda2 * ssim
    return loss, nce, ssim
