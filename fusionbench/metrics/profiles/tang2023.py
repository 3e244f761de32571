"""``tang2023``: Tang's evaluation code from 2023 (same repository @0e87153).

As :mod:`~fusionbench.metrics.profiles.tang2022` except: the inputs are
``im2double(img) * 255`` (line 10), so SD, SF, VIF (no saturation), CC, SCD, Qabf, FMI work on
0..255; PSNR and MSE stay on [0, 1] (the 2023 functions divide by 255 inside); Nabf is
called with source A in the fused image's place (line 69, a quirk kept); SSIM is
0.5 ssim(F, A) + 0.5 ssim(F, B) with MATLAB's built-in ``ssim`` (lines 71-73; its default
``DynamicRange`` 1 for double images).

>>> PROFILE.origin("SSIM")
'analysis_Reference.m: 0.5 ssim(F,A) + 0.5 ssim(F,B) (MATLAB ssim)'
"""

from fusionbench.metrics import edge_transfer as E
from fusionbench.metrics import feature_mi as FM
from fusionbench.metrics import similarity as R
from fusionbench.metrics import spatial as S
from fusionbench.metrics import structural as ST
from fusionbench.metrics.computations import PerImage, Scd, StandardDeviation, Vif, on
from fusionbench.metrics.profiles import tang2022
from fusionbench.metrics.profiles._spec import Metric, Profile

_SAME = tang2022.METRICS

METRICS: dict[str, Metric] = {
    **_SAME,
    "SF": Metric(on(S.sf_tang, "pixels", "F"), _SAME["SF"].origin, min_side=2),
    "SD": Metric(StandardDeviation(), _SAME["SD"].origin),
    "VIF": Metric(Vif(), _SAME["VIF"].origin, min_side=17, flat_sources_nan=True),
    "CC": Metric(PerImage(R.cc_from_centred, R.centred, "255"), _SAME["CC"].origin),
    "SCD": Metric(Scd("255"), _SAME["SCD"].origin),
    "Qabf": Metric(PerImage(E.qabf_from_edges, E.sobel_strength_angle, "255"),
                   _SAME["Qabf"].origin),
    # analysis_nabf(img1_float, img2_float, img_f_float) against analysis_nabf(f, I1, I2)
    "Nabf": Metric(on(E.nabf, "255", roles="ABF"), _SAME["Nabf"].origin),
    "SSIM": Metric(on(ST.ssim, "255", combine="mean"),
                   "analysis_Reference.m: 0.5 ssim(F,A) + 0.5 ssim(F,B) (MATLAB ssim)"),
    "FMI_pixel": Metric(on(FM.fmi, "255", feature="edge"), _SAME["FMI_pixel"].origin),
    "FMI_dct": Metric(on(FM.fmi, "255", feature="dct"), _SAME["FMI_dct"].origin),
    "FMI_w": Metric(on(FM.fmi, "255", feature="wavelet"), _SAME["FMI_w"].origin),
}

PROFILE = Profile(
    "tang2023",
    "Tang's evaluation code from 2023: as tang2022 but SD, SF, VIF in float on 0..255",
    "Linfeng-Tang/Evaluation-for-Image-Fusion@0e87153 analysis_Reference.m", "uint8", METRICS)
