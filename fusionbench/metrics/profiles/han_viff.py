"""``han_viff``: VIFF of Han et al. 2013 only, as ``VIFF_Public.m`` computes it
(HarrisXia/image-fusion-evaluation@35d35c0): four vifp scales, per pixel the source with the
smaller gain, Octave's rounding in flat regions (``CONVENTIONS.md``). NaN below 41 x 41 (an
empty scale is 0/0 in the original) and for a constant source.

>>> PROFILE.metrics, PROFILE.definition("VIFF").min_side
(('VIFF',), 41)
"""

from fusionbench.metrics.computations import Viff
from fusionbench.metrics.profiles._spec import Metric, Profile

VIFF = Metric(Viff(), "VIFF_Public.m: VIFF_Public", min_side=41, flat_sources_nan=True)

PROFILE = Profile(
    "han_viff",
    "Han et al. 2013 VIFF only (multi-scale, per-pixel source with the smaller gain)",
    "HarrisXia/image-fusion-evaluation@35d35c0 VIFF_Public.m", "float", {"VIFF": VIFF})
