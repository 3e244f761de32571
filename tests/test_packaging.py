"""The package list in pyproject.toml names every package of the source tree, so that a
non-editable install (a wheel) holds every module the tests ran."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    dirs = config.get("package-dir", {})
    found = set()
    for init in (ROOT / "fusionbench").rglob("__init__.py"):
        rel = init.parent.relative_to(ROOT)
        found.add(".".join(rel.parts))
    for name, folder in dirs.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join((name, *rel.parts)))
    missing = sorted(p for p in found if p not in listed and "__pycache__" not in p)
    assert not missing, f"packages missing from pyproject.toml: {missing}"
