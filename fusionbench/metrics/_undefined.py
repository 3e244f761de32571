"""The one way a metric reports that it is undefined for its input: NaN with a reason.

:func:`undefined` emits a :class:`fusionbench.errors.MetricWarning` (``nan=True``) naming the
metric and the reason, and returns NaN. The engine collects what its formulas reported
(:func:`reports`), so a NaN is explained once, by whoever knew why.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     with reports() as reported:
...         value = undefined("AG", "image 1x5 has no neighbours in one direction")
>>> value, reported, caught[0].message.nan
(nan, ['AG'], True)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from fusionbench.errors import MetricWarning

_REPORTED: ContextVar[list[str] | None] = ContextVar("fusionbench_metric_nan", default=None)


def undefined(metric: str, reason: str, *, stacklevel: int = 3) -> float:
    """Warn that ``metric`` is NaN because of ``reason`` and return NaN."""
    warnings.warn(MetricWarning(metric, reason, nan=True), stacklevel=stacklevel)
    reported = _REPORTED.get()
    if reported is not None:
        reported.append(metric)
    return math.nan


@contextmanager
def reports() -> Iterator[list[str]]:
    """Collect, in a list, the metrics :func:`undefined` reports inside the ``with`` block."""
    collected: list[str] = []
    token = _REPORTED.set(collected)
    try:
        yield collected
    finally:
        _REPORTED.reset(token)
