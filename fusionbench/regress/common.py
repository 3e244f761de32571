"""Names every part of ``fusionbench regress`` shares: columns, statuses, exit code."""

from __future__ import annotations

from fusionbench.errors import FusionbenchError

KEY = ["method", "dataset", "subset", "pair", "metric", "convention"]
COLUMNS = KEY + ["value"]
FAILING = ("worse", "changed", "missing")
STATUS_ORDER = ("worse", "changed", "missing", "better", "new", "same")
EXIT_REGRESSION = 4
DEFAULT_RTOL, DEFAULT_ATOL = 1e-9, 1e-12


class RegressionError(FusionbenchError):
    """A reference, tolerance or slice file is malformed, or there is nothing to compare."""


