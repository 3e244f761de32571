"""``fusionbench regress``: compare stored scores with a committed reference, fail on regressions.

A reference is a CSV with the columns of ``scores.csv`` (``method, dataset, subset, pair,
metric, convention, value``; values written with full precision, ``nan`` for NaN). Tolerances
live in a sidecar ``tolerances.toml`` beside it: a ``[default]`` table and optional
``[metrics.<NAME>]`` / ``[methods.<name>]`` tables, each with ``rtol``, ``atol`` and a
``reason``. A value's tolerance is ``max(atol, rtol * |reference|)`` with the widest ``rtol`` and
``atol`` of the tables that apply to it.

Each reference value ends as one of

* ``same``    within tolerance (NaN and NaN count as the same);
* ``worse``   moved beyond tolerance in the metric's bad direction (catalog
  ``higher_is_better``) -> fails;
* ``changed`` NaN vs a number -> fails;
* ``missing`` in the reference, absent from the results (e.g. the pair failed) -> fails;
* ``better``  moved beyond tolerance in the good direction -> reported (fails with ``--strict``);

and results without a reference value are ``new`` (reported). ``--sweep SLICE.toml`` first runs
the methods of a dataset slice into ``--results``; ``--update`` rewrites the reference on purpose.

>>> import pandas as pd
>>> ref = pd.DataFrame([["avg", "tno", "all", "p1", "EN", "standard", 7.0]], columns=COLUMNS)
>>> new = ref.assign(value=6.9)
>>> compare(ref, new, Tolerances()).rows["status"].tolist()
['worse']
"""

from __future__ import annotations

from fusionbench.regress.command import regress_command, run_regress
from fusionbench.regress.common import (
    COLUMNS,
    DEFAULT_ATOL,
    DEFAULT_RTOL,
    EXIT_REGRESSION,
    FAILING,
    KEY,
    STATUS_ORDER,
    RegressionError,
)
from fusionbench.regress.compare import Comparison, compare
from fusionbench.regress.formatting import failure_reasons, format_comparison
from fusionbench.regress.reference import (
    read_reference,
    reference_text,
    updated_reference,
    write_reference,
)
from fusionbench.regress.sweep import (
    SliceSpec,
    SweepJob,
    load_slice,
    plan_sweep,
    run_sweep,
    sliced_dataset,
)
from fusionbench.regress.tolerances import Tolerance, Tolerances, load_tolerances

__all__ = ["COLUMNS", "DEFAULT_ATOL", "DEFAULT_RTOL", "EXIT_REGRESSION", "FAILING", "KEY",
           "STATUS_ORDER", "Comparison", "RegressionError", "SliceSpec", "SweepJob", "Tolerance",
           "Tolerances", "compare", "failure_reasons", "format_comparison", "load_slice",
           "load_tolerances", "plan_sweep", "read_reference", "reference_text", "regress_command",
           "run_regress", "run_sweep", "sliced_dataset", "updated_reference", "write_reference"]
