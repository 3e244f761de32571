"""Listing and checking commands: methods, datasets, metrics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from fusionbench.cli import cli
from fusionbench.imageio import write_image


def test_methods_lists_kinds_and_show_prints_a_card() -> None:
    runner = CliRunner()
    listing = runner.invoke(cli, ["methods"])
    assert listing.exit_code == 0, listing.output
    assert "gff" in listing.output and "classic" in listing.output
    shown = runner.invoke(cli, ["methods", "show", "gff"])
    assert shown.exit_code == 0 and "Li" in shown.output and "entry:" in shown.output


def test_datasets_check_clean_and_broken(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["datasets", "check", "sample"])
    assert ok.exit_code == 0 and "sample/ir-vi: 4 pairs, ok" in ok.output
    write_image(tmp_path / "ir" / "x.png", np.zeros((4, 4), np.uint8))
    write_image(tmp_path / "vi" / "x.png", np.zeros((4, 5), np.uint8))
    write_image(tmp_path / "ir" / "y.png", np.zeros((4, 4), np.uint8))
    bad = runner.invoke(cli, ["datasets", "check", str(tmp_path)])
    assert bad.exit_code == 1
    assert "size mismatch" in bad.output and "y.png: missing partner" in bad.output


def test_metrics_lists_profiles_with_default() -> None:
    result = CliRunner().invoke(cli, ["metrics"])
    assert result.exit_code == 0, result.output
    for name in ("standard", "tang2022", "tang2023", "vifb", "Qcv"):
        assert name in result.output
