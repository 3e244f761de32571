"""CLF-Net losses: SSIM window selection and the vectorised PatchNCE loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fusionbench.methods.clfnet.losses import (
    ProjectionHead,
    gather_locations,
    gaussian_window,
    patch_nce_loss,
    sample_locations,
    ssim_loss,
)
from fusionbench.methods.clfnet.model import CLFNet


def _ssim_numpy(x: np.ndarray, y: np.ndarray, c1: float, c2: float) -> float:
    """Textbook SSIM of two whole arrays taken as one window (population moments)."""
    mx, my = x.mean(), y.mean()
    vx, vy = x.var(), y.var()
    cxy = ((x - mx) * (y - my)).mean()
    return ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))


def test_uniform_single_window_matches_formula() -> None:
    # A 16x16 image has exactly one uniform window: the loss is 1 - SSIM of the chosen source,
    # computed on [0, 1] with the paper's C1 = 1e-4, C2 = 9e-4.
    rng = np.random.default_rng(0)
    f, ir, vi = (rng.random((16, 16)) for _ in range(3))
    ir += 0.5  # IR window mean is larger -> SSIM(f, ir) is used
    to_t = lambda a: torch.tensor(a * 2 - 1, dtype=torch.float32)[None, None]  # noqa: E731
    loss = float(ssim_loss(to_t(f), to_t(ir), to_t(vi), window="uniform"))
    assert loss == pytest.approx(1 - _ssim_numpy(f, ir, 1e-4, 9e-4), abs=1e-5)
    loss_vi = float(ssim_loss(to_t(f), to_t(ir - 0.5), to_t(vi + 0.5), window="uniform"))
    assert loss_vi == pytest.approx(1 - _ssim_numpy(f, vi + 0.5, 1e-4, 9e-4), abs=1e-5)


@pytest.mark.parametrize("window", ["gaussian", "uniform"])
def test_selection_follows_brighter_source(window: str) -> None:
    g = torch.Generator().manual_seed(3)
    ir = torch.rand(1, 1, 40, 40, generator=g) * 0.5 + 0.4  # bright everywhere
    vi = torch.rand(1, 1, 40, 40, generator=g) * 0.5 - 0.9  # dark everywhere
    assert float(ssim_loss(ir, ir, vi, window=window)) == pytest.approx(0.0, abs=1e-5)
    assert float(ssim_loss(vi, ir, vi, window=window)) > 0.5
    assert float(ssim_loss(vi, vi, vi, window=window)) == pytest.approx(0.0, abs=1e-5)


def test_gaussian_window_and_errors() -> None:
    w = gaussian_window()
    assert w.shape == (16, 16)
    assert int(w.argmax()) == 8 * 16 + 8  # offsets -8..7: the centre is at index 8
    with pytest.raises(ValueError, match="window"):
        ssim_loss(torch.zeros(1, 1, 20, 20), torch.zeros(1, 1, 20, 20),
                  torch.zeros(1, 1, 20, 20), window="box")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="H, W >= 16"):
        ssim_loss(*(torch.zeros(1, 1, 8, 20) for _ in range(3)), window="uniform")
    with pytest.raises(ValueError, match="equal shape"):
        ssim_loss(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 9))


def _loop_patch_nce(
    fused_ir: torch.Tensor, src_ir: torch.Tensor, fused_vis: torch.Tensor, src_vis: torch.Tensor,
    head: ProjectionHead, idx: torch.Tensor, tau: float,
) -> torch.Tensor:
    """Row-by-row InfoNCE as described in clfnet.md (slow reference)."""
    q_ir, k_ir, q_vi, k_vi = (
        head(gather_locations(t, idx)) for t in (fused_ir, src_ir, fused_vis, src_vis)
    )
    losses = []
    for i in range(q_ir.shape[0]):
        use_vi = (q_vi[i] @ k_vi[i]).item() >= (q_ir[i] @ k_ir[i]).item()
        q, keys = (q_vi[i], k_vi) if use_vi else (q_ir[i], k_ir)
        positive = torch.exp(q @ keys[i] / tau)
        negatives = sum(torch.exp(q @ keys[j] / tau) for j in range(keys.shape[0]) if j != i)
        losses.append(-torch.log(positive / (positive + negatives)))
    return torch.stack(losses).mean()


def test_patch_nce_matches_loop() -> None:
    torch.manual_seed(4)
    feats = [torch.randn(2, 64, 6, 7) for _ in range(4)]
    feats[0] = feats[1] + 0.3 * torch.randn_like(feats[1])  # some rows prefer each branch
    feats[2] = feats[3] + 0.3 * torch.randn_like(feats[3])
    head = ProjectionHead()
    idx = sample_locations(6, 7, 20, torch.Generator().manual_seed(0))
    fast = patch_nce_loss(*feats, head, tau=0.07, idx=idx)
    slow = _loop_patch_nce(*feats, head, idx, 0.07)
    torch.testing.assert_close(fast, slow, atol=1e-4, rtol=1e-4)
    # the sampler with the same generator seed reproduces the same indices
    again = patch_nce_loss(*feats, head, num_samples=20, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(again, fast)


def test_patch_nce_uniform_features_give_log_n() -> None:
    # Identical features everywhere: every logit is equal, so the loss is log(B*S).
    feats = [torch.ones(3, 64, 4, 4) for _ in range(4)]
    head = ProjectionHead().eval()
    loss = patch_nce_loss(*feats, head, num_samples=10, generator=torch.Generator())
    assert loss.item() == pytest.approx(math.log(3 * 10), abs=1e-4)


def test_gradients_reach_network_and_head() -> None:
    torch.manual_seed(5)
    net, head = CLFNet(), ProjectionHead()
    ir, vi = torch.rand(2, 1, 16, 16) * 2 - 1, torch.rand(2, 1, 16, 16) * 2 - 1
    fused = net(ir, vi)
    loss = patch_nce_loss(
        net.encode_ir(fused), net.encode_ir(ir), net.encode_vis(fused), net.encode_vis(vi),
        head, num_samples=50, generator=torch.Generator().manual_seed(1),
    ) + ssim_loss(fused, ir, vi)
    loss.backward()
    for name, part in [("encoder_ir", net.encoder_ir), ("encoder_vis", net.encoder_vis),
                       ("decoder", net.decoder), ("head", head)]:
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads), name
        assert sum(float(g.abs().sum()) for g in grads) > 0, name


def test_patch_nce_rejects_mismatched_maps() -> None:
    with pytest.raises(ValueError, match="equal shape"):
        patch_nce_loss(torch.zeros(1, 64, 4, 4), torch.zeros(1, 64, 4, 5),
                       torch.zeros(1, 64, 4, 4), torch.zeros(1, 64, 4, 4), ProjectionHead())
