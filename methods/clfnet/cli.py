"""Click command ``train_command`` (registered by the CLI as ``fusionbench train --method clfnet``).

Importing this module does not import torch; the trainer is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

import click

from fusionbench.data import resolve_dataset
from fusionbench.errors import DatasetError


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
@click.option("--out", default="runs/clfnet", show_default=True, type=click.Path(file_okay=False),
              help="Output folder (checkpoint, log, weights).")
@click.option("--resume/--no-resume", default=False, help="Continue from OUT/checkpoint.pt.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--max-steps", default=None, type=click.IntRange(min=1), help="Stop after N steps.")
@click.option("--time-budget", default=None, type=click.FloatRange(min=0),
              help="Stop (with a checkpoint) after this many minutes.")
@click.option("--threads", default=None, type=click.IntRange(min=1), help="CPU threads for torch.")
def train_command(
    method: str,
    datasets: tuple[str, ...],
    epochs: int,
    batch_size: int,
    lr: float,
    num_samples: int,
    device: str,
    out: str,
    resume: bool,
    seed: int,
    max_steps: int | None,
    time_budget: float | None,
    threads: int | None,
) -> None:
    """Train CLF-Net on infrared/visible pairs (128x128 patches, stride 32)."""
    try:
        roots = [resolve_training_data(d) for d in datasets]
    except DatasetError as exc:
        raise click.UsageError(str(exc)) from exc
    from .train import TrainConfig, train

    config = TrainConfig(
        data=list(roots), out=out, epochs=epochs, batch_size=batch_size, lr=lr,
        num_samples=num_samples, device=device, resume=resume, seed=seed, max_steps=max_steps,
        time_budget=None if time_budget is None else time_budget * 60.0, num_threads=threads,
    )
    weights = train(config)
    click.echo(f"weights: {weights}")
