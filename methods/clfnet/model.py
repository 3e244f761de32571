"""The CLF-Net generator: two residual encoders and a residual decoder (see ``clfnet.md``).

Every convolution is bias-free and keeps the spatial size, so the network accepts any
``H x W``. Inputs and the output are gray images scaled to ``[-1, 1]``.

>>> import torch
>>> net = CLFNet().eval()
>>> sum(p.numel() for p in net.parameters())
190120
>>> net(torch.zeros(1, 1, 9, 7), torch.zeros(1, 1, 9, 7)).shape
torch.Size([1, 1, 9, 7])
"""

from __future__ import annotations

import torch
from torch import nn

#: Channel widths of each encoder (input 1 channel) and of the decoder (input 128 channels).
ENCODER_CHANNELS = (1, 16, 16, 32, 64)
DECODER_CHANNELS = (128, 64, 32, 16, 1)
#: LeakyReLU slope used throughout.
NEGATIVE_SLOPE = 0.01


class ResBlock(nn.Module):
    """Residual block ``i -> o``: conv1x1, BN, LeakyReLU, conv3x3, BN, plus a skip.

    The skip is a bias-free 1x1 convolution when ``i != o`` and the identity otherwise (the
    authors' code also builds an unused 1x1 convolution for 16 -> 16; it is left out here).
    ``last=True`` applies ``tanh`` after the add instead of LeakyReLU.

    >>> ResBlock(16, 16).skip is None
    True
    """

    def __init__(self, in_ch: int, out_ch: int, *, last: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, in_ch, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.conv2 = nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.skip: nn.Module | None = (
            nn.Conv2d(in_ch, out_ch, kernel_size=1, bias=False) if in_ch != out_ch else None
        )
        self.last = last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.leaky_relu(self.bn1(self.conv1(x)), NEGATIVE_SLOPE)
        y = self.bn2(self.conv2(y))
        y = y + (x if self.skip is None else self.skip(x))
        return torch.tanh(y) if self.last else nn.functional.leaky_relu(y, NEGATIVE_SLOPE)


def _stack(channels: tuple[int, ...], *, tanh_last: bool) -> nn.Sequential:
    n = len(channels) - 1
    return nn.Sequential(
        *(
            ResBlock(channels[k], channels[k + 1], last=tanh_last and k == n - 1)
            for k in range(n)
        )
    )


class CLFNet(nn.Module):
    """CLF-Net generator with 190,120 parameters.

    ``forward(ir, vis)`` takes two ``(B, 1, H, W)`` tensors in ``[-1, 1]`` and returns the
    fused ``(B, 1, H, W)`` image in ``[-1, 1]``. The decoder input is the concatenation
    ``[E_vis(vis), E_ir(ir)]`` (visible features first, as in the authors' code).
    """

    def __init__(self) -> None:
        super().__init__()
        self.encoder_ir = _stack(ENCODER_CHANNELS, tanh_last=False)
        self.encoder_vis = _stack(ENCODER_CHANNELS, tanh_last=False)
        self.decoder = _stack(DECODER_CHANNELS, tanh_last=True)

    def encode_ir(self, ir: torch.Tensor) -> torch.Tensor:
        """The IR encoder's last feature map, ``(B, 64, H, W)``."""
        return self.encoder_ir(ir)

    def encode_vis(self, vis: torch.Tensor) -> torch.Tensor:
        """The visible encoder's last feature map, ``(B, 64, H, W)``."""
        return self.encoder_vis(vis)

    def decode(self, feat_vis: torch.Tensor, feat_ir: torch.Tensor) -> torch.Tensor:
        """Fuse encoder features into an image in ``[-1, 1]``."""
        return self.decoder(torch.cat([feat_vis, feat_ir], dim=1))

    def forward(self, ir: torch.Tensor, vis: torch.Tensor) -> torch.Tensor:
        if ir.dim() != 4 or ir.shape[1] != 1 or ir.shape != vis.shape:
            raise ValueError(
                f"CLFNet expects ir and vis of equal shape (B, 1, H, W); got "
                f"{tuple(ir.shape)} and {tuple(vis.shape)}"
            )
        return self.decode(self.encode_vis(vis), self.encode_ir(ir))
