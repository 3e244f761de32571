"""VIFB's structural and perceptual fusion-quality metrics on one 2-D channel (SSIM, Qabf, Qcb,
Qcv).

Every function takes ``(F, A, B)``: 2-D float64 arrays on 0..255 (or
:class:`~fusionbench.metrics.vifb_channel.Channel` objects), ``A`` the first source (infrared),
``B`` the second (visible). Re-implemented from the published metric definitions and calibrated
against VIFB's per-image values (xingchenzhang/VIFB@22b2ea9); the exact variant of each is
described in ``CONVENTIONS.md`` (section ``vifb``).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.integers(0, 256, (2, 32, 32)).astype(float)
>>> round(vifb_ssim(a, a, a), 12), bool(vifb_qabf(a, a, b) > 0.0)
(2.0, True)
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sfft

from fusionbench.metrics.vifb_basic import nan_with_warning
from fusionbench.metrics.vifb_channel import (
    Channel,
    as_channel,
    block_reduce,
    qcv_csf,
    valid_gauss,
)

__all__ = ["vifb_qabf", "vifb_qcb", "vifb_qcv", "vifb_ssim"]

Image = np.ndarray | Channel


def _checked(metric: str, value: float) -> float:
    if not np.isfinite(value):
        return nan_with_warning(metric, "the formula is undefined for these images")
    return float(value)


# --------------------------------------------------------------------------------------- SSIM
def _ssim_pair(src: Channel, f: Channel) -> float:
    c1, c2 = (0.01 * 255.0) ** 2, (0.03 * 255.0) ** 2
    ms, sss = src.ssim_stats
    mf, sff = f.ssim_stats
    mean_prod = ms * mf
    cov = valid_gauss(src.x * f.x)
    cov -= mean_prod
    # ((2 ms mf + C1)(2 cov + C2)) / ((ms^2 + mf^2 + C1)(var_s + var_f + C2)), in place
    cov *= 2.0
    cov += c2
    mean_prod *= 2.0
    mean_prod += c1
    cov *= mean_prod
    den = ms * ms
    den += mf * mf
    den += c1
    var_sum = sss + sff
    var_sum += c2
    den *= var_sum
    cov /= den
    return float(cov.mean())


def vifb_ssim(f: Image, a: Image, b: Image) -> float:
    """SSIM(B,F) + SSIM(A,F): Wang et al. 2004, 11x11 Gaussian window (sigma 1.5), 'valid'
    region, K = (0.01, 0.03), L = 255, mean of the SSIM map; no down-sampling. Up to 2.

    >>> import numpy as np
    >>> x = np.arange(144.0).reshape(12, 12)
    >>> vifb_ssim(x, x, x)
    2.0
    """
    f = as_channel(f)
    if min(f.shape) < 11:
        return nan_with_warning("SSIM", f"image of size {f.shape} is smaller than the 11x11 window")
    return _ssim_pair(as_channel(b), f) + _ssim_pair(as_channel(a), f)


# --------------------------------------------------------------------------------------- Qabf
def _edge_preservation(src: Channel, f: Channel) -> np.ndarray:
    """Q^{SF}(n, m) * g_S(n, m): edge strength and orientation preservation, weighted."""
    g_s, a_s = src.qabf_strength_angle
    g_f, a_f = f.qabf_strength_angle
    # Relative strength min/max as in the widely used Qabf code, except that where the two
    # strengths are exactly equal it takes the strength itself (not 1): VIFB's values need this.
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.minimum(g_s, g_f)
        rel /= np.maximum(g_s, g_f)
    equal = g_s == g_f
    rel[equal] = g_f[equal]
    # Tg / (1 + exp(kg (rel - Dg))), kg = -15, Dg = 0.5
    rel -= 0.5
    rel *= -15.0
    q_g = np.exp(rel, out=rel)
    q_g += 1.0
    # Ta / (1 + exp(ka (1 - |a_s - a_f| / (pi/2) - Da))), ka = -22, Da = 0.8
    orient = np.subtract(a_s, a_f)
    np.abs(orient, out=orient)
    orient *= -1.0 / (np.pi / 2)
    orient += 1.0 - 0.8
    orient *= -22.0
    q_a = np.exp(orient, out=orient)
    q_a += 1.0
    q_a *= q_g
    return (0.9994 * 0.9879) * g_s / q_a


def vifb_qabf(f: Image, a: Image, b: Image) -> float:
    """Xydeas-Petrovic Qabf on 0..255 with 3x3 Sobel ('same', zero padded), edge-strength
    weights (L = 1), Tg 0.9994, kg -15, Dg 0.5, Ta 0.9879, ka -22, Da 0.8. 0..1.

    >>> import numpy as np
    >>> x = np.zeros((8, 8)); x[:, 4:] = 200.0
    >>> 0.0 < vifb_qabf(x, x, np.zeros((8, 8))) <= 1.0
    True
    """
    f, a, b = as_channel(f), as_channel(a), as_channel(b)
    den = float(np.sum(a.qabf_strength_angle[0]) + np.sum(b.qabf_strength_angle[0]))
    if den == 0.0:
        return nan_with_warning("Qabf", "both sources have no edges (zero Sobel response)")
    num = float(np.sum(_edge_preservation(a, f)) + np.sum(_edge_preservation(b, f)))
    return _checked("Qabf", num / den)


# ---------------------------------------------------------------------------------------- Qcb
def vifb_qcb(f: Image, a: Image, b: Image) -> float:
    """Chen-Blum quality: each image min-max normalised to rounded 0..255; DoG contrast
    sensitivity filter exp(-(r/15.3870)^2) - 0.7622 exp(-(r/1.3456)^2) with r on the
    ``freqspace`` grid scaled by (N/30, M/30); local contrast |G2 * I / G4 * I - 1| with 31x31
    Gaussians (sigma 2 and 4, zero-padded 'same'); masked C^3 / (C^2 + 1e-4); per-pixel
    preservation min/max ratio, saliency weights C_s^2 / sum; mean of the map. 0..1.

    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.integers(0, 256, (2, 40, 40)).astype(float)
    >>> round(vifb_qcb(a, a, a), 12)
    1.0
    """
    f, a, b = as_channel(f), as_channel(a), as_channel(b)
    if f.is_constant or a.is_constant or b.is_constant:
        return nan_with_warning("Qcb", "an input image is constant")
    c_f = f.qcb_contrast
    with np.errstate(divide="ignore", invalid="ignore"):
        # preservation min(C_s, C_f) / max(C_s, C_f), weighted by C_s^2 / (C_a^2 + C_b^2)
        total = np.zeros(c_f.shape)
        for src in (a, b):
            q = np.minimum(src.qcb_contrast, c_f)
            q /= np.maximum(src.qcb_contrast, c_f)
            q *= src.qcb_weight
            total += q
        total /= a.qcb_weight + b.qcb_weight
    return _checked("Qcb", float(np.mean(total)))


# ---------------------------------------------------------------------------------------- Qcv
def vifb_qcv(f: Image, a: Image, b: Image) -> float:
    """Chen-Varshney quality (lower is better): images min-max normalised to rounded 0..255;
    saliency of each 16x16 block (zero-padded) = sum of Sobel strength^5 of the source;
    distortion = mean square of (source - F) filtered by the Mannos-Sakrison CSF
    2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1), r on ``freqspace`` scaled by (N/8, M/8);
    result sum(saliency * distortion) / sum(saliency) over both sources.

    >>> import numpy as np
    >>> rng = np.random.default_rng(2)
    >>> a, b = rng.integers(0, 256, (2, 20, 20)).astype(float)
    >>> vifb_qcv(a, a, a)
    0.0
    """
    f, a, b = as_channel(f), as_channel(a), as_channel(b)
    if f.is_constant or a.is_constant or b.is_constant:
        return nan_with_warning("Qcv", "an input image is constant")
    half_csf = qcv_csf(*f.shape)
    num = 0.0
    den = 0.0
    for src in (a, b):
        diff = sfft.irfft2((src.qcv_spectrum - f.qcv_spectrum) * half_csf, s=f.shape)
        num += float(np.sum(src.qcv_saliency * block_reduce(diff * diff, "mean")))
        den += float(np.sum(src.qcv_saliency))
    if den == 0.0:
        return nan_with_warning("Qcv", "both sources have no edges (zero Sobel response)")
    return _checked("Qcv", num / den)
