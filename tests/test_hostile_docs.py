"""docs/RELIABILITY.md names the tests that cover each promise and hostile case (issue 13):
every test named there must exist, so that a renamed or deleted test cannot leave a row
promising coverage that is gone."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SECTION = "## Hostile input: every case and the test that covers it"
# `hostile_x::test_a`, `tests/y.py::test_b`, `test_z.py::test_c`, then `::test_d` (same file)
REFERENCE = re.compile(r"`(hostile_\w+|tests/[\w/]+\.py|test_\w+\.py)?::(test_\w+)`")


def _named_tests() -> list[tuple[str, str]]:
    text = (REPO / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    named, current = [], None
    for row in section.splitlines():
        for where, test in REFERENCE.findall(row):
            current = where or current
            assert current is not None, f"{row!r}: '::{test}' without a file before it"
            named.append((current, test))
    return named


def _path(where: str) -> Path:
    if where.startswith("hostile_"):
        return REPO / "tests" / f"test_{where}.py"
    return REPO / where if where.startswith("tests/") else REPO / "tests" / where


def test_every_test_named_in_the_hostile_tables_exists() -> None:
    named = _named_tests()
    assert len(named) > 50  # the tables were parsed
    missing = [f"{where}::{test}" for where, test in named
               if not re.search(rf"^def {test}\(", _path(where).read_text(encoding="utf-8")
                                if _path(where).is_file() else "", re.MULTILINE)]
    assert not missing, f"docs/RELIABILITY.md names tests that do not exist: {missing}"


def test_every_test_named_anywhere_in_reliability_exists() -> None:
    """The promises above the hostile tables name tests too, often bare (`test_x`, after a
    file named earlier in the paragraph): each must be defined in ``tests/``, and each
    ``file::test`` in that file."""
    text = (REPO / "docs" / "RELIABILITY.md").read_text(encoding="utf-8")
    sources = {p: p.read_text(encoding="utf-8") for p in (REPO / "tests").rglob("test_*.py")}
    bare = set(re.findall(r"`(?:[\w/.]*::)?(test_\w+|[A-Z]\w+Machine)`", text))
    assert len(bare) > 100  # the whole file was parsed (104 names on 2026-12-03)
    missing = sorted(name for name in bare if not any(
        re.search(rf"^(?:def|class) {name}\b", src, re.MULTILINE) for src in sources.values()))
    assert not missing, f"docs/RELIABILITY.md names tests that do not exist: {missing}"
    misplaced = [f"{where}::{test}" for where, test in
                 re.findall(r"`(hostile_\w+|tests/[\w/]+\.py|test_\w+\.py)::(test_\w+)`", text)
                 if not re.search(rf"^def {test}\(", sources.get(_path(where), ""), re.MULTILINE)]
    assert not misplaced, f"docs/RELIABILITY.md names tests in the wrong file: {misplaced}"
