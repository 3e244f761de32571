"""``fusionbench verify``: does everything on disk still agree with the store?

Checks SQLite's integrity, that every export (``scores.csv``, ``pairs.csv``, ``manifest.json``)
still holds what the store would write (an edited export changes no reported number, but a
person reading it would be misled), and that every scored fused image still decodes to the
image the scores were computed on. ``fix=True`` rewrites stale exports; a changed fused image
is left for the next run, which redoes that pair.

>>> import tempfile
>>> verify(Path(tempfile.mkdtemp()))
[Problem(path=..., problem='no store here (fusionbench.sqlite)', fixed=False)]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fusionbench.store.database import Store
from fusionbench.store.exports import export_texts, write_exports
from fusionbench.store.model import RunPaths, array_sha256
from fusionbench.store.schema import STORE_FILE


@dataclass(frozen=True)
class Problem:
    """One disagreement: the file and what is wrong with it; ``fixed``: ``fix=True`` has
    already put it right (a rewritten export)."""

    path: Path
    problem: str
    fixed: bool = False


def _fused_problem(path: Path, expected: str) -> str | None:
    from fusionbench.errors import FusionbenchError
    from fusionbench.imageio import read_image

    if not path.is_file():
        return "fused image is gone; the next run makes it again"
    try:
        found = array_sha256(read_image(path))
    except FusionbenchError as exc:
        return f"fused image cannot be read ({exc}); the next run redoes the pair"
    if found != expected:
        return "fused image changed since it was scored; the next run redoes the pair"
    return None


def verify(root: Path, *, fix: bool = False) -> list[Problem]:
    """Every problem found under ``root`` (empty: the store and the files agree)."""
    root = Path(root)
    store = Store.open(root)
    if store is None:
        return [Problem(root, f"no store here ({STORE_FILE})")]
    problems: list[Problem] = []
    with store:
        problems += [Problem(store.path, p) for p in store.integrity_problems()]
        for run in store.runs():
            paths = RunPaths(root, run.dataset, run.subset, run.method)
            stale = []
            for name, text in export_texts(store, run).items():
                path = paths.run_dir / name
                try:
                    same = path.read_text(encoding="utf-8") == text
                except (OSError, UnicodeDecodeError):
                    same = False
                if not same:
                    stale.append(path)
            if stale and fix:
                write_exports(store, run, root)
            problems += [Problem(p, "export rewritten from the store", fixed=True) if fix else
                         Problem(p, "export does not match the store (edited, or from an "
                                 "interrupted run); `verify --fix` rewrites it") for p in stale]
            for rec in store.pairs(run.id).values():
                if rec.status == "ok" and rec.key is not None and rec.fused_path:
                    why = _fused_problem(Path(rec.fused_path), rec.key.f)
                    if why:
                        problems.append(Problem(Path(rec.fused_path), why))
    return problems
