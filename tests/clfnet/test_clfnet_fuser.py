"""ClfnetFuser: loading weights, numeric conventions, errors, and the method card."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from fusionbench.errors import MethodError
from fusionbench.methods.clfnet.fuser import ClfnetFuser, load_generator, shipped_weights
from fusionbench.methods.clfnet.model import CLFNet
from fusionbench.registry import Registry
from fusionbench.weights import WeightsError, weights_sha256

CARD = Path(__file__).resolve().parents[2] / "methods" / "clfnet" / "card.toml"


@pytest.fixture()
def random_weights(tmp_path: Path) -> tuple[Path, CLFNet]:
    torch.manual_seed(7)
    net = CLFNet()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so folding matters
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 1.5)
    path = tmp_path / "w.pt"
    torch.save(net.state_dict(), path)
    return path, net.eval()


def test_fuser_matches_network(random_weights: tuple[Path, CLFNet]) -> None:
    path, net = random_weights
    fuser = ClfnetFuser(weights=path, device="cpu", num_threads=1)
    rng = np.random.default_rng(0)
    ir, vi = rng.random((23, 31)), rng.random((23, 31))
    fused = fuser(ir, vi)
    assert fused.shape == (23, 31) and fused.dtype == np.float64
    assert fused.min() >= 0.0 and fused.max() <= 1.0
    to_t = lambda a: torch.tensor(a * 2 - 1, dtype=torch.float32)[None, None]  # noqa: E731
    with torch.no_grad():
        expected = (net(to_t(ir), to_t(vi))[0, 0].double().numpy() + 1) / 2
    np.testing.assert_allclose(fused, expected, atol=1e-5)


def test_strips_equal_whole_image(random_weights: tuple[Path, CLFNet]) -> None:
    path, _ = random_weights
    rng = np.random.default_rng(1)
    ir, vi = rng.random((50, 21)), rng.random((50, 21))
    whole = ClfnetFuser(weights=path, device="cpu", num_threads=1, tile_rows=None)(ir, vi)
    for rows in (1, 16, 49):
        strips = ClfnetFuser(weights=path, device="cpu", num_threads=1, tile_rows=rows)(ir, vi)
        np.testing.assert_allclose(strips, whole, atol=1e-6)
    with pytest.raises(ValueError, match="tile_rows"):
        ClfnetFuser(weights=path, device="cpu", num_threads=1, tile_rows=0)(ir, vi)


def test_fuser_accepts_training_checkpoint(random_weights: tuple[Path, CLFNet]) -> None:
    path, _ = random_weights
    ckpt = path.with_name("checkpoint.pt")
    torch.save({"net": torch.load(path, weights_only=True), "step": 3}, ckpt)
    a = ClfnetFuser(weights=ckpt, device="cpu", num_threads=1)(np.zeros((8, 8)), np.ones((8, 8)))
    b = ClfnetFuser(weights=path, device="cpu", num_threads=1)(np.zeros((8, 8)), np.ones((8, 8)))
    np.testing.assert_array_equal(a, b)


def test_fuser_errors(random_weights: tuple[Path, CLFNet], tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="nope.pt: weights file not found"):
        ClfnetFuser(weights=tmp_path / "nope.pt", device="cpu")
    bad = tmp_path / "bad.pt"
    torch.save({"conv.weight": torch.zeros(3)}, bad)
    with pytest.raises(WeightsError, match="bad.pt: these weights do not fit the CLF-Net"):
        ClfnetFuser(weights=bad, device="cpu")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not a checkpoint")
    with pytest.raises(WeightsError, match=r"junk.pt: not a PyTorch weights file \(it starts "
                       "with bytes"):
        ClfnetFuser(weights=junk, device="cpu")
    fuser = ClfnetFuser(weights=random_weights[0], device="cpu", num_threads=1)
    with pytest.raises(MethodError, match="2-D"):
        fuser(np.zeros((4, 4, 3)), np.zeros((4, 4, 3)))
    with pytest.raises(MethodError, match="differ in size"):
        fuser(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(MethodError, match="visible input"):
        fuser(np.zeros((4, 4)), np.full((4, 4), 2.0))
    with pytest.raises(MethodError, match="infrared input"):
        fuser(np.full((4, 4), np.nan), np.zeros((4, 4)))


def test_card() -> None:
    card = tomllib.loads(CARD.read_text())
    assert card["name"] == "clfnet" and card["kind"] == "network"
    assert card["entry"] == "fusionbench.methods.clfnet.fuser:ClfnetFuser"
    assert card["modalities"] == ["ir-vi", "medical", "multifocus"]
    assert "10.1109/TIM.2022.3203000" in card["citation"]
    assert card["title"] and card["description"]


def test_text_file_as_weights_names_the_file_and_the_problem(tmp_path: Path) -> None:
    # issue 13: a text file given as --weights said only "cannot read ...: 101"
    notes = tmp_path / "notes.txt"
    notes.write_text("trained for 3 epochs\nloss 0.31\n")
    with pytest.raises(WeightsError, match=r"notes.txt: not a PyTorch weights file \(it starts "
                       r"with text: 'trained for 3 epochs'\)"):
        ClfnetFuser(weights=notes, device="cpu")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(WeightsError, match="empty.pt: the weights file is empty"):
        ClfnetFuser(weights=tmp_path / "empty.pt", device="cpu")
    cut = tmp_path / "cut.pt"
    torch.save(CLFNet().state_dict(), cut)
    cut.write_bytes(cut.read_bytes()[:5000])
    with pytest.raises(WeightsError, match="cut.pt: cannot read the weights file"):
        ClfnetFuser(weights=cut, device="cpu")
    assert issubclass(WeightsError, MethodError)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(tmp_path: Path, value: float) -> None:
    state = CLFNet().state_dict()
    state["decoder.2.conv2.weight"][0, 0, 1, 1] = value
    path = tmp_path / "w.pt"
    torch.save(state, path)
    with pytest.raises(WeightsError, match=r"w.pt: tensor 'decoder.2.conv2.weight' has 1 NaN/inf"):
        load_generator(path)
    torch.save({"net": state, "step": 1}, path)  # inside a training checkpoint too
    with pytest.raises(WeightsError, match="NaN/inf"):
        load_generator(path)


def test_sha256_is_checked_when_stated(random_weights: tuple[Path, CLFNet]) -> None:
    path, _ = random_weights
    digest = weights_sha256(path)
    load_generator(path, sha256=digest)
    with pytest.raises(WeightsError, match=f"sha256 {digest} does not match 00+ stated in"):
        load_generator(path, sha256="0" * 64)
    fuser = ClfnetFuser(weights=path, device="cpu", num_threads=1)
    assert fuser.weights_sha256 == digest


def test_card_states_the_sha256_of_the_shipped_weights() -> None:
    path, expected = shipped_weights()
    assert path.is_file(), path
    assert weights_sha256(path) == expected  # the loader refuses any other file
    assert ClfnetFuser(device="cpu", num_threads=1).weights_sha256 == expected


def test_shipped_weights_load() -> None:
    state = torch.load(shipped_weights()[0], weights_only=True)
    learned = [v for k, v in state.items() if "running" not in k and "num_batches" not in k]
    assert sum(v.numel() for v in learned) == 190_120
    assert all(v.dtype == torch.float32 for v in learned)
    fused = ClfnetFuser(device="cpu", num_threads=1)(np.zeros((16, 16)), np.ones((16, 16)))
    assert np.all(np.isfinite(fused))


def test_every_variant_on_the_shipped_weights_states_their_sha256() -> None:
    """The runner keys a run's stored pairs by its own card's fields: a variant card that did
    not state the weights' sha256 would keep its old scores after new weights are shipped."""
    _, expected = shipped_weights()
    variants = [m for m in Registry.builtin(entry_points=False)
                if m.entry == "fusionbench.methods.clfnet.fuser:ClfnetFuser"]
    assert {m.name for m in variants} >= {"clfnet", "clfnet-authors-output"}
    for method in variants:
        assert method.extra.get("weights_sha256") == expected, method.name
        assert method.extra.get("weights") == "weights/clfnet_tno-train.pt", method.name
