"""VIFB's structural and perceptual fusion-quality metrics on one 2-D channel (SSIM, Qabf, Qcb,
Qcv).

Every function takes ``(F, A, B)``: 2-D float64 arrays on 0..255, ``A`` the first source
(infrared), ``B`` the second (visible). Re-implemented from the published metric definitions
and calibrated against VIFB's per-image values (xingchenzhang/VIFB@22b2ea9); the exact variant
of each is described in ``CONVENTIONS.md`` (section ``vifb``).

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> a, b = rng.integers(0, 256, (2, 32, 32)).astype(float)
>>> round(vifb_ssim(a, a, a), 12), round(vifb_qabf(a, a, b) > 0.0, 1)
(2.0, True)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from fusionbench.metrics.vifb_basic import nan_with_warning

__all__ = ["vifb_qabf", "vifb_qcb", "vifb_qcv", "vifb_ssim"]


def _is_constant(*images: np.ndarray) -> bool:
    return any(float(x.max()) == float(x.min()) for x in images)


def _checked(metric: str, value: float) -> float:
    if not np.isfinite(value):
        return nan_with_warning(metric, "the formula is undefined for these images")
    return float(value)


# --------------------------------------------------------------------------------------- SSIM
def _gauss1d(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


_SSIM_WIN = _gauss1d(11, 1.5)


def _valid_gauss(x: np.ndarray) -> np.ndarray:
    """'valid' correlation with the normalised 11x11 Gaussian (sigma 1.5), done separably."""
    y = ndimage.correlate1d(x, _SSIM_WIN, axis=0, mode="constant")[5:-5]
    return ndimage.correlate1d(y, _SSIM_WIN, axis=1, mode="constant")[:, 5:-5]


def _ssim_pair(x: np.ndarray, y: np.ndarray) -> float:
    c1, c2 = (0.01 * 255.0) ** 2, (0.03 * 255.0) ** 2
    mx, my = _valid_gauss(x), _valid_gauss(y)
    sxx = _valid_gauss(x * x) - mx * mx
    syy = _valid_gauss(y * y) - my * my
    sxy = _valid_gauss(x * y) - mx * my
    ssim_map = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
    return float(ssim_map.mean())


def vifb_ssim(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """SSIM(B,F) + SSIM(A,F): Wang et al. 2004, 11x11 Gaussian window (sigma 1.5), 'valid'
    region, K = (0.01, 0.03), L = 255, mean of the SSIM map; no down-sampling. Up to 2.

    >>> import numpy as np
    >>> x = np.arange(144.0).reshape(12, 12)
    >>> vifb_ssim(x, x, x)
    2.0
    """
    if min(f.shape) < 11:
        return nan_with_warning("SSIM", f"image of size {f.shape} is smaller than the 11x11 window")
    return _ssim_pair(b, f) + _ssim_pair(a, f)


# --------------------------------------------------------------------------------------- Qabf
_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_SOBEL_Y = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])


def _sobel_same(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """MATLAB ``conv2(x, kernel, 'same')`` (zero padding; convolution = flipped correlation)."""
    return ndimage.correlate(x, kernel[::-1, ::-1], mode="constant")


def _strength_angle(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sx = _sobel_same(x, _SOBEL_X)
    sy = _sobel_same(x, _SOBEL_Y)
    g = np.sqrt(sx * sx + sy * sy)
    with np.errstate(divide="ignore", invalid="ignore"):
        angle = np.where(sx == 0, np.pi / 2, np.arctan(sy / sx))
    return g, angle


def _edge_preservation(g_s, a_s, g_f, a_f) -> np.ndarray:
    # Relative strength as in the widely used Qabf code: where the two strengths are exactly
    # equal it takes the strength itself (not 1); VIFB's values need this quirk.
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(g_s > g_f, g_f / g_s, np.where(g_s == g_f, g_f, g_s / g_f))
    orient = 1.0 - np.abs(a_s - a_f) / (np.pi / 2)
    q_g = 0.9994 / (1.0 + np.exp(-15.0 * (rel - 0.5)))
    q_a = 0.9879 / (1.0 + np.exp(-22.0 * (orient - 0.8)))
    return q_g * q_a


def vifb_qabf(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Xydeas-Petrovic Qabf on 0..255 with 3x3 Sobel ('same', zero padded), edge-strength
    weights (L = 1), Tg 0.9994, kg -15, Dg 0.5, Ta 0.9879, ka -22, Da 0.8. 0..1.

    >>> import numpy as np
    >>> x = np.zeros((8, 8)); x[:, 4:] = 200.0
    >>> 0.0 < vifb_qabf(x, x, np.zeros((8, 8))) <= 1.0
    True
    """
    g_a, a_a = _strength_angle(a)
    g_b, a_b = _strength_angle(b)
    g_f, a_f = _strength_angle(f)
    den = float(np.sum(g_a + g_b))
    if den == 0.0:
        return nan_with_warning("Qabf", "both sources have no edges (zero Sobel response)")
    q_af = _edge_preservation(g_a, a_a, g_f, a_f)
    q_bf = _edge_preservation(g_b, a_b, g_f, a_f)
    return _checked("Qabf", float(np.sum(q_af * g_a + q_bf * g_b)) / den)


# ------------------------------------------------------------------------- shared by Qcb, Qcv
def _normalize255(x: np.ndarray) -> np.ndarray:
    """Min-max normalise to 0..255 and round half away from zero (non-constant input)."""
    lo, hi = float(x.min()), float(x.max())
    return np.floor((x - lo) / (hi - lo) * 255.0 + 0.5)


def _radial_frequency(m: int, n: int, scale_rows: float, scale_cols: float) -> np.ndarray:
    """MATLAB ``freqspace([m n], 'meshgrid')`` (normalised frequencies, DC at index m//2, n//2),
    columns scaled by ``scale_cols`` and rows by ``scale_rows``; returns the radius."""
    fu = (np.arange(n) - n // 2) * (2.0 / n) * scale_cols
    fv = (np.arange(m) - m // 2) * (2.0 / m) * scale_rows
    return np.sqrt(fu[None, :] ** 2 + fv[:, None] ** 2)


def _csf_filter(x: np.ndarray, csf: np.ndarray) -> np.ndarray:
    """Filter ``x`` with a centred frequency response ``csf`` (real part of the result)."""
    spectrum = np.fft.fftshift(np.fft.fft2(x)) * csf
    return np.fft.ifft2(np.fft.ifftshift(spectrum)).real


# ---------------------------------------------------------------------------------------- Qcb
def _gauss_unnormalised(sigma: float) -> np.ndarray:
    """1-D factor of the 31x31 kernel exp(-(x^2+y^2)/(2 s^2)) / (2 pi s^2), x, y in -15..15."""
    x = np.arange(-15, 16, dtype=np.float64)
    return np.exp(-(x * x) / (2.0 * sigma * sigma)) / np.sqrt(2.0 * np.pi * sigma * sigma)


_QCB_G1 = _gauss_unnormalised(2.0)
_QCB_G2 = _gauss_unnormalised(4.0)


def _same_sep(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    y = ndimage.correlate1d(x, g, axis=0, mode="constant")
    return ndimage.correlate1d(y, g, axis=1, mode="constant")


def _masked_contrast(x: np.ndarray, csf: np.ndarray) -> np.ndarray:
    y = _csf_filter(x, csf)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.abs(_same_sep(y, _QCB_G1) / _same_sep(y, _QCB_G2) - 1.0)
    return c**3 / (c**2 + 1e-4)


def vifb_qcb(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
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
    if _is_constant(f, a, b):
        return nan_with_warning("Qcb", "an input image is constant")
    f, a, b = _normalize255(f), _normalize255(a), _normalize255(b)
    m, n = f.shape
    r = _radial_frequency(m, n, m / 30.0, n / 30.0)
    csf = np.exp(-((r / 15.3870) ** 2)) - 0.7622 * np.exp(-((r / 1.3456) ** 2))
    c_a, c_b, c_f = (_masked_contrast(x, csf) for x in (a, b, f))
    with np.errstate(divide="ignore", invalid="ignore"):
        q_af = np.where(c_a < c_f, c_a / c_f, c_f / c_a)
        q_bf = np.where(c_b < c_f, c_b / c_f, c_f / c_b)
        total = c_a * c_a + c_b * c_b
        quality = (c_a * c_a * q_af + c_b * c_b * q_bf) / total
    return _checked("Qcb", float(np.mean(quality)))


# ---------------------------------------------------------------------------------------- Qcv
_QCV_WINDOW = 16
_QCV_ALPHA = 5


def _block_reduce(x: np.ndarray, op: str) -> np.ndarray:
    """MATLAB ``blkproc(x, [16 16], fun)``: zero-pad to whole 16x16 blocks, reduce each."""
    w = _QCV_WINDOW
    m, n = x.shape
    padded = np.zeros((-(-m // w) * w, -(-n // w) * w))
    padded[:m, :n] = x
    blocks = padded.reshape(padded.shape[0] // w, w, padded.shape[1] // w, w)
    return blocks.sum(axis=(1, 3)) if op == "sum" else blocks.mean(axis=(1, 3))


def _sobel_strength_corr(x: np.ndarray) -> np.ndarray:
    gx = ndimage.correlate(x, _SOBEL_X, mode="constant")
    gy = ndimage.correlate(x, _SOBEL_X.T, mode="constant")
    return np.sqrt(gx * gx + gy * gy)


def vifb_qcv(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
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
    if _is_constant(f, a, b):
        return nan_with_warning("Qcv", "an input image is constant")
    f, a, b = _normalize255(f), _normalize255(a), _normalize255(b)
    m, n = f.shape
    sal_a = _block_reduce(_sobel_strength_corr(a) ** _QCV_ALPHA, "sum")
    sal_b = _block_reduce(_sobel_strength_corr(b) ** _QCV_ALPHA, "sum")
    r = _radial_frequency(m, n, m / 8.0, n / 8.0)
    csf = 2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1))
    dist_a = _block_reduce(_csf_filter(a - f, csf) ** 2, "mean")
    dist_b = _block_reduce(_csf_filter(b - f, csf) ** 2, "mean")
    den = float(np.sum(sal_a + sal_b))
    if den == 0.0:
        return nan_with_warning("Qcv", "both sources have no edges (zero Sobel response)")
    return _checked("Qcv", float(np.sum(sal_a * dist_a + sal_b * dist_b)) / den)
