"""Shared test fixtures.

The real datasets and reference values live outside the repository, in ``../shared`` beside
the checkout (or wherever ``$FUSIONBENCH_DATA`` points: either the ``shared`` folder or its
``data`` folder). Tests that need them use the ``shared_dir`` / ``data_root`` fixtures; when the
folder is missing they are skipped locally but fail under ``CI=true``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path | None:
    env = os.environ.get("FUSIONBENCH_DATA")
    candidates = []
    if env:
        env_path = Path(env)
        candidates += [env_path.parent if env_path.name == "data" else env_path]
    candidates.append(REPO_ROOT.parent / "shared")
    for cand in candidates:
        if (cand / "data").is_dir() and (cand / "reference").is_dir():
            return cand
    return None


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared`` folder (with ``data/`` and ``reference/``)."""
    found = _find_shared()
    if found is None:
        message = "shared data not found at ../shared or $FUSIONBENCH_DATA"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def data_root(shared_dir: Path) -> Path:
    """The data root holding ``tno/``, ``roadscene/``, ``fused/`` ..."""
    return shared_dir / "data"


@pytest.fixture(scope="session")
def reference_dir(shared_dir: Path) -> Path:
    """The folder of reference metric values computed by the original MATLAB code."""
    return shared_dir / "reference"
