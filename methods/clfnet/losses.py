"""CLF-Net training losses: window-selective SSIM and the adaptive PatchNCE loss.

All tensors are ``(B, 1, H, W)`` images in ``[-1, 1]`` (SSIM) or ``(B, C, H, W)`` encoder
features (PatchNCE). Both losses are computed in float32 even under autocast.

>>> import torch
>>> x = torch.rand(1, 1, 32, 32) * 2 - 1
>>> round(float(ssim_loss(x, x, x)), 6)
0.0
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

#: Side of the SSIM window (paper and code agree on 16).
WINDOW_SIZE = 16
#: Gaussian sigma of the authors' window.
GAUSSIAN_SIGMA = 1.5


def gaussian_window(size: int = WINDOW_SIZE, sigma: float = GAUSSIAN_SIGMA) -> torch.Tensor:
    """Normalised 2-D Gaussian window sampled at offsets ``-size//2 .. size - size//2 - 1``.

    >>> w = gaussian_window()
    >>> tuple(w.shape), round(float(w.sum()), 6)
    ((16, 16), 1.0)
    """
    offsets = torch.arange(size, dtype=torch.float64) - size // 2
    g = torch.exp(-(offsets**2) / (2.0 * sigma**2))
    g = g / g.sum()
    return torch.outer(g, g).float()


_WINDOWS: dict[torch.device, torch.Tensor] = {}


def window_on(device: torch.device) -> torch.Tensor:
    """The ``(1, 1, 16, 16)`` Gaussian window on ``device``, built and copied there once.

    >>> window_on(torch.device("cpu")) is window_on(torch.device("cpu"))
    True
    """
    device = torch.device(device)
    if device not in _WINDOWS:
        _WINDOWS[device] = gaussian_window().to(device)[None, None]
    return _WINDOWS[device]


def _local_stats(
    x: torch.Tensor, y: torch.Tensor, window: str
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Window means, variances and covariance of ``x`` and ``y``."""
    if window == "gaussian":
        kernel = window_on(x.device)
        pad = WINDOW_SIZE // 2

        def filt(t: torch.Tensor) -> torch.Tensor:
            return F.conv2d(t, kernel, padding=pad)
    else:

        def filt(t: torch.Tensor) -> torch.Tensor:
            return F.avg_pool2d(t, WINDOW_SIZE, stride=1)

    mx, my = filt(x), filt(y)
    vx = filt(x * x) - mx * mx
    vy = filt(y * y) - my * my
    cxy = filt(x * y) - mx * my
    return mx, my, vx, vy, cxy


def _ssim_map(
    mx: torch.Tensor,
    my: torch.Tensor,
    vx: torch.Tensor,
    vy: torch.Tensor,
    cxy: torch.Tensor,
    c1: float,
    c2: float,
) -> torch.Tensor:
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def ssim_loss(
    fused: torch.Tensor,
    ir: torch.Tensor,
    vis: torch.Tensor,
    *,
    window: Literal["gaussian", "uniform"] = "gaussian",
) -> torch.Tensor:
    """``1 - mean(Score)``; Score = SSIM(f, ir) if the IR window mean is larger, else SSIM(f, vi).

    Inputs are ``(B, 1, H, W)`` in ``[-1, 1]``. Ties go to the visible image.

    * ``window="gaussian"`` (default, the authors' code): 16x16 Gaussian window, sigma 1.5,
      offsets -8..7, zero padding 8 (an ``(H+1) x (W+1)`` map), C1 = 0.01**2, C2 = 0.03**2 applied
      to the data in ``[-1, 1]``, selection by the Gaussian-weighted means.
    * ``window="uniform"`` (the paper's text): every 16x16 window at stride 1 inside the image
      (no padding), data mapped to ``[0, 1]``, C1 = 1e-4, C2 = 9e-4; needs ``H, W >= 16``.

    The default follows the authors' code because that code produced the published CLF-Net
    weights and results that this benchmark compares against; the paper's variant is kept as an
    option for ablations. Variances are the biased (population) window variances.

    >>> import torch
    >>> g = torch.Generator().manual_seed(0)
    >>> a, b = (torch.rand(2, 1, 20, 20, generator=g) * 2 - 1 for _ in range(2))
    >>> bool(ssim_loss(a, a, b, window="uniform") < ssim_loss(b * 0, a, b, window="uniform"))
    True
    """
    if window not in ("gaussian", "uniform"):
        raise ValueError(f"window must be 'gaussian' or 'uniform', got {window!r}")
    if not (fused.shape == ir.shape == vis.shape) or fused.dim() != 4 or fused.shape[1] != 1:
        raise ValueError(
            "ssim_loss expects fused, ir, vis of equal shape (B, 1, H, W); got "
            f"{tuple(fused.shape)}, {tuple(ir.shape)}, {tuple(vis.shape)}"
        )
    f, a, b = (t.float() for t in (fused, ir, vis))
    if window == "uniform":
        if min(f.shape[-2:]) < WINDOW_SIZE:
            raise ValueError(f"uniform SSIM needs H, W >= {WINDOW_SIZE}; got {tuple(f.shape)}")
        f, a, b = ((t + 1.0) / 2.0 for t in (f, a, b))
        c1, c2 = 1e-4, 9e-4
    else:
        c1, c2 = 0.01**2, 0.03**2
    with torch.autocast(f.device.type, enabled=False):
        mf, ma, vf, va, cfa = _local_stats(f, a, window)
        _, mb, _, vb, cfb = _local_stats(f, b, window)
        score_ir = _ssim_map(mf, ma, vf, va, cfa, c1, c2)
        score_vi = _ssim_map(mf, mb, vf, vb, cfb, c1, c2)
    score = torch.where(ma > mb, score_ir, score_vi)
    return 1.0 - score.mean()


class ProjectionHead(nn.Module):
    """Shared two-layer MLP ``64 -> 2048 -> BN1d -> LeakyReLU -> 256`` followed by l2-norm.

    Linear weights start from N(0, 0.02) and biases from zero (BatchNorm keeps its default
    weight 1, bias 0). Input ``(N, in_dim)``, output ``(N, out_dim)`` unit vectors.

    >>> import torch
    >>> head = ProjectionHead()
    >>> sum(p.numel() for p in head.parameters())
    661760
    >>> round(float(head(torch.randn(5, 64)).detach().norm(dim=1).min()), 4)
    1.0
    """

    def __init__(self, in_dim: int = 64, hidden: int = 2048, out_dim: int = 256) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.BatchNorm1d(hidden),
            nn.LeakyReLU(0.01),
            nn.Linear(hidden, out_dim),
        )
        for m in self.net:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.net(x.float()), dim=1, eps=1e-7)


def sample_locations(
    height: int, width: int, num_samples: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``min(num_samples, H*W)`` distinct flat indices from one random permutation, drawn on the
    generator's device (no host-to-device copy when the generator lives on the GPU).

    >>> sample_locations(4, 4, 200).numel()
    16
    """
    device = generator.device if generator is not None else torch.device("cpu")
    perm = torch.randperm(height * width, generator=generator, device=device)
    return perm[: min(num_samples, height * width)]


def gather_locations(feat: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Rows ``(B*S, C)`` of ``feat`` ``(B, C, H, W)`` at flat spatial indices ``idx``.

    Row ``b*S + s`` is image ``b`` at location ``idx[s]``; ``idx`` must be on ``feat``'s device.
    """
    if idx.device != feat.device:
        raise ValueError(f"sample indices on {idx.device}, features on {feat.device}: create the "
                         "indices on the features' device (no per-step copies)")
    b, c = feat.shape[:2]
    flat = feat.reshape(b, c, -1)[:, :, idx]
    return flat.permute(0, 2, 1).reshape(-1, c)


def patch_nce_loss(
    fused_ir: torch.Tensor,
    src_ir: torch.Tensor,
    fused_vis: torch.Tensor,
    src_vis: torch.Tensor,
    head: nn.Module,
    *,
    num_samples: int = 200,
    tau: float = 0.07,
    generator: torch.Generator | None = None,
    idx: torch.Tensor | None = None,
) -> torch.Tensor:
    """Adaptive PatchNCE loss on encoder features ``(B, C, H, W)``.

    ``fused_ir = E_ir(f)``, ``src_ir = E_ir(ir)``, ``fused_vis = E_vis(f)``,
    ``src_vis = E_vis(vis)``. The same ``S`` locations (``idx``, or drawn with ``generator``)
    are used for all four maps and every image. Each map's rows go through ``head`` separately.
    Per row the branch with the larger positive similarity is used (visible on ties; a hard,
    non-differentiable choice), and the loss is the mean cross-entropy of
    ``where(choose_vi, Qvi Kvi^T, Qir Kir^T) / tau`` against target ``arange(B*S)``: negatives are
    the chosen branch's source features at all other ``B*S - 1`` rows.
    """
    shapes = {tuple(t.shape) for t in (fused_ir, src_ir, fused_vis, src_vis)}
    if len(shapes) != 1 or fused_ir.dim() != 4:
        raise ValueError(f"patch_nce_loss expects four (B, C, H, W) maps of equal shape: {shapes}")
    h, w = fused_ir.shape[-2:]
    if idx is None:
        idx = sample_locations(h, w, num_samples, generator)
    with torch.autocast(fused_ir.device.type, enabled=False):
        q_ir, k_ir, q_vi, k_vi = (
            head(gather_locations(t, idx).float()) for t in (fused_ir, src_ir, fused_vis, src_vis)
        )
        with torch.no_grad():
            choose_vi = (q_vi * k_vi).sum(1) >= (q_ir * k_ir).sum(1)
        logits = torch.where(choose_vi[:, None], q_vi @ k_vi.T, q_ir @ k_ir.T) / tau
    target = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, target)
