"""The examples in the docstrings of the modules issue 13 touched run and pass."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["fusionbench.errors", "fusionbench.atomic", "fusionbench.imageio",
           "fusionbench.fusion", "fusionbench.options", "fusionbench.data",
           "fusionbench.registry", "fusionbench.matching", "fusionbench.cli",
           "fusionbench.report.formats"]


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, result
