"""The one way a metric reports that it is undefined for its input: NaN with a reason.

:func:`undefined` returns NaN and emits a :class:`fusionbench.errors.MetricWarning`
(``nan=True``) naming the metric and the reason. Inside :func:`collecting` (the engine) the
reason is collected instead of warned, so that the engine reports each NaN once, with the
reason of whoever knew it, also when the value comes from its cache.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     value = undefined("AG", "image 1x5 is smaller than the 2x2 that AG needs")
>>> value, str(caught[0].message), caught[0].message.nan
(nan, 'AG is NaN: image 1x5 is smaller than the 2x2 that AG needs', True)
>>> with collecting() as reasons:
...     value = undefined("Qcb", "an input image is constant")
>>> value, reasons
(nan, ['an input image is constant'])
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from fusionbench.errors import MetricWarning

_COLLECTED: ContextVar[list[str] | None] = ContextVar("fusionbench_metric_nan", default=None)


def undefined(metric: str, reason: str, *, stacklevel: int = 3) -> float:
    """NaN for ``metric`` because of ``reason``: warned, or collected inside :func:`collecting`."""
    collected = _COLLECTED.get()
    if collected is None:
        warnings.warn(MetricWarning(metric, reason, nan=True), stacklevel=stacklevel)
    else:
        collected.append(reason)
    return math.nan


@contextmanager
def collecting() -> Iterator[list[str]]:
    """Collect, in a list, the reasons :func:`undefined` gives inside the ``with`` block."""
    collected: list[str] = []
    token = _COLLECTED.set(collected)
    try:
        yield collected
    finally:
        _COLLECTED.reset(token)
