"""One image channel for the ``vifb`` metrics, with the per-image quantities computed once.

Several VIFB metrics need the same per-image data (histograms, Sobel responses, contrast maps,
spectra). :class:`Channel` computes each on first use and keeps it, so that scoring one fused
image with all 13 metrics, or many fused images against the same sources
(:func:`fusionbench.metrics.vifb.score_vifb_many`), does each piece of work once.

>>> import numpy as np
>>> ch = Channel(np.array([[0.0, 255.0], [255.0, 255.0]]))
>>> ch.hist[0], ch.hist[255], ch.is_constant
(np.float64(1.0), np.float64(3.0), False)
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

from fusionbench.errors import MetricError
from fusionbench.metrics.matlab_ops import conv2_same

__all__ = ["Channel", "as_channel"]

SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
SOBEL_Y = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
QCV_WINDOW = 16
QCV_ALPHA = 5


def _gauss1d(size: int, sigma: float) -> np.ndarray:
    x = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(x * x) / (2.0 * sigma * sigma))
    return g / g.sum()


_SSIM_WIN = _gauss1d(11, 1.5)


def valid_gauss(x: np.ndarray) -> np.ndarray:
    """'valid' correlation with the normalised 11x11 Gaussian (sigma 1.5), done separably."""
    y = ndimage.correlate1d(x, _SSIM_WIN, axis=0, mode="constant")[5:-5]
    return ndimage.correlate1d(y, _SSIM_WIN, axis=1, mode="constant")[:, 5:-5]


def radial_frequency(m: int, n: int, scale_rows: float, scale_cols: float) -> np.ndarray:
    """MATLAB ``freqspace([m n], 'meshgrid')`` (normalised frequencies, DC at index m//2, n//2),
    columns scaled by ``scale_cols`` and rows by ``scale_rows``; returns the radius."""
    fu = (np.arange(n) - n // 2) * (2.0 / n) * scale_cols
    fv = (np.arange(m) - m // 2) * (2.0 / m) * scale_rows
    return np.sqrt(fu[None, :] ** 2 + fv[:, None] ** 2)


def half_spectrum(centred: np.ndarray) -> np.ndarray:
    """A centred (``fftshift``-ed) real, point-symmetric frequency response, re-ordered for
    ``rfft2`` output (unshifted, last axis cut to n//2 + 1)."""
    n = centred.shape[1]
    return np.ascontiguousarray(np.fft.ifftshift(centred)[:, : n // 2 + 1])


def _gauss_unnormalised(sigma: float) -> np.ndarray:
    """The 31x31 kernel exp(-(x^2+y^2)/(2 s^2)) / (2 pi s^2), x, y in -15..15 (not normalised)."""
    x = np.arange(-15, 16, dtype=np.float64)
    g = np.exp(-(x * x) / (2.0 * sigma * sigma)) / np.sqrt(2.0 * np.pi * sigma * sigma)
    return np.outer(g, g)


@lru_cache(maxsize=8)
def _qcb_filters(m: int, n: int) -> tuple[tuple[int, int], np.ndarray, np.ndarray, np.ndarray]:
    """Per image size: padded FFT shape, DoG CSF half-spectrum, spectra of the two Gaussians."""
    r = radial_frequency(m, n, m / 30.0, n / 30.0)
    csf = np.exp(-((r / 15.3870) ** 2)) - 0.7622 * np.exp(-((r / 1.3456) ** 2))
    shape = (sfft.next_fast_len(m + 30, real=True), sfft.next_fast_len(n + 30, real=True))
    g1 = sfft.rfft2(_gauss_unnormalised(2.0), s=shape)
    g2 = sfft.rfft2(_gauss_unnormalised(4.0), s=shape)
    return shape, half_spectrum(csf), g1, g2


@lru_cache(maxsize=8)
def qcv_csf(m: int, n: int) -> np.ndarray:
    """Mannos-Sakrison CSF 2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1), r scaled by (N/8, M/8)."""
    r = radial_frequency(m, n, m / 8.0, n / 8.0)
    return half_spectrum(2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1)))


def block_reduce(x: np.ndarray, op: str) -> np.ndarray:
    """MATLAB ``blkproc(x, [16 16], fun)``: zero-pad to whole 16x16 blocks, sum or mean each."""
    w = QCV_WINDOW
    m, n = x.shape
    padded = np.zeros((-(-m // w) * w, -(-n // w) * w))
    padded[:m, :n] = x
    blocks = padded.reshape(padded.shape[0] // w, w, padded.shape[1] // w, w)
    return blocks.sum(axis=(1, 3)) if op == "sum" else blocks.mean(axis=(1, 3))


class Channel:
    """A 2-D image channel on 0..255 (float64) and its lazily computed derived data."""

    def __init__(self, pixels: np.ndarray) -> None:
        x = np.asarray(pixels, dtype=np.float64)
        if x.ndim != 2 or x.size == 0:
            raise MetricError(f"vifb metrics need a non-empty 2-D image, got shape {x.shape}")
        self.x = x

    @property
    def shape(self) -> tuple[int, int]:
        return self.x.shape  # type: ignore[return-value]

    @cached_property
    def is_constant(self) -> bool:
        return float(self.x.max()) == float(self.x.min())

    # --- histograms (EN, CE) and min-max levels (MI)
    @cached_property
    def levels(self) -> np.ndarray:
        """Integer gray levels floor(x) clipped to 0..255 (int64 bin indices)."""
        return np.clip(np.floor(self.x), 0, 255).astype(np.int64)

    @cached_property
    def hist(self) -> np.ndarray:
        return np.bincount(self.levels.ravel(), minlength=256).astype(np.float64)

    @cached_property
    def mi_levels(self) -> np.ndarray:
        """Min-max normalised to 0..255, rounded half away from zero (MATLAB ``int16``)."""
        lo, hi = float(self.x.min()), float(self.x.max())
        if hi == lo:
            return np.zeros(self.x.shape, np.int64)
        return np.floor((self.x - lo) / (hi - lo) * 255.0 + 0.5).astype(np.int64)

    @cached_property
    def mi_hist(self) -> np.ndarray:
        return np.bincount(self.mi_levels.ravel(), minlength=256).astype(np.float64)

    # --- SSIM
    @cached_property
    def ssim_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Local Gaussian mean and variance ('valid' region)."""
        mean = valid_gauss(self.x)
        return mean, valid_gauss(self.x * self.x) - mean * mean

    # --- Qabf
    @cached_property
    def qabf_strength_angle(self) -> tuple[np.ndarray, np.ndarray]:
        """Sobel strength and angle atan(Sy/Sx) (pi/2 where Sx = 0), MATLAB ``conv2`` 'same'
        in MATLAB's order of additions (it decides the ties Qabf tests on non-integer data)."""
        sx = conv2_same(self.x, SOBEL_X)
        sy = conv2_same(self.x, SOBEL_Y)
        g = np.sqrt(sx * sx + sy * sy)
        with np.errstate(divide="ignore", invalid="ignore"):
            angle = np.where(sx == 0, np.pi / 2, np.arctan(sy / sx))
        return g, angle

    # --- Qcb, Qcv (both on the min-max normalised, rounded image)
    @cached_property
    def norm255(self) -> np.ndarray:
        """Min-max normalised to 0..255 and rounded half away from zero (non-constant input)."""
        lo, hi = float(self.x.min()), float(self.x.max())
        return np.floor((self.x - lo) / (hi - lo) * 255.0 + 0.5)

    @cached_property
    def qcb_weight(self) -> np.ndarray:
        """Chen-Blum saliency weight C^2 of the masked contrast (used for sources)."""
        return self.qcb_contrast * self.qcb_contrast

    @cached_property
    def qcb_contrast(self) -> np.ndarray:
        """DoG CSF filtering, local contrast |G_2 * y / G_4 * y - 1| (31x31 Gaussians, zero-padded
        'same', by FFT as a linear convolution), masked as C^3 / (C^2 + 1e-4)."""
        m, n = self.shape
        shape, half_csf, g1, g2 = _qcb_filters(m, n)
        y = sfft.irfft2(sfft.rfft2(self.norm255) * half_csf, s=(m, n))
        spectrum = sfft.rfft2(y, s=shape)
        near = sfft.irfft2(spectrum * g1, s=shape)[15 : 15 + m, 15 : 15 + n]
        far = sfft.irfft2(spectrum * g2, s=shape)[15 : 15 + m, 15 : 15 + n]
        with np.errstate(divide="ignore", invalid="ignore"):
            c = np.divide(near, far, out=near)
        c -= 1.0
        np.abs(c, out=c)
        c_sq = c * c
        c *= c_sq  # C^3 (k = h = 1, p = 3, q = 2)
        c_sq += 1e-4  # Z
        c /= c_sq
        return c

    @cached_property
    def qcv_saliency(self) -> np.ndarray:
        """Per 16x16 block: sum of (Sobel strength)^5 of the normalised image (``filter2``)."""
        gx = ndimage.correlate(self.norm255, SOBEL_X, mode="constant")
        gy = ndimage.correlate(self.norm255, SOBEL_X.T, mode="constant")
        strength_sq = gx * gx + gy * gy
        # strength^5 = (strength^2)^2 * strength (QCV_ALPHA = 5)
        return block_reduce(strength_sq * strength_sq * np.sqrt(strength_sq), "sum")

    @cached_property
    def qcv_spectrum(self) -> np.ndarray:
        """``rfft2`` of the normalised image (the CSF filter of a difference is linear)."""
        return sfft.rfft2(self.norm255)


def as_channel(x: np.ndarray | Channel) -> Channel:
    """Wrap an array as a :class:`Channel` (a Channel is returned as it is)."""
    return x if isinstance(x, Channel) else Channel(x)
