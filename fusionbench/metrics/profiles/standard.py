"""``standard``: fusionbench's default convention, one documented choice per metric and no
quirks, in float arithmetic on the 0..255 gray images (MATLAB ``rgb2gray`` weights).

EN and MI in bits on 256 integer-aligned bins of the 8-bit gray image (consistent joint and
marginal bins); SD population; SF with per-direction term counts; AG as Tang; VIF the vifp sum;
VIFF as :mod:`~fusionbench.metrics.profiles.han_viff`; CE, EI, PSNR, RMSE, SSIM, Qabf, Qcb,
Qcv as :mod:`~fusionbench.metrics.profiles.vifb` computes them, on the gray images.

>>> PROFILE.default_metrics
('EN', 'MI', 'VIF', 'SD', 'AG', 'SF')
"""

from fusionbench.metrics import spatial as S
from fusionbench.metrics.catalog import PAPER_METRICS
from fusionbench.metrics.computations import Entropy, MutualInformation, StandardDeviation, Vif, on
from fusionbench.metrics.profiles import han_viff, vifb
from fusionbench.metrics.profiles._spec import Metric, Profile

_OURS = "fusionbench (CONVENTIONS.md, standard)"
#: VIFB metrics the profile takes as VIFB computes them (on the gray images).
VIFB_EXTRAS: tuple[str, ...] = ("CE", "EI", "PSNR", "RMSE", "SSIM", "Qabf", "Qcb", "Qcv")

METRICS: dict[str, Metric] = {
    "EN": Metric(Entropy(), _OURS),
    "MI": Metric(MutualInformation("bits"), _OURS),
    "VIF": Metric(Vif(), _OURS, min_side=17, flat_sources_nan=True),
    "SD": Metric(StandardDeviation(), _OURS),
    "AG": Metric(on(S.ag_tang, "pixels", "F"), _OURS, min_side=2),
    "SF": Metric(on(S.sf_tang, "pixels", "F"), _OURS, min_side=2),
    "VIFF": Metric(han_viff.VIFF.compute, "VIFF_Public.m: VIFF_Public (as han_viff)",
                   min_side=41, flat_sources_nan=True),
    **{name: Metric(vifb.METRICS[name].compute,
                    f"VIFB {vifb.METRICS[name].origin}, on gray images",
                    min_side=vifb.METRICS[name].min_side)
       for name in VIFB_EXTRAS},
}
assert tuple(METRICS)[:6] == PAPER_METRICS

PROFILE = Profile(
    "standard",
    "fusionbench default: float arithmetic on 0..255 gray (MATLAB rgb2gray), no "
    "quirks; EN/MI in bits on 256 integer-aligned bins of the 8-bit gray image; SD "
    "population; SF per-direction means; AG Tang; VIF = vifp(A,F) + vifp(B,F); VIFF "
    "as han_viff; VIFB's other metrics on the gray images",
    "this project (fusionbench/metrics/CONVENTIONS.md)", "float", METRICS)
