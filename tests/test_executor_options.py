"""The reusable ``--executor/--scheduler/--resources`` click options and their checks."""

from __future__ import annotations

import sys

import click
import pytest
from click.testing import CliRunner

from fusionbench.errors import UsageError
from fusionbench.executor_options import ExecutorChoice, executor_options, parse_resources


@click.command()
@click.option("--workers", type=int, default=None)
@executor_options
def probe(workers: int | None, executor: ExecutorChoice) -> None:
    executor.check()
    click.echo(f"{executor.kind}|{executor.scheduler}|{executor.resources}|"
               f"{executor.data_access}|{workers}")


def _invoke(*args: str) -> click.testing.Result:
    return CliRunner().invoke(probe, list(args), standalone_mode=False)


def test_defaults_are_the_local_pool() -> None:
    result = _invoke()
    assert result.exception is None and result.output == "local|None|{}|shared|None\n"


def test_dask_options_reach_the_command() -> None:
    result = _invoke("--executor", "dask", "--scheduler", "tcp://h:8786",
                     "--resources", "GPU=1, MEMORY=2e9", "--workers", "3",
                     "--data-access", "send")
    assert result.exception is None, result.exception
    assert result.output == "dask|tcp://h:8786|{'GPU': 1.0, 'MEMORY': 2000000000.0}|send|3\n"


@pytest.mark.parametrize("text", ["GPU", "GPU=", "=1", "GPU=zero", "GPU=-1", "GPU=inf"])
def test_bad_resources_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--resources"):
        parse_resources(text)
    assert isinstance(_invoke("--executor", "dask", "--resources", text).exception, UsageError)


def test_dask_options_without_dask_executor_are_refused() -> None:
    result = _invoke("--scheduler", "tcp://h:8786")
    assert isinstance(result.exception, UsageError)
    assert "need --executor dask" in str(result.exception)
    assert isinstance(_invoke("--executor", "spark").exception, click.BadParameter)
    sent = _invoke("--data-access", "send")
    assert isinstance(sent.exception, UsageError)
    assert "--data-access send need --executor dask" in str(sent.exception)


def test_missing_extra_is_found_by_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "fusionbench.executors_dask", raising=False)
    with pytest.raises(UsageError, match=r"pip install 'fusionbench\[dask\]'"):
        ExecutorChoice("dask").check()


@pytest.mark.parametrize("module", ["fusionbench.executors", "fusionbench.executor_options"])
def test_doctests(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
