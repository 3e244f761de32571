"""The two records a profile file fills in: :class:`Metric` (how one metric is computed under
the convention, where it comes from in the original code, what input it needs) and
:class:`Profile` (the convention).

>>> from fusionbench.metrics.computations import Entropy
>>> p = Profile("demo", "a demo", "nowhere", "uint8", {"EN": Metric(Entropy(), "demo.m: EN")})
>>> p.metrics, p.default_metrics, p.origin("EN")
(('EN',), ('EN',), 'demo.m: EN')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fusionbench.metrics.catalog import PAPER_METRICS
from fusionbench.metrics.context import Context


@dataclass(frozen=True)
class Metric:
    """One metric of a profile.

    ``compute``: the computation (a function of a :class:`Context`, usually a record of
    :mod:`fusionbench.metrics.computations`); ``origin``: the original code's file and function
    it reproduces. What the engine checks first (NaN with a warning when it fails):
    ``min_side``, the smallest height and width the formula is defined for, and
    ``flat_sources_nan``, whether a constant source makes it 0/0. ``colour``: under a profile
    that scores colour channels, ``"channels"`` (the mean over the three) or
    ``"side_by_side"`` (one M x 3N image, as MATLAB's ``size`` of a colour image gives).
    """

    compute: Callable[[Context], float]
    origin: str
    min_side: int = 1
    flat_sources_nan: bool = False
    colour: str = "channels"


@dataclass(frozen=True)
class Profile:
    """A named metric convention: its :class:`Metric` records, and how images reach them.

    ``mode``: ``"uint8"`` (the 8-bit images, as code reading files does) or ``"float"``;
    ``gray``: how colour becomes gray (a key of ``_inputs.GRAY_CONVERSIONS``); ``colour``:
    ``"gray"`` (every image converted) or ``"channels"`` (a colour fused image scored per
    channel, VIFB's rule); ``keep_infinite``: an infinite value (PSNR of identical images) is
    reported as the original code reports it, not as NaN.
    """

    name: str
    description: str
    reference: str
    mode: str
    definitions: Mapping[str, Metric]
    #: The engine version of this convention: bump it whenever any of its numbers change
    #: (the CI regression reference catches such a change). The results store keys every
    #: cached score by it, so a bump invalidates the cached scores of this profile only.
    version: str = "1"
    gray: str = "matlab"
    colour: str = "gray"
    keep_infinite: bool = False

    @property
    def metrics(self) -> tuple[str, ...]:
        """Every metric the profile implements, in its reference code's order."""
        return tuple(self.definitions)

    @property
    def default_metrics(self) -> tuple[str, ...]:
        """Those scored when none are asked for: the paper's six, where the profile has them."""
        paper = tuple(m for m in PAPER_METRICS if m in self.definitions)
        return paper or self.metrics

    def origin(self, metric: str) -> str:
        """Where ``metric`` comes from in the convention's original code (file: function)."""
        return self.definitions[metric].origin

    def definition(self, metric: str) -> Metric:
        """The :class:`Metric` record of ``metric``."""
        return self.definitions[metric]
