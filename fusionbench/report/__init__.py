"""Reports from a results store: tables (md/tex/html/csv), box plots, grids, an HTML page.

The package import is light; :func:`build_report` loads pandas & co. on first use.

>>> import fusionbench.report
>>> callable(fusionbench.report.build_report)
True
"""

from __future__ import annotations

from typing import Any

__all__ = ["build_report"]


def __getattr__(name: str) -> Any:
    if name == "build_report":
        from fusionbench.report.build import build_report

        return build_report
    raise AttributeError(name)
