"""numpy formulation of :mod:`fusionbench.metrics._ssim_kernels` (the MEF-SSIM quality map),
used when numba is missing or cannot compile (see
:func:`fusionbench.metrics._compiled.ssim_kernels`) and by the compiled module for stacks of
other than two sources: the same bits.

The loops of ``mef_ssim.m`` are computed from filtered moments: for each window the structure
vector the original builds is a per-pixel linear combination of the source windows, so its
norm, mean, variance and covariance with F follow from box- and Gaussian-filtered products
(``tests/test_metrics_formulas.py`` checks this against a literal transcription of the loops).

>>> import numpy as np
>>> x = np.arange(16.0 * 16).reshape(16, 16) % 7 * 30
>>> q = mef_quality_map(np.stack([x, x.T]), x)
>>> q.shape, bool(np.all(q <= 1.0))
((6, 6), True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from fusionbench.metrics.structural import _filter, gaussian_window_1d

EPS = float(np.finfo(float).eps)


def mef_quality_map(seq: np.ndarray | Sequence[np.ndarray], f: np.ndarray, *,
                    window: int = 11, k_const: float = 0.03) -> np.ndarray:
    """The MEF-SSIM quality map of ``f`` against the sources ``seq`` (a (k, H, W) stack or k
    images) over the 'valid' pixels (H - window + 1, W - window + 1)."""
    seq = np.stack([np.asarray(s, dtype=np.float64) for s in seq])
    n = window
    k = seq.shape[0]
    box = np.full(n, 1.0 / n)
    gauss = gaussian_window_1d(n, 1.5)

    def bx(x: np.ndarray) -> np.ndarray:
        return _filter(x, box, "valid")

    def gs(x: np.ndarray) -> np.ndarray:
        return _filter(x, gauss, "valid")

    mu = np.stack([bx(s) for s in seq])
    box_sq = np.stack([bx(s * s) for s in seq])
    var = box_sq - mu * mu
    norms = np.sqrt(np.maximum(n * n * var, 0.0))  # ||x_k - mu_k|| over the window
    ed = norms + 0.001
    # consistency R = ||sum_k x_k - mean|| / sum_k ||x_k - mu_k|| over the window
    total = seq.sum(axis=0)
    total_var = bx(total * total) - bx(total) ** 2
    numerator = np.sqrt(np.maximum(n * n * total_var, 0.0))
    denominator = norms.sum(axis=0)
    r = (numerator + EPS) / (denominator + EPS)
    r[r > 1] = 1 - EPS
    r[r < 0] = EPS
    p = np.minimum(np.tan(math.pi / 2 * r), 10.0)
    w = (ed / n) ** p + EPS
    w /= w.sum(axis=0)
    max_ed = ed.max(axis=0)
    # structure vector r = s * (sum_k alpha_k x_k - beta), alpha_k = w_k / ed_k, scaled to
    # norm max_ed: its moments follow from the sources' cross moments.
    alpha = w / ed
    g_mu = np.stack([gs(s) for s in seq])
    g_f = gs(f)
    box_var = np.zeros_like(max_ed)
    g_var = np.zeros_like(max_ed)
    g_cov_f = np.zeros_like(max_ed)
    cross: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}  # (i, j) = (j, i) exactly
    for i in range(k):
        g_cov_f += alpha[i] * (gs(seq[i] * f) - g_mu[i] * g_f)
        for j in range(k):
            if i == j:
                b_ij = var[i]
                g_ij = gs(seq[i] * seq[i]) - g_mu[i] * g_mu[i]
            elif (j, i) in cross:
                b_ij, g_ij = cross[j, i]
            else:
                b_ij = bx(seq[i] * seq[j]) - mu[i] * mu[j]
                g_ij = gs(seq[i] * seq[j]) - g_mu[i] * g_mu[j]
                cross[i, j] = b_ij, g_ij
            box_var += alpha[i] * alpha[j] * b_ij
            g_var += alpha[i] * alpha[j] * g_ij
    norm = np.sqrt(np.maximum(n * n * box_var, 0.0))
    scale = np.where(norm > 0, max_ed / np.where(norm > 0, norm, 1.0), 1.0)
    sigma1_sq = scale * scale * g_var
    sigma2_sq = gs(f * f) - g_f * g_f
    sigma12 = scale * g_cov_f
    c = (k_const * 255) ** 2
    return (2 * sigma12 + c) / (sigma1_sq + sigma2_sq + c)


def downsample_2x2(x: np.ndarray, out: np.ndarray) -> None:
    """``out`` (ceil(H/2), ceil(W/2)) = the 2 x 2 means of ``x`` (H, W) at even offsets,
    ``(((x[2i, 2j] + x[2i+1, 2j]) + x[2i, 2j+1]) + x[2i+1, 2j+1]) / 4``, an odd side's last
    mean reading its edge twice (MATLAB ``imfilter(..., 'symmetric')``)."""
    rows, cols = x.shape
    if rows % 2 or cols % 2:
        x = np.pad(x, ((0, rows % 2), (0, cols % 2)), mode="symmetric")
    top, bottom = x[0::2], x[1::2]
    out[...] = (top[:, 0::2] + bottom[:, 0::2] + top[:, 1::2] + bottom[:, 1::2]) / 4.0
