"""Every dataset card's real data under ../shared/data passes `fusionbench datasets check`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.data import dataset_cards


@pytest.mark.parametrize("name", sorted(dataset_cards(None)))
def test_datasets_check_on_real_data(name: str, data_root: Path) -> None:
    result = CliRunner().invoke(cli, ["datasets", "--data-root", str(data_root), "check", name])
    assert result.exit_code == 0, result.output
    assert "problem" not in result.output
