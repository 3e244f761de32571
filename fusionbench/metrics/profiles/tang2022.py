"""``tang2022``: Tang's evaluation code as of 2022, the convention of CLF-Net's tables
(Linfeng-Tang/Evaluation-for-Image-Fusion@5d6c43a ``analysis_Reference.m``).

Images are the 8-bit gray files (MATLAB ``rgb2gray`` for colour); ``analysis_Reference.m``
line 8 passes ``im2double`` images (on [0, 1]) to every function but SSIM and MS-SSIM
(0..255). The quirks kept, each with the line causing it, are in ``CONVENTIONS.md``:
MI's shared joint bin of levels 254 and 255, SD's and VIF's uint8 saturation, SF on [0, 1],
PSNR 48.13 dB above the usual value, Qabf's ``GAF = gF`` tie, Nabf's weights on [0, 1].

>>> PROFILE.metrics[:6]
('EN', 'SF', 'SD', 'PSNR', 'MSE', 'MI')
"""

from fusionbench.metrics import edge_transfer as E
from fusionbench.metrics import feature_mi as FM
from fusionbench.metrics import similarity as R
from fusionbench.metrics import spatial as S
from fusionbench.metrics import structural as ST
from fusionbench.metrics.computations import (
    Entropy,
    MefMsSsim,
    MefSsim,
    MutualInformation,
    PerImage,
    Psnr,
    Scd,
    StandardDeviation,
    Vif,
    on,
)
from fusionbench.metrics.profiles._spec import Metric, Profile

E_ = "Evaluation/"

#: Tang's 17 metrics in the order ``analysis_Reference.m`` returns them.
METRICS: dict[str, Metric] = {
    "EN": Metric(Entropy(), "analysis_Reference.m: MATLAB entropy(img_f)"),
    "SF": Metric(on(S.sf_tang, "pixels", "F", scale=255.0),
                 E_ + "SF_evaluation.m: SF_evaluation", min_side=2),
    "SD": Metric(StandardDeviation(tang2022_uint8=True), E_ + "SD_evaluation.m: SD_evaluation"),
    "PSNR": Metric(Psnr("unit", peak=255.0), E_ + "PSNR_evaluation.m: PSNR_evaluation"),
    "MSE": Metric(on(R.mse, "unit"), E_ + "MSE_evaluation.m: MSE_evaluation"),
    "MI": Metric(MutualInformation("bits", tang_quirk=True),
                 E_ + "MI_evaluation.m: MI_evaluation (with Hab.m)"),
    "VIF": Metric(Vif(saturate_first_scale=True), E_ + "vifp_mscale.m: vifp_mscale (A,F) + (B,F)",
                  min_side=17, flat_sources_nan=True),
    "AG": Metric(on(S.ag_tang, "pixels", "F"), E_ + "AG_evaluation.m: AG_evaluation",
                 min_side=2),
    "CC": Metric(PerImage(R.cc_from_centred, R.centred, "unit"),
                 E_ + "CC_evaluation.m: CC_evaluation"),
    "SCD": Metric(Scd("unit"), E_ + "analysis_SCD.m: analysis_SCD"),
    "Qabf": Metric(PerImage(E.qabf_from_edges, E.sobel_strength_angle, "unit"),
                   E_ + "analysis_Qabf.m: analysis_Qabf"),
    "Nabf": Metric(on(E.nabf, "unit"),
                   E_ + "analysis_nabf.m: analysis_nabf (with sobel_fn.m, per_extn_im_fn.m)"),
    "SSIM": Metric(MefSsim(), E_ + "mef_ssim.m: mef_ssim(imgSeq, img_f)",
                   min_side=ST.MEF_WINDOW),
    "MS_SSIM": Metric(MefMsSsim(), E_ + "analysis_ms_ssim.m: analysis_ms_ssim (with mef_ssim.m)",
                      min_side=ST.MEF_MS_MIN_SIDE),
    "FMI_pixel": Metric(on(FM.fmi, "unit", feature="edge"),
                        E_ + "analysis_fmi.m: analysis_fmi (default feature 'edge')"),
    "FMI_dct": Metric(on(FM.fmi, "unit", feature="dct"),
                      E_ + "analysis_fmi.m: analysis_fmi(..., 'dct')"),
    "FMI_w": Metric(on(FM.fmi, "unit", feature="wavelet"),
                    E_ + "analysis_fmi.m: analysis_fmi(..., 'wavelet')"),
}

PROFILE = Profile(
    "tang2022",
    "Tang's evaluation code as of 2022 (CLF-Net's tables): uint8 saturation in SD and "
    "VIF, SF on [0,1], MI joint-bin quirk",
    "Linfeng-Tang/Evaluation-for-Image-Fusion@5d6c43a analysis_Reference.m", "uint8", METRICS)
