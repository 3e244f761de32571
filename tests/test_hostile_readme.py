"""The README's "Python API" and "Write a method plugin" sections are executed as doctests."""

from __future__ import annotations

import doctest
import re
import tomllib
from pathlib import Path

import pytest

from fusionbench.registry import ENTRY_POINT_GROUP

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, f"README has no section {title!r}"
    return match.group(1)


@pytest.mark.parametrize("title", ["Python API", "Write a method plugin"])
def test_readme_section_examples_run(title: str) -> None:
    text = _section(title)
    code = "\n".join(re.findall(r"```python\n(.*?)```", text, re.S))
    test = doctest.DocTestParser().get_doctest(code, {}, title, "README.md", 0)
    assert len(test.examples) >= 8  # the section really holds examples
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0, f"{runner.failures} README example(s) of {title!r} failed"


def test_readme_entry_point_snippet_names_the_real_group() -> None:
    snippet = re.search(r"```toml\n(.*?)```", _section("Write a method plugin"), re.S)
    assert snippet
    table = tomllib.loads(snippet.group(1))["project"]["entry-points"]
    assert list(table) == [ENTRY_POINT_GROUP]
