"""The docstring examples of every module of ``fusionbench.metrics`` run and pass: the
functional core's examples (``qabf(f, a, b)`` and the others) are executed documentation."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import fusionbench.metrics

MODULES = sorted(["fusionbench.metrics"] + [
    info.name for info in pkgutil.walk_packages(fusionbench.metrics.__path__,
                                                 "fusionbench.metrics.")])
#: Modules allowed to have no examples, with why.
NO_EXAMPLES: set[str] = set()


def test_every_module_is_listed() -> None:
    assert {"fusionbench.metrics.edge_transfer", "fusionbench.metrics.profiles.vifb",
            "fusionbench.metrics.engine", "fusionbench.metrics.perceptual"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, result
    assert result.attempted > 0 or name in NO_EXAMPLES, f"{name} has no docstring examples"
