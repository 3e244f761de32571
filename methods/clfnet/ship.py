"""Make a finished training run the shipped CLF-Net weights, with what resuming it needs.

    python -m fusionbench.methods.clfnet.ship runs/clfnet       # RUN holds clfnet.pt, checkpoint.pt

:func:`ship_run` copies ``RUN/clfnet.pt`` to the card's ``weights`` file, writes
``RUN/checkpoint.pt`` (compacted by :func:`~.checkpoint.compact_checkpoint`) and ``RUN/log.jsonl``
xz-compressed to the card's ``checkpoint`` and ``training_log`` files (so ``fusionbench train
--resume-from shipped`` continues the run on any machine), and rewrites the card's
``weights_sha256``, ``weights_steps`` and ``checkpoint_sha256`` lines, and the
``weights_sha256`` line of every other card beside it that names the same ``weights`` file (the
``clfnet-authors-output`` variant), so that every variant's stored results are redone. The
prose (``weights_training``, ``description``, README) stays for a person to write.

It refuses a run whose weights are not its checkpoint's generator, or whose log does not end at
the checkpoint's step: the three files must describe one state.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from fusionbench.cards import read_card
from fusionbench.errors import FusionbenchError
from fusionbench.weights import read_state_dict, weights_sha256

from .checkpoint import compact_checkpoint, read_checkpoint, torch_bytes, write_xz
from .fuser import CARD_PATH
from .train import CHECKPOINT_NAME, LOG_NAME, WEIGHTS_NAME


class ShipError(FusionbenchError):
    """The run folder cannot be shipped as it is (missing or inconsistent files)."""


@dataclass(frozen=True)
class Shipped:
    """What :func:`ship_run` wrote: the files and the values it put on the card."""

    weights: Path
    checkpoint: Path
    log: Path
    weights_sha256: str
    checkpoint_sha256: str
    steps: int


def _check_run(run: Path) -> int:
    """The run's step count, after checking weights, checkpoint and log agree."""
    for name in (WEIGHTS_NAME, CHECKPOINT_NAME, LOG_NAME):
        if not (run / name).is_file():
            raise ShipError(f"{run / name}: missing; a shipped run needs {WEIGHTS_NAME}, "
                            f"{CHECKPOINT_NAME} and {LOG_NAME}")
    state = read_checkpoint(run / CHECKPOINT_NAME)
    weights = read_state_dict(run / WEIGHTS_NAME)
    net = state["net"]
    if set(weights) != set(net) or not all(torch.equal(weights[k].float(), net[k].float())
                                           for k in weights):
        raise ShipError(f"{run / WEIGHTS_NAME} is not the generator of {run / CHECKPOINT_NAME}")
    lines = (run / LOG_NAME).read_text().splitlines()
    last = json.loads(lines[-1])["step"] if lines else None
    step = int(state["step"])
    if last != step:
        raise ShipError(f"{run / LOG_NAME} ends at step {last}, the checkpoint is at step {step}")
    return step


def _set_card_values(card: Path, values: dict[str, str | int]) -> None:
    """Rewrite the ``key = value`` lines of ``card`` for ``values`` (each key must be there)."""
    text = card.read_text()
    for key, value in values.items():
        literal = f'"{value}"' if isinstance(value, str) else str(value)
        text, count = re.subn(rf"^{key} = .*$", f"{key} = {literal}", text, flags=re.MULTILINE)
        if count != 1:
            raise ShipError(f"{card}: expected one '{key} = ...' line, found {count}")
    card.write_text(text)


def ship_run(run: str | Path, card: Path = CARD_PATH) -> Shipped:
    """Ship ``run`` as the weights of ``card`` (see the module docstring)."""
    run = Path(run)
    steps = _check_run(run)
    entries = read_card(card)
    folder = card.parent
    weights, checkpoint, log = (folder / str(entries[k])
                                for k in ("weights", "checkpoint", "training_log"))
    weights.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run / WEIGHTS_NAME, weights)
    write_xz(torch_bytes(compact_checkpoint(read_checkpoint(run / CHECKPOINT_NAME))), checkpoint)
    write_xz((run / LOG_NAME).read_bytes(), log)
    shipped = Shipped(weights, checkpoint, log, weights_sha256(weights),
                      weights_sha256(checkpoint), steps)
    _set_card_values(card, {"weights_sha256": shipped.weights_sha256, "weights_steps": steps,
                            "checkpoint_sha256": shipped.checkpoint_sha256})
    for variant in sibling_cards(card):
        _set_card_values(variant, {"weights_sha256": shipped.weights_sha256})
    return shipped


def sibling_cards(card: Path) -> list[Path]:
    """The other cards in ``card``'s folder that name the same ``weights`` file (variants of
    the method that share its weights).

    >>> [p.name for p in sibling_cards(CARD_PATH)]
    ['authors-output.toml']
    """
    weights = read_card(card).get("weights")
    return [other for other in sorted(card.parent.glob("*.toml"))
            if other != card and weights is not None
            and read_card(other).get("weights") == weights]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m fusionbench.methods.clfnet.ship RUN_FOLDER", file=sys.stderr)
        return 2
    try:
        shipped = ship_run(args[0])
    except FusionbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for path in (shipped.weights, shipped.checkpoint, shipped.log):
        print(f"{path} ({path.stat().st_size:,} bytes)")
    print(f"card: weights_steps = {shipped.steps}, weights_sha256 = {shipped.weights_sha256}, "
          f"checkpoint_sha256 = {shipped.checkpoint_sha256}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
