"""``cddfuse``: MMIF-CDDFuse's ``utils/Evaluator.py`` (Zhaozixiang1228/MMIF-CDDFuse@fd8da1f),
the most used Python evaluator, on images read as its ``image_read_cv2(path, 'GRAY')``
(OpenCV ``cvtColor(BGR2GRAY)`` in float32, ``np.round``; ``_inputs.rgb2gray_opencv``).

Its differences from Tang's code (``CONVENTIONS.md``): MI in nats with one bin per value
(sklearn ``mutual_info_score``); AG over all M N pixels; VIF (their ``VIFF``) is the vifp sum
on float; PSNR's peak is max(F) (line 85); SSIM is scikit-image 0.19's with its defaults on
float32 (``data_range`` 2). Version 2: colour inputs take OpenCV's gray (before: MATLAB's).

>>> PROFILE.version, PROFILE.gray
('2', 'opencv')
"""

from fusionbench.metrics import edge_transfer as E
from fusionbench.metrics import similarity as R
from fusionbench.metrics import spatial as S
from fusionbench.metrics import structural as ST
from fusionbench.metrics.computations import (
    Entropy,
    MutualInformation,
    PerImage,
    Psnr,
    Scd,
    StandardDeviation,
    Vif,
    on,
)
from fusionbench.metrics.profiles._spec import Metric, Profile

_EV = "utils/Evaluator.py: Evaluator."

#: The evaluator's 12 metrics in the order of its README table.
METRICS: dict[str, Metric] = {
    "EN": Metric(Entropy(), _EV + "EN"),
    "SD": Metric(StandardDeviation(), _EV + "SD"),
    "SF": Metric(on(S.sf_tang, "pixels", "F"), _EV + "SF", min_side=2),
    "MI": Metric(MutualInformation("nats"), _EV + "MI"),
    "SCD": Metric(Scd("255"), _EV + "SCD"),
    "VIF": Metric(Vif(), _EV + "VIFF (compare_viff per source)", min_side=17,
                  flat_sources_nan=True),
    "AG": Metric(on(S.ag_tang, "pixels", "F", per="pixel"), _EV + "AG", min_side=2),
    "CC": Metric(PerImage(R.cc_from_centred, R.centred, "255"), _EV + "CC"),
    "MSE": Metric(on(R.mse, "255"), _EV + "MSE"),
    "PSNR": Metric(Psnr("255", peak=None), _EV + "PSNR"),
    "Qabf": Metric(PerImage(E.qabf_from_edges, E.sobel_strength_angle, "255"), _EV + "Qabf"),
    "SSIM": Metric(on(ST.ssim, "255", form="skimage"), _EV + "SSIM"),
}

PROFILE = Profile(
    "cddfuse",
    "MMIF-CDDFuse utils/Evaluator.py on images read as its image_read_cv2(path, 'GRAY') "
    "(OpenCV BGR2GRAY, rounded half to even): MI in nats (one bin per value), AG mean "
    "over all pixels, VIF = vifp sum on float (their 'VIFF'), PSNR peak max(F), SSIM "
    "scikit-image 0.19 defaults (float32, data_range 2)",
    "Zhaozixiang1228/MMIF-CDDFuse@fd8da1f utils/Evaluator.py", "uint8", METRICS,
    version="2", gray="opencv")
