"""Checks of a results root through the store's public behaviour only (issue 11's tests).

The store's layout is not looked at: answers come from ``load_results`` (its ``.scores`` and
``.pairs`` tables), images from the paths those tables name, read with ``read_image``, and
fresh numbers from ``score_many``. The one exception: every ``*.sqlite`` file under a root may
be opened for ``PRAGMA integrity_check``.

>>> import tempfile
>>> root = Path(tempfile.mkdtemp())
>>> folder = write_pairs(root / "data", n=2, size=16, seed=0)
>>> sorted(p.name for p in (folder / "ir").iterdir())
['p0.png', 'p1.png']
>>> integrity_problems(root)
[]
"""

from __future__ import annotations

import hashlib
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from fusionbench.imageio import read_image
from fusionbench.report.load import ReportError, Results, load_results

#: The columns that identify one stored score (a key may appear once).
SCORE_KEY = ("method", "dataset", "subset", "pair", "metric", "convention")
#: The columns that identify one pair of one run.
PAIR_KEY = ("method", "dataset", "subset", "pair")
#: How close a stored score must be to a fresh computation (relative to max(1, |value|)).
TOLERANCE = 1e-12


def random_image(size: int, seed: int) -> np.ndarray:
    """A ``size`` x ``size`` uint8 gray image: a smooth ramp plus noise (never constant)."""
    rng = np.random.default_rng(seed)
    ramp = np.add.outer(np.arange(size), np.arange(size)) * (127.0 / size)
    return np.clip(ramp + rng.integers(0, 128, (size, size)), 0, 255).astype(np.uint8)


def save_png(path: Path, image: np.ndarray) -> None:
    """Write ``image`` as a PNG (parents created), replacing what is there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, format="PNG")


def write_pairs(folder: Path, *, n: int, size: int, seed: int) -> Path:
    """An ad-hoc ir-vi dataset folder: ``folder/ir/p<i>.png`` and ``folder/vi/p<i>.png``."""
    for i in range(n):
        for j, side in enumerate(("ir", "vi")):
            save_png(folder / side / f"p{i}.png", random_image(size, seed * 1000 + 2 * i + j))
    return folder


def write_fused_folder(folder: Path, pairs: Sequence[str], *, size: int, seed: int) -> Path:
    """A folder of "published" fused images ``<pair>.png`` for ``eval``."""
    for i, pair in enumerate(pairs):
        save_png(folder / f"{pair}.png", random_image(size, seed * 1000 + i))
    return folder


def file_digest(path: str | Path) -> str | None:
    """sha256 of a file's bytes (``None`` when it is gone)."""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def load_or_none(root: Path) -> Results | None:
    """``load_results(root)``, or ``None`` when the root holds no run (yet, or any more)."""
    if not Path(root).exists():
        return None
    try:
        return load_results(root)
    except ReportError as exc:
        message = str(exc).lower()
        if any(words in message for words in ("no run", "no result", "does not exist")):
            return None
        raise


def integrity_problems(root: Path) -> list[str]:
    """Every ``*.sqlite`` under ``root`` whose ``PRAGMA integrity_check`` is not ``ok``."""
    problems = []
    for path in sorted(Path(root).rglob("*.sqlite")):
        conn = sqlite3.connect(path, timeout=30)
        try:
            answer = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
        if answer != [("ok",)]:
            problems.append(f"{path}: {answer}")
    return problems


def duplicated_keys(results: Results) -> list[str]:
    """Score keys and pair keys that the store reports more than once."""
    out = []
    for frame, key in ((results.scores, SCORE_KEY), (results.pairs, PAIR_KEY)):
        dup = frame[frame.duplicated(list(key), keep=False)]
        out += [f"{'/'.join(map(str, row))} appears twice"
                for row in dup[list(key)].drop_duplicates().itertuples(index=False)]
    return out


def _close(stored: float, fresh: float) -> bool:
    if math.isnan(stored) or math.isnan(fresh):
        return math.isnan(stored) and math.isnan(fresh)
    if math.isinf(stored) or math.isinf(fresh):
        return stored == fresh
    return abs(stored - fresh) <= TOLERANCE * max(1.0, abs(fresh))


def wrong_scores(results: Results, skip: set[tuple[str, str]] = frozenset()) -> list[str]:
    """Every reported score that differs from ``score_many`` on the images its pair names now,
    and every score of a pair whose status is not ``ok`` (nothing could be scored there).

    ``skip`` holds ``(method, dataset)`` of runs whose files were changed behind the store's
    back since the last command on them (their answers are checked again after it).
    """
    from fusionbench.metrics import score_many

    pairs = results.pairs.set_index(list(PAIR_KEY))
    problems = []
    for key, rows in results.scores.groupby(["method", "dataset", "subset", "pair",
                                             "convention"], sort=True):
        method, dataset, subset, pair, convention = key
        if (method, dataset) in skip:
            continue
        where = f"{method} {dataset}/{subset} {pair} ({convention})"
        if (method, dataset, subset, pair) not in pairs.index:
            problems.append(f"{where}: scores for a pair the store does not list")
            continue
        info = pairs.loc[[(method, dataset, subset, pair)]].iloc[0]
        if info["status"] != "ok":
            problems.append(f"{where}: scores for a pair whose status is {info['status']}")
            continue
        try:
            images = [read_image(info[col]) for col in ("fused_path", "a_path", "b_path")]
        except Exception as exc:  # noqa: BLE001 - an unreadable image is a finding
            problems.append(f"{where}: the images it names cannot be read ({exc})")
            continue
        names = list(rows["metric"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fresh = score_many(*images, profiles=[convention], metrics=names)[convention]
        for metric, value in zip(names, rows["value"], strict=True):
            if not _close(float(value), float(fresh[metric])):
                problems.append(f"{where} {metric}: stored {value!r}, fresh {fresh[metric]!r}")
    return problems


def score_values(results: Results | None) -> pd.Series:
    """The reported scores as one series indexed by :data:`SCORE_KEY`, sorted."""
    if results is None:
        return pd.Series([], dtype=float)
    return results.scores.set_index(list(SCORE_KEY))["value"].astype(float).sort_index()


def fusionbench_command(*args: str) -> list[str]:
    """The command line of a ``fusionbench`` child process using this interpreter."""
    return [sys.executable, "-m", "fusionbench", *args]


def child_env() -> dict[str, str]:
    """The environment for child processes: unbuffered, and no debug tracebacks."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("FUSIONBENCH_DEBUG", None)
    return env


def start_child(args: Sequence[str], log: Path) -> subprocess.Popen:
    """Start ``fusionbench ARGS`` in its own process group, output to ``log``."""
    with open(log, "wb") as fh:
        return subprocess.Popen(fusionbench_command(*args), stdout=fh, stderr=subprocess.STDOUT,
                                env=child_env(), start_new_session=True)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL a child started by :func:`start_child` and everything it started; reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=60)


def wait_for_new_png(root: Path, before: int, proc: subprocess.Popen, limit: float) -> None:
    """Return once more than ``before`` PNG files exist under ``root``, ``proc`` ended or
    ``limit`` seconds passed."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if count_pngs(root) > before:
            return
        time.sleep(0.005)


def count_pngs(root: Path) -> int:
    """How many ``*.png`` files lie under ``root`` (0 if it does not exist)."""
    return sum(1 for _ in Path(root).rglob("*.png")) if Path(root).exists() else 0


def stale_fused_images(results: Results, fusers: Mapping[str, Callable | None],
                       skip: set[tuple[str, str]] = frozenset()) -> list[str]:
    """Every ok pair of a run whose fused image is not what its method makes of the pair's
    current sources (e.g. a fused PNG kept after its sources or weights changed: its
    fused-image-only scores would still look right). ``fusers`` maps a run label to its
    deterministic fusion callable; runs without one (or ``None``) are not checked.
    """
    from fusionbench.fusion import fuse_images

    problems = []
    ok = results.pairs[results.pairs["status"] == "ok"]
    for row in ok.itertuples(index=False):
        fuse = fusers.get(row.method)
        if fuse is None or (row.method, row.dataset) in skip:
            continue
        a, b = read_image(row.a_path), read_image(row.b_path)
        if not np.array_equal(read_image(row.fused_path), fuse_images(fuse, a, b)):
            problems.append(f"{row.method} {row.dataset}/{row.subset} {row.pair}: "
                            f"{row.fused_path} is not the method's output for its sources")
    return problems
