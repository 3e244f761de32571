"""CLF-Net generator structure, BatchNorm folding and the package doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest
import torch
from torch import nn

from fusionbench.methods.clfnet.fuser import fold_batchnorm
from fusionbench.methods.clfnet.model import CLFNet, ResBlock


def _count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_parameter_count_matches_spec() -> None:
    # clfnet.md: authors' 190,632 = 2 x 30,243 + 130,146, which includes an unused 16x16 1x1
    # conv (256 params) in block 1 of each encoder; without it: 190,632 - 2 * 256 = 190,120.
    net = CLFNet()
    assert _count(net) == 190_120
    assert _count(net.encoder_ir) == _count(net.encoder_vis) == 30_243 - 256
    assert _count(net.decoder) == 130_146
    bn = sum(_count(m) for m in net.modules() if isinstance(m, nn.BatchNorm2d))
    assert bn == 1_478  # clfnet.md: "1,478 of all are BatchNorm affine"
    assert not any(m.bias is not None for m in net.modules() if isinstance(m, nn.Conv2d))


def test_block_layout() -> None:
    net = CLFNet()
    widths = [(b.conv1.in_channels, b.conv2.out_channels) for b in net.encoder_ir]
    assert widths == [(1, 16), (16, 16), (16, 32), (32, 64)]
    assert [b.skip is None for b in net.encoder_vis] == [False, True, False, False]
    widths = [(b.conv1.in_channels, b.conv2.out_channels) for b in net.decoder]
    assert widths == [(128, 64), (64, 32), (32, 16), (16, 1)]
    assert [b.last for b in net.decoder] == [False, False, False, True]


@pytest.mark.parametrize("shape", [(1, 1, 5, 9), (2, 1, 17, 16)])
def test_shapes_and_range(shape: tuple[int, int, int, int]) -> None:
    torch.manual_seed(0)
    net = CLFNet().eval()
    ir, vi = torch.rand(shape) * 2 - 1, torch.rand(shape) * 2 - 1
    with torch.no_grad():
        out = net(ir, vi)
        assert net.encode_ir(ir).shape == (shape[0], 64, *shape[2:])
        assert net.encode_vis(vi).shape == (shape[0], 64, *shape[2:])
    assert out.shape == shape
    assert out.abs().max() <= 1.0


def test_concat_order_is_vis_then_ir() -> None:
    # The decoder's first 64 input channels come from the visible encoder (clfnet.md).
    torch.manual_seed(1)
    net = CLFNet().eval()
    ir, vi = torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8)
    with torch.no_grad():
        expected = net.decoder(torch.cat([net.encoder_vis(vi), net.encoder_ir(ir)], 1))
        assert torch.equal(net(ir, vi), expected)


def test_forward_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="equal shape"):
        CLFNet()(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5))


def test_resblock_identity_skip_has_no_conv() -> None:
    block = ResBlock(16, 16)
    assert block.skip is None
    assert _count(block) == 256 + 32 + 2304 + 32


def test_fold_batchnorm_matches_unfolded() -> None:
    torch.manual_seed(2)
    net = CLFNet()
    # Give the BatchNorms non-trivial running statistics and affine parameters.
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    net.eval()
    folded = fold_batchnorm(net)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    assert any(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # original untouched
    ir, vi = torch.rand(2, 1, 24, 20) * 2 - 1, torch.rand(2, 1, 24, 20) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(folded(ir, vi), net(ir, vi), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "name", ["model", "losses", "data", "train", "cli", "fuser", "runtime", "step", "checkpoint"]
)
def test_doctests(name: str) -> None:
    module = importlib.import_module(f"fusionbench.methods.clfnet.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


@pytest.mark.parametrize("module_name", ["fusionbench.weights"])
def test_generic_module_doctests(module_name: str) -> None:
    result = doctest.testmod(importlib.import_module(module_name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
