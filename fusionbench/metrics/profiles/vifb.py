"""``vifb``: VIFB's 13 metrics (xingchenzhang/VIFB@22b2ea9 ``metrics/metrics*.m``), called as
VIFB does, visible first (``metricsX(B, A, F)``), on the 8-bit images.

Colour rule: a colour fused image is scored per channel (with the matching channel of a
colour source, or the one channel of a gray source) and the three values averaged; SF instead
reads the M x N x 3 image as one M x 3N image (MATLAB ``size`` of a colour image; the channel
seams count). A gray fused image meets a colour source's MATLAB ``rgb2gray``. Identical images
give PSNR = inf, as in MATLAB. The formulas' details are in ``CONVENTIONS.md``.

>>> PROFILE.colour, PROFILE.definition("SF").colour
('channels', 'side_by_side')
"""

from fusionbench.metrics import edge_transfer as E
from fusionbench.metrics import histogram as H
from fusionbench.metrics import perceptual as P
from fusionbench.metrics import similarity as R
from fusionbench.metrics import spatial as S
from fusionbench.metrics import structural as ST
from fusionbench.metrics.computations import (
    Entropy,
    MutualInformation,
    PerImage,
    Psnr,
    StandardDeviation,
    on,
)
from fusionbench.metrics.profiles._spec import Metric, Profile


def _m(name: str) -> str:
    return f"metrics/metrics{name}.m: metrics{name}"


#: VIFB's 13 metrics, in the order of its README table.
METRICS: dict[str, Metric] = {
    "EN": Metric(Entropy(), _m("Entropy")),
    "MI": Metric(MutualInformation("nats", normalised=True), _m("Mutinf")),
    "SD": Metric(StandardDeviation(), _m("Variance")),
    "SF": Metric(on(S.sf_tang, "pixels", "F", per="pixel"), _m("Spatial_frequency"),
                 colour="side_by_side"),
    "AG": Metric(on(S.ag_tang, "pixels", "F"), _m("Avg_gradient"), min_side=2),
    "CE": Metric(on(H.cross_entropy, "255"), _m("Cross_entropy")),
    "EI": Metric(on(S.edge_intensity, "255", "F"), _m("Edge_intensity")),
    "PSNR": Metric(Psnr("255", error="vifb_rmse"), _m("Psnr")),
    "RMSE": Metric(on(R.rmse, "255"), _m("Rmse")),
    "SSIM": Metric(on(ST.ssim, "255", dynamic_range=255.0, border="valid"), _m("Ssim"),
                   min_side=11),
    "Qabf": Metric(PerImage(E.qabf_from_edges, E.sobel_strength_angle, "255"), _m("Qabf")),
    "Qcb": Metric(PerImage(P.qcb_from_contrasts, P.qcb_contrast, "255"), _m("Qcb")),
    "Qcv": Metric(PerImage(P.qcv_from_images, P.qcv_image, "255"), _m("Qcv")),
}

PROFILE = Profile(
    "vifb",
    "VIFB's 13 metrics on the 8-bit images (per channel, averaged, for a colour fused image)",
    "xingchenzhang/VIFB@22b2ea9 metrics/*.m", "uint8", METRICS, colour="channels",
    keep_infinite=True)
