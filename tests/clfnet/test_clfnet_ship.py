"""Shipping a run (weights + xz checkpoint + xz log) and resuming it with ``--resume-from``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from fusionbench.cards import read_card
from fusionbench.errors import UsageError
from fusionbench.imageio import write_image
from fusionbench.methods.clfnet import fuser
from fusionbench.methods.clfnet.cli import train_command
from fusionbench.methods.clfnet.ship import ShipError, ship_run
from fusionbench.methods.clfnet.train import TrainConfig, start_from_checkpoint, train
from fusionbench.weights import WeightsError, read_state_dict, weights_sha256

CARD = """name = "clfnet-test"
weights = "weights/w.pt"
weights_sha256 = ""
weights_steps = 0
checkpoint = "weights/w.checkpoint.pt.xz"
checkpoint_sha256 = ""
training_log = "weights/w.log.jsonl.xz"
"""


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 160x160 synthetic pairs (2 x 2 patches of 128 at stride 32, 8 x 8 tiny ones)."""
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:160, 0:160]
    for k in range(2):
        ir = 50 + 180 * np.exp(-((yy - 60 - 30 * k) ** 2 + (xx - 80) ** 2) / 800.0)
        vi = 40 + 0.9 * xx + 30 * np.sin(yy / 4.0) + rng.normal(0, 6, (160, 160))
        for role, img in (("ir", ir), ("vi", vi)):
            (root / role).mkdir(exist_ok=True)
            write_image(root / role / f"p{k}.png", np.clip(img, 0, 255).astype(np.uint8))
    return root


@pytest.fixture
def card(tmp_path: Path) -> Path:
    path = tmp_path / "card" / "card.toml"
    path.parent.mkdir()
    path.write_text(CARD)
    return path


def _tiny(pairs: Path, out: Path, **kw: object) -> TrainConfig:
    return TrainConfig(data=[pairs], out=out, batch_size=4, patch_size=32, patch_stride=64,
                       num_samples=32, device="cpu", progress=False, log_every=1,
                       **kw)  # type: ignore[arg-type]


def _log(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]


def test_shipped_run_resumes_where_it_stopped(pairs: Path, card: Path, tmp_path: Path) -> None:
    # 4 steps in one go ~ 2 steps, shipped (compact, xz), unpacked in a new folder, resumed to 4.
    full, first, again = tmp_path / "full", tmp_path / "first", tmp_path / "again"
    train(_tiny(pairs, full, max_steps=4))
    train(_tiny(pairs, first, max_steps=2))
    shipped = ship_run(first, card)
    values = read_card(card)
    assert values["weights_steps"] == 2 == shipped.steps
    assert values["weights_sha256"] == weights_sha256(card.parent / "weights/w.pt")
    assert values["checkpoint_sha256"] == weights_sha256(shipped.checkpoint)
    assert shipped.checkpoint.read_bytes()[:6] == b"\xfd7zXZ\x00"  # xz, not a plain copy
    start_from_checkpoint(again, shipped.checkpoint, shipped.log,
                          sha256=values["checkpoint_sha256"], where=str(card))
    unpacked = torch.load(again / "checkpoint.pt", weights_only=True)
    original = torch.load(first / "checkpoint.pt", weights_only=True)
    for key, value in original["net"].items():  # the generator is exact
        assert torch.equal(unpacked["net"][key], value)
    assert unpacked["step"] == 2 and unpacked["opt_net"]["state"][0]["step"] == 2
    assert unpacked["rng"]["torch"].equal(original["rng"]["torch"])
    train(_tiny(pairs, again, max_steps=4, resume=True))
    a = torch.load(full / "checkpoint.pt", weights_only=True)
    b = torch.load(again / "checkpoint.pt", weights_only=True)
    assert b["step"] == 4
    # Head and Adam moments were rounded to bfloat16: near the uninterrupted run, not equal;
    # "near" compared with how far steps 3-4 moved the generator.
    def dist(x: dict, y: dict) -> float:
        return float(sum(((x[k].float() - y[k].float()) ** 2).sum() for k in x
                         if x[k].is_floating_point()) ** 0.5)

    moved, off = dist(a["net"], original["net"]), dist(a["net"], b["net"])
    assert off < 0.02 * moved  # measured: 0.006, (off, moved)
    assert [r["step"] for r in _log(again)] == [1, 2, 3, 4]
    np.testing.assert_allclose([r["loss"] for r in _log(again)],
                               [r["loss"] for r in _log(full)], rtol=1e-2)


def test_cli_resume_from_shipped(pairs: Path, card: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    common = ["--dataset", str(pairs), "--batch-size", "4", "--num-samples", "8",
              "--device", "cpu", "--threads", "1"]
    run = tmp_path / "run"
    made = CliRunner().invoke(train_command, [*common, "--out", str(run), "--max-steps", "1"])
    assert made.exit_code == 0, made.output
    ship_run(run, card)
    monkeypatch.setattr(fuser, "CARD_PATH", card)
    out = tmp_path / "continued"
    args = [*common, "--out", str(out), "--resume-from", "shipped", "--max-steps", "2"]
    resumed = CliRunner().invoke(train_command, args)
    assert resumed.exit_code == 0, resumed.output
    assert "step 2 of 2" in resumed.output
    assert [r["step"] for r in _log(out)] == [1, 2]
    # A second --resume-from into the same folder would overwrite the run: refused (UsageError,
    # exit 2 under fusionbench's main).
    twice = CliRunner().invoke(train_command, args)
    assert isinstance(twice.exception, UsageError) and "--resume --out" in str(twice.exception)
    both = CliRunner().invoke(train_command, [*args, "--resume"])
    assert both.exit_code == 2 and "cannot be combined" in both.output


def test_a_changed_shipped_checkpoint_is_refused(pairs: Path, card: Path,
                                                 tmp_path: Path) -> None:
    train(_tiny(pairs, tmp_path / "run", max_steps=1))
    shipped = ship_run(tmp_path / "run", card)
    data = bytearray(shipped.checkpoint.read_bytes())
    data[-20] ^= 0xFF
    shipped.checkpoint.write_bytes(bytes(data))
    with pytest.raises(WeightsError, match="does not match"):
        start_from_checkpoint(tmp_path / "x", shipped.checkpoint, shipped.log,
                              sha256=read_card(card)["checkpoint_sha256"], where=str(card))
    assert not (tmp_path / "x" / "checkpoint.pt").exists()
    with pytest.raises(WeightsError, match="not a readable xz file"):  # without the sha check
        start_from_checkpoint(tmp_path / "y", shipped.checkpoint)
    with pytest.raises(WeightsError, match="not a CLF-Net training checkpoint"):
        start_from_checkpoint(tmp_path / "z", card.parent / "weights" / "w.pt")
    assert not (tmp_path / "z" / "checkpoint.pt").exists()


def test_ship_refuses_a_run_whose_files_disagree(pairs: Path, card: Path,
                                                 tmp_path: Path) -> None:
    run, other = tmp_path / "run", tmp_path / "other"
    train(_tiny(pairs, run, max_steps=2))
    train(_tiny(pairs, other, max_steps=1))
    (other / "clfnet.pt").replace(run / "clfnet.pt")
    with pytest.raises(ShipError, match="is not the generator of"):
        ship_run(run, card)
    (run / "checkpoint.pt").unlink()
    with pytest.raises(ShipError, match="checkpoint.pt: missing"):
        ship_run(run, card)
    assert read_card(card)["weights_steps"] == 0  # the card is untouched


def test_the_shipped_weights_continue_from_their_own_checkpoint(data_root: Path,
                                                                 tmp_path: Path) -> None:
    """The repository's own files: the card's checkpoint is the shipped weights' run, at the
    card's step count, and one more step of it runs on the CPU on the tno-train pairs."""
    run = fuser.shipped_run()
    weights, _ = fuser.shipped_weights()
    steps = fuser.shipped_weights_steps()
    out = tmp_path / "shipped"
    start_from_checkpoint(out, run.checkpoint, run.log, sha256=run.checkpoint_sha256,
                          where=str(fuser.CARD_PATH))
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["step"] == steps
    shipped = read_state_dict(weights)
    assert all(torch.equal(shipped[k], state["net"][k]) for k in shipped)
    assert set(state) >= {"opt_net", "opt_head", "rng", "head"} and state["opt_net"]["state"]
    assert _log(out)[-1]["step"] == steps
    result = train(TrainConfig(data=[data_root / "tno-train"], out=out, device="cpu",
                               resume=True, max_steps=steps + 1, progress=False))
    assert (result.step, result.stopped_by) == (steps + 1, "max_steps")
    assert _log(out)[-1]["step"] == steps + 1 and np.isfinite(_log(out)[-1]["loss"])


def test_resume_from_into_a_folder_with_a_checkpoint_is_refused(pairs: Path,
                                                                tmp_path: Path) -> None:
    train(_tiny(pairs, tmp_path / "run", max_steps=1))
    with pytest.raises(UsageError, match="exists"):
        start_from_checkpoint(tmp_path / "run", tmp_path / "run" / "checkpoint.pt")


def test_ship_rewrites_the_sha256_of_variant_cards_on_the_same_weights(
        pairs: Path, card: Path, tmp_path: Path) -> None:
    variant = card.parent / "variant.toml"
    variant.write_text('name = "clfnet-test-variant"\nweights = "weights/w.pt"\n'
                       'weights_sha256 = ""\npostprocess = ["minmax"]\n')
    other = card.parent / "other.toml"
    other.write_text('name = "other"\nweights = "weights/other.pt"\nweights_sha256 = "ab"\n')
    train(_tiny(pairs, tmp_path / "run", max_steps=1))
    shipped = ship_run(tmp_path / "run", card)
    assert read_card(variant)["weights_sha256"] == shipped.weights_sha256 != ""
    assert read_card(variant)["postprocess"] == ["minmax"]
    assert read_card(other)["weights_sha256"] == "ab"  # other weights: left alone
