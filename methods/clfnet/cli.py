"""Click command ``train_command`` (registered by the CLI as ``fusionbench train --method clfnet``).

Importing this module does not import torch; the trainer is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from fusionbench.data import resolve_dataset
from fusionbench.errors import DatasetError

if TYPE_CHECKING:
    from .train import InitFromWeights


def resolve_training_data(name_or_path: str) -> Path:
    """A folder with ``ir/`` and ``vi/``: an existing path, or a dataset card name such as
    ``tno-train`` resolved against the data root (``--data-root``/``$FUSIONBENCH_DATA``/...).

    >>> resolve_training_data("/no/such/dataset")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    fusionbench.errors.DatasetError: unknown dataset '/no/such/dataset' ...
    """
    path = Path(name_or_path)
    if path.is_dir() and (path / "ir").is_dir() and (path / "vi").is_dir():
        return path
    dataset = resolve_dataset(name_or_path)
    folder = dataset.subset_dir(dataset.subset(None))
    if not ((folder / "ir").is_dir() and (folder / "vi").is_dir()):
        raise DatasetError(f"training data {folder} needs ir/ and vi/ sub-folders")
    return folder


#: Exit status after a run stopped by a signal (with its checkpoint saved): 128 + signal number.
SIGNAL_EXIT = {"SIGINT": 130, "SIGTERM": 143}


@click.command("train")
@click.option("--method", type=click.Choice(["clfnet"]), default="clfnet", show_default=True,
              help="Network method to train (CLF-Net is the only trainable one).")
@click.option("--dataset", "datasets", multiple=True, required=True,
              help="Dataset name (e.g. tno-train) or folder with ir/ and vi/; repeatable.")
@click.option("--epochs", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", default=4, show_default=True, type=click.IntRange(min=1))
@click.option("--lr", default=1e-3, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Adam learning rate of network and head (authors' code; the paper says 2e-3).")
@click.option("--num-samples", default=200, show_default=True, type=click.IntRange(min=1),
              help="PatchNCE locations S per loss call.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda, cuda:1 ...")
@click.option("--precision", type=click.Choice(["fp32", "tf32", "bf16"]), default="fp32",
              show_default=True,
              help="fp32: IEEE float32 (the authors'); tf32: TF32 matmuls/convs; bf16: bf16 "
                   "autocast for the network (losses stay float32).")
@click.option("--deterministic", is_flag=True, help="Deterministic algorithms (slower on CUDA).")
@click.option("--compile", "compile_mode", default=None, metavar="MODE",
              type=click.Choice(["default", "reduce-overhead", "max-autotune"]),
              help="torch.compile the step (reduce-overhead: with CUDA graphs).")
@click.option("--out", default="runs/clfnet", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (checkpoint, log, weights).")
@click.option("--resume/--no-resume", default=False,
              help="Continue from OUT/checkpoint.pt (an error if there is none, or if it was "
                   "made with other settings).")
@click.option("--resume-from", default=None, metavar="CHECKPOINT",
              help="Continue a shipped run in OUT: 'shipped' (the checkpoint and log of the "
                   "card's weights, sha256-checked) or a checkpoint file (.pt or .pt.xz); "
                   "OUT must not hold a checkpoint yet. Later: --resume --out OUT.")
@click.option("--init-from", default=None, metavar="WEIGHTS",
              help="Start a new run from generator weights ('shipped' or a file): fresh "
                   "projection head and optimiser state, labelled as such in the checkpoint.")
@click.option("--init-step", default=None, type=click.IntRange(min=0),
              help="Steps the --init-from weights count as done (default: the card's for "
                   "'shipped', else 0).")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--max-steps", default=None, type=click.IntRange(min=1), help="Stop after N steps.")
@click.option("--time-budget", default=None, type=click.FloatRange(min=0),
              help="Stop (with a checkpoint) after this many minutes.")
@click.option("--checkpoint-every", default=None, type=click.IntRange(min=1), metavar="N",
              help="Also checkpoint every N steps.")
@click.option("--checkpoint-minutes", default=5.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True),
              help="Checkpoint after this many minutes of work (and at every epoch end, on "
                   "Ctrl-C/SIGTERM and at the end).")
@click.option("--log-every", default=25, show_default=True, type=click.IntRange(min=1),
              help="Read the losses back from the device every N steps.")
@click.option("--threads", default=None, type=click.IntRange(min=1), help="CPU threads for torch.")
def train_command(
    method: str,
    datasets: tuple[str, ...],
    epochs: int,
    batch_size: int,
    lr: float,
    num_samples: int,
    device: str,
    precision: str,
    deterministic: bool,
    compile_mode: str | None,
    out: str,
    resume: bool,
    resume_from: str | None,
    init_from: str | None,
    init_step: int | None,
    seed: int,
    max_steps: int | None,
    time_budget: float | None,
    checkpoint_every: int | None,
    checkpoint_minutes: float,
    log_every: int,
    threads: int | None,
) -> None:
    """Train CLF-Net on infrared/visible pairs (128x128 patches, stride 32)."""
    try:
        roots = [resolve_training_data(d) for d in datasets]
    except DatasetError as exc:
        raise click.UsageError(str(exc)) from exc
    from .train import TrainConfig, train

    if resume_from is not None:
        if resume or init_from is not None:
            raise click.UsageError("--resume-from starts from a shipped checkpoint; it cannot be "
                                   "combined with --resume or --init-from")
        put_checkpoint(resume_from, Path(out))
        resume = True
    config = TrainConfig(
        data=list(roots), out=out, epochs=epochs, batch_size=batch_size, lr=lr,
        num_samples=num_samples, device=device, precision=precision, deterministic=deterministic,
        compile=compile_mode is not None,
        compile_mode=None if compile_mode in (None, "default") else compile_mode,
        resume=resume, seed=seed, max_steps=max_steps,
        time_budget=None if time_budget is None else time_budget * 60.0,
        checkpoint_every=checkpoint_every, checkpoint_minutes=checkpoint_minutes,
        log_every=log_every, num_threads=threads,
    )
    init = None
    if init_from is not None:
        init = _init_from(init_from, init_step)
    result = train(config, init=init)
    click.echo(f"weights: {result.weights} (step {result.step} of {result.total_steps}, "
               f"stopped by {result.stopped_by})")
    if result.stopped_by in SIGNAL_EXIT:
        click.echo(f"interrupted by {result.stopped_by}; checkpoint saved, continue with "
                   f"--resume --out {out}", err=True)
        raise SystemExit(SIGNAL_EXIT[result.stopped_by])


def put_checkpoint(resume_from: str, out: Path) -> None:
    """Put the ``--resume-from`` checkpoint into ``out``: ``'shipped'`` (the card's checkpoint,
    sha256-checked, and its log) or a checkpoint file; a ``resume=True`` run there continues it."""
    from .train import start_from_checkpoint

    if resume_from == "shipped":
        from .fuser import CARD_PATH, shipped_run

        run = shipped_run()
        start_from_checkpoint(out, run.checkpoint, run.log, sha256=run.checkpoint_sha256,
                              where=str(CARD_PATH))
    else:
        start_from_checkpoint(out, Path(resume_from))


def _init_from(init_from: str, init_step: int | None) -> InitFromWeights:
    """The :class:`InitFromWeights` for ``--init-from`` (``shipped`` = the card's weights)."""
    from .fuser import shipped_weights, shipped_weights_steps
    from .train import InitFromWeights

    if init_from == "shipped":
        path, sha = shipped_weights()
        steps = shipped_weights_steps() if init_step is None else init_step
        note = (f"generator weights {path.name} (sha256 {sha[:12]}...) as shipped, counted as "
                f"{steps} steps done; projection head, Adam moments and data order are NEW "
                "(that run's checkpoint was not kept), so this continues the weights, not the run")
    else:
        path, steps = Path(init_from), init_step or 0
        note = (f"generator weights {path} counted as {steps} steps done; projection head, Adam "
                "moments and data order are new")
    return InitFromWeights(path, steps, note)
