"""Guided filtering fusion, GFF (S. Li, X. Kang, J. Hu, IEEE TIP 22(7), 2013).

1. Two-scale decomposition: base ``B = mean_31x31(x)`` (replicated border), detail ``D = x - B``.
2. Saliency: ``|Laplacian(x)|`` (3x3, replicated border) smoothed by an 11x11 Gaussian, sigma 5.
3. Initial weights: per pixel 1 for the source with the larger saliency (ties go to ``a``).
4. Refinement: guided filter of each weight map with its own source as guide,
   ``(r1, eps1)`` for the base weights and ``(r2, eps2)`` for the detail weights; weights are
   clipped to [0, 1] and normalised to sum to 1.
5. ``F = sum(Wb * B) + sum(Wd * D)``, clipped to [0, 1] (base and detail weights differ, so
   F can overshoot slightly; the reference code clips too, by converting to uint8).

Fusing an image with itself returns it (up to ~1e-12: the normalisation adds 1e-12 to each weight).

>>> import numpy as np
>>> x = np.random.default_rng(0).random((20, 23))
>>> bool(np.allclose(gff_fuse(x, x), x, atol=1e-9))
True
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d, laplace, uniform_filter

from fusionbench.errors import MethodError

from ._common import check_pair, guided_filter


def _gaussian_kernel(radius: int, sigma: float) -> np.ndarray:
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-(t * t) / (2.0 * sigma * sigma))
    return k / k.sum()


def saliency(x: np.ndarray, radius: int = 5, sigma: float = 5.0) -> np.ndarray:
    """Gaussian-smoothed absolute Laplacian (replicated borders)."""
    k = _gaussian_kernel(radius, sigma)
    h = np.abs(laplace(x, mode="nearest"))
    return correlate1d(correlate1d(h, k, axis=0, mode="nearest"), k, axis=1, mode="nearest")


def _refine(sources: list[np.ndarray], masks: list[np.ndarray], r: int, eps: float) -> list:
    weights = [np.clip(guided_filter(s, m, r, eps), 0.0, 1.0) + 1e-12
               for s, m in zip(sources, masks, strict=True)]
    total = sum(weights)
    return [w / total for w in weights]


def gff_fuse(
    a: np.ndarray,
    b: np.ndarray,
    r1: int = 45,
    eps1: float = 0.3,
    r2: int = 7,
    eps2: float = 1e-6,
    base_size: int = 31,
) -> np.ndarray:
    """Fuse two gray images with GFF (defaults: the paper's r1=45, eps1=0.3, r2=7, eps2=1e-6)."""
    x, y = check_pair(a, b, "gff")
    for name, val in (("r1", r1), ("r2", r2), ("base_size", base_size)):
        if int(val) != val or val < 1:
            raise MethodError(f"gff: {name} must be a positive integer, got {val!r}")
    for name, val in (("eps1", eps1), ("eps2", eps2)):
        if not val > 0:
            raise MethodError(f"gff: {name} must be > 0, got {val!r}")
    sources = [x, y]
    sal_x, sal_y = saliency(x), saliency(y)
    mask_x = (sal_x >= sal_y).astype(np.float64)
    masks = [mask_x, 1.0 - mask_x]
    w_base = _refine(sources, masks, int(r1), float(eps1))
    w_detail = _refine(sources, masks, int(r2), float(eps2))
    fused = np.zeros_like(x)
    for s, wb, wd in zip(sources, w_base, w_detail, strict=True):
        base = uniform_filter(s, size=int(base_size), mode="nearest")
        fused += wb * base + wd * (s - base)
    return np.clip(fused, 0.0, 1.0)
