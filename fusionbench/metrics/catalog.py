"""What each metric measures, which way is better, and its range.

This module is import-light (no numpy) so that the CLI and reports can describe metrics
without loading any implementation.

>>> METRICS["SD"].higher_is_better
True
>>> METRICS["Qcv"].higher_is_better
False
>>> [m for m, info in METRICS.items() if not info.reads_sources]
['EN', 'SD', 'AG', 'SF', 'EI']
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    """Description of one metric (independent of the convention it is computed under).

    ``higher_is_better`` is the direction the report ranks by; ``bounds`` (low, high) is the
    range every convention's value lies in (``None``: unbounded on that side), checked by
    ``tests/test_metrics_catalog.py`` on every profile; ``value_range`` says it in words.
    ``reads_sources``: False for a metric of the fused image alone (the engine then neither
    needs nor checks the sources).
    """

    name: str
    title: str
    measures: str
    higher_is_better: bool
    value_range: str
    bounds: tuple[float | None, float | None] = (None, None)
    reads_sources: bool = True


_INF = None
_ALL = [
    MetricInfo("EN", "Entropy", "information content of the fused image (256-bin histogram)",
               True, "0..8 bits", (0.0, 8.0), reads_sources=False),
    MetricInfo("MI", "Mutual information", "MI(A,F) + MI(B,F): information carried over",
               True, "0..16 bits (tang*), nats (vifb, cddfuse)", (0.0, 16.0)),
    MetricInfo("VIF", "Visual information fidelity (Sheikh-Bovik vifp, summed over sources)",
               "information fidelity of F to each source, summed", True,
               ">= 0, sum of two ratios", (0.0, _INF)),
    MetricInfo("SD", "Standard deviation", "contrast of the fused image", True,
               "0..15.97 (tang2022), 0..127.5 otherwise", (0.0, 127.5), reads_sources=False),
    MetricInfo("AG", "Average gradient", "sharpness / detail of the fused image", True,
               ">= 0 (0..255 scale)", (0.0, _INF), reads_sources=False),
    MetricInfo("SF", "Spatial frequency", "overall activity of the fused image", True,
               ">= 0 ([0,1] scale for tang2022, 0..255 otherwise)", (0.0, _INF),
               reads_sources=False),
    MetricInfo("CE", "Cross entropy", "mean histogram divergence from the sources", False,
               "bits; VIFB skips bins empty in either image, so it can be < 0", (_INF, _INF)),
    MetricInfo("EI", "Edge intensity", "mean Sobel gradient magnitude of F", True, ">= 0",
               (0.0, _INF), reads_sources=False),
    MetricInfo("PSNR", "Peak signal-to-noise ratio (each convention's peak and MSE)",
               "closeness to the sources", True, "dB (Tang: ~48 dB above the usual value)",
               (_INF, _INF)),
    MetricInfo("MSE", "Mean squared error, mean over the two sources",
               "distance to the sources", False, ">= 0 ([0,1] scale for tang*, 0..255 cddfuse)",
               (0.0, _INF)),
    MetricInfo("RMSE", "Root mean squared error (VIFB form)", "distance to the sources", False,
               ">= 0", (0.0, _INF)),
    MetricInfo("CC", "Correlation coefficient, mean of corr(A,F) and corr(B,F)",
               "linear correlation with the sources", True, "-1..1", (-1.0, 1.0)),
    MetricInfo("SCD", "Sum of the correlations of differences (Aslantas-Bendes)",
               "corr(F-B, A) + corr(F-A, B): complementary information carried over", True,
               "-2..2", (-2.0, 2.0)),
    MetricInfo("SSIM", "Structural similarity (the convention's form: sum, mean or MEF-SSIM)",
               "structure preserved from the sources", True,
               "-2..2 (sums), -1..1 (mean, MEF-SSIM)", (-2.0, 2.0)),
    MetricInfo("MS_SSIM", "Multi-scale MEF-SSIM (Ma et al., 3 scales)",
               "structure preserved from the sources at 3 scales", True, "0..1", (0.0, 1.0)),
    MetricInfo("Qabf", "Xydeas-Petrovic edge preservation", "edge information transferred",
               True, "0..1", (0.0, 1.0)),
    MetricInfo("Nabf", "Fusion artefacts (Petrovic, modified by Shreyamsha Kumar)",
               "edge strength F adds that neither source has", False, "0..1", (0.0, 1.0)),
    MetricInfo("FMI_pixel", "Feature mutual information on edge maps (Tang's FMI_pixel)",
               "normalised MI of 3x3 windows of the MATLAB Sobel edge maps", True, "0..1",
               (0.0, 1.0)),
    MetricInfo("FMI_dct", "Feature mutual information on the DCT", "normalised MI of 3x3 "
               "windows of dct2 coefficients", True, "0..1", (0.0, 1.0)),
    MetricInfo("FMI_w", "Feature mutual information on wavelet coefficients",
               "normalised MI of 3x3 windows of one dmey dwt2 level", True, "0..1", (0.0, 1.0)),
    MetricInfo("Qcb", "Chen-Blum perceptual quality", "contrast preservation (human vision model)",
               True, "0..1", (0.0, 1.0)),
    MetricInfo("Qcv", "Chen-Varshney quality", "weighted local distortion", False, ">= 0",
               (0.0, _INF)),
    MetricInfo("VIFF", "Han et al. 2013 visual information fidelity for fusion",
               "multi-scale information fidelity with per-pixel best source", True,
               "mostly 0..1", (0.0, _INF)),
]

METRICS: dict[str, MetricInfo] = {m.name: m for m in _ALL}

#: The six metrics of the CLF-Net paper, in its column order.
PAPER_METRICS: tuple[str, ...] = ("EN", "MI", "VIF", "SD", "AG", "SF")


def metric_info(name: str) -> MetricInfo:
    """Look a metric up by name (case-insensitive).

    >>> metric_info("en").title
    'Entropy'
    """
    for key, info in METRICS.items():
        if key.lower() == name.lower():
            return info
    raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}")
