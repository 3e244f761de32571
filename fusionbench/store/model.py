"""What the store holds, as plain data: a pair's record, a run's files, image keys, columns.

>>> RunPaths(Path("results"), "tno", "all", "average").scores_csv.as_posix()
'results/tno/all/average/scores.csv'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: Columns of the tidy score table (``scores.csv``, ``Results.scores``); ``reason`` says why a
#: value is NaN (empty otherwise).
SCORE_COLUMNS = ("method", "dataset", "subset", "pair", "metric", "convention", "value")
SCORE_EXTRA_COLUMNS = ("reason",)
#: Columns of the pair table (``pairs.csv``, ``Results.pairs``); ``warnings`` holds the metric
#: warnings of the pair's scoring, joined by " | ".
PAIR_COLUMNS = ("method", "dataset", "subset", "pair", "status", "reason", "fused_path",
                "a_path", "b_path", "seconds")
PAIR_EXTRA_COLUMNS = ("warnings",)
STATUS_OK, STATUS_FAILED, STATUS_MISSING = "ok", "failed", "missing"
STATUSES = (STATUS_OK, STATUS_FAILED, STATUS_MISSING)


def array_sha256(image: np.ndarray) -> str:
    """sha256 of a decoded image: its dtype, shape and pixel bytes.

    >>> array_sha256(np.zeros((2, 2), np.uint8)) == array_sha256(np.zeros((2, 2), np.uint16))
    False
    """
    image = np.ascontiguousarray(image)
    digest = hashlib.sha256(f"{image.dtype.str}{image.shape}".encode())
    digest.update(image.tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ImageKey:
    """The three decoded images a score is a function of, by their sha256."""

    a: str
    b: str
    f: str

    @classmethod
    def of(cls, a: np.ndarray, b: np.ndarray, fused: np.ndarray) -> ImageKey:
        return cls(array_sha256(a), array_sha256(b), array_sha256(fused))


@dataclass
class PairRecord:
    """What happened to one pair: status, reason, files, timing, image hashes and scores.

    ``scores`` rows are ``{"metric", "convention", "value", "version", "reason"}``;
    ``fingerprint`` is the sha256 of the files behind the scores (sources, the fused file, the
    weights; see :func:`fusionbench.runner.input_fingerprint`): a pair whose files changed is
    redone. ``images`` holds the decoded images' keys (``a``, ``b``, ``f``).
    """

    pair: str
    status: str
    reason: str = ""
    fused_path: str = ""
    a_path: str = ""
    b_path: str = ""
    seconds: float = 0.0
    scores: list[dict[str, Any]] = field(default_factory=list)
    fingerprint: str = ""
    images: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> ImageKey | None:
        """The image key of an ``ok`` pair (``None`` before it was scored)."""
        if not self.images:
            return None
        return ImageKey(self.images["a"], self.images["b"], self.images["f"])


@dataclass(frozen=True)
class RunPaths:
    """The files of one run folder: fused images and the exports for people."""

    root: Path
    dataset: str
    subset: str
    method: str

    @property
    def run_dir(self) -> Path:
        return self.root / self.dataset / self.subset / self.method

    @property
    def fused_dir(self) -> Path:
        return self.run_dir / "fused"

    @property
    def scores_csv(self) -> Path:
        return self.run_dir / "scores.csv"

    @property
    def pairs_csv(self) -> Path:
        return self.run_dir / "pairs.csv"

    @property
    def manifest(self) -> Path:
        return self.run_dir / "manifest.json"
