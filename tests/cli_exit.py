"""Running the console-script entry point in-process, for tests of its error handling."""

from __future__ import annotations

from fusionbench import cli as cli_module


def main_exit_code(args: list[str]) -> int:
    """The exit status ``fusionbench ARGS`` would have (``main`` returns normally on success)."""
    try:
        cli_module.main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
