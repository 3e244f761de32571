"""What each metric measures, which way is better, and its range.

This module is import-light (no numpy) so that the CLI and reports can describe metrics
without loading any implementation.

>>> METRICS["SD"].higher_is_better
True
>>> METRICS["Qcv"].higher_is_better
False
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricInfo:
    """Description of one metric (independent of the convention it is computed under)."""

    name: str
    title: str
    measures: str
    higher_is_better: bool
    value_range: str


_ALL = [
    MetricInfo("EN", "Entropy", "information content of the fused image (256-bin histogram)",
               True, "0..8 bits"),
    MetricInfo("MI", "Mutual information", "MI(A,F) + MI(B,F): information carried over",
               True, "0..16 bits (tang*), nats (vifb)"),
    MetricInfo("VIF", "Visual information fidelity (Sheikh-Bovik vifp, summed over sources)",
               "information fidelity of F to each source, summed", True,
               ">= 0, sum of two ratios"),
    MetricInfo("SD", "Standard deviation", "contrast of the fused image", True,
               "0..15.97 (tang2022), 0..127.5 otherwise"),
    MetricInfo("AG", "Average gradient", "sharpness / detail of the fused image", True,
               ">= 0 (0..255 scale)"),
    MetricInfo("SF", "Spatial frequency", "overall activity of the fused image", True,
               ">= 0 ([0,1] scale for tang2022, 0..255 otherwise)"),
    MetricInfo("CE", "Cross entropy", "mean histogram divergence from the sources", False,
               ">= 0 bits"),
    MetricInfo("EI", "Edge intensity", "mean Sobel gradient magnitude of F", True, ">= 0"),
    MetricInfo("PSNR", "Peak signal-to-noise ratio (VIFB form)", "closeness to the sources",
               True, "dB"),
    MetricInfo("RMSE", "Root mean squared error (VIFB form)", "distance to the sources", False,
               ">= 0"),
    MetricInfo("SSIM", "Structural similarity, SSIM(A,F) + SSIM(B,F)",
               "structure preserved from the sources", True, "-2..2"),
    MetricInfo("Qabf", "Xydeas-Petrovic edge preservation", "edge information transferred",
               True, "0..1"),
    MetricInfo("Qcb", "Chen-Blum perceptual quality", "contrast preservation (human vision model)",
               True, "0..1"),
    MetricInfo("Qcv", "Chen-Varshney quality", "weighted local distortion", False, ">= 0"),
    MetricInfo("VIFF", "Han et al. 2013 visual information fidelity for fusion",
               "multi-scale information fidelity with per-pixel best source", True,
               "mostly 0..1"),
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
