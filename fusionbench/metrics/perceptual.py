"""Perceptual fusion-quality metrics of VIFB (``metricsQcb.m``, ``metricsQcv.m``): Chen-Blum
(Qcb) and Chen-Varshney (Qcv), on 2-D float arrays on 0..255.

Both first min-max normalise every image to 0..255 and round it
(:func:`~fusionbench.metrics.histogram.minmax_levels`), then filter it with a contrast
sensitivity function on MATLAB's ``freqspace`` grid (by FFT). Constant images give NaN with a
warning (the normalisation is 0/0).

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> a, b = rng.integers(0, 256, (2, 40, 40)).astype(float)
>>> round(qcb(a, a, a), 12), qcv(a, a, a)
(1.0, 0.0)
"""

from __future__ import annotations

from functools import cached_property, lru_cache

import numpy as np
from scipy import fft as sfft
from scipy import ndimage

from fusionbench.metrics._undefined import undefined
from fusionbench.metrics.histogram import minmax_levels
from fusionbench.metrics.matlab_ops import SOBEL_X

#: Qcv's block size (``blkproc`` window) and the exponent of its saliency.
QCV_WINDOW = 16
QCV_ALPHA = 5


def radial_frequency(m: int, n: int, scale_rows: float, scale_cols: float) -> np.ndarray:
    """MATLAB ``freqspace([m n], 'meshgrid')`` (normalised frequencies, DC at index m//2, n//2),
    columns scaled by ``scale_cols`` and rows by ``scale_rows``; returns the radius.

    >>> radial_frequency(2, 2, 1.0, 1.0).tolist()
    [[1.4142135623730951, 1.0], [1.0, 0.0]]
    """
    fu = (np.arange(n) - n // 2) * (2.0 / n) * scale_cols
    fv = (np.arange(m) - m // 2) * (2.0 / m) * scale_rows
    return np.sqrt(fu[None, :] ** 2 + fv[:, None] ** 2)


def half_spectrum(centred: np.ndarray) -> np.ndarray:
    """A centred (``fftshift``-ed) real, point-symmetric frequency response, re-ordered for
    ``rfft2`` output (unshifted, last axis cut to n//2 + 1).

    >>> half_spectrum(np.arange(4.0).reshape(2, 2)).tolist()
    [[3.0, 2.0], [1.0, 0.0]]
    """
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
    """Mannos-Sakrison CSF 2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1), r scaled by (N/8, M/8),
    as an ``rfft2`` half-spectrum."""
    r = radial_frequency(m, n, m / 8.0, n / 8.0)
    return half_spectrum(2.6 * (0.0192 + 0.144 * r) * np.exp(-((0.144 * r) ** 1.1)))


def block_reduce(x: np.ndarray, op: str) -> np.ndarray:
    """MATLAB ``blkproc(x, [16 16], fun)``: zero-pad to whole 16x16 blocks, ``"sum"`` or
    ``"mean"`` each.

    >>> block_reduce(np.ones((17, 3)), "sum").tolist()
    [[48.0], [3.0]]
    """
    w = QCV_WINDOW
    m, n = x.shape
    padded = np.zeros((-(-m // w) * w, -(-n // w) * w))
    padded[:m, :n] = x
    blocks = padded.reshape(padded.shape[0] // w, w, padded.shape[1] // w, w)
    return blocks.sum(axis=(1, 3)) if op == "sum" else blocks.mean(axis=(1, 3))


def qcb_contrast(x: np.ndarray) -> np.ndarray | None:
    """Chen-Blum masked contrast of one image (None for a constant image): DoG CSF filtering of
    :func:`minmax_levels`, local contrast |G_2 * y / G_4 * y - 1| (31x31 Gaussians,
    zero-padded 'same', by FFT as a linear convolution), masked as C^3 / (C^2 + 1e-4)
    (k = h = 1, p = 3, q = 2)."""
    if float(x.max()) == float(x.min()):
        return None
    m, n = x.shape
    shape, half_csf, g1, g2 = _qcb_filters(m, n)
    y = sfft.irfft2(sfft.rfft2(minmax_levels(x)) * half_csf, s=(m, n))
    spectrum = sfft.rfft2(y, s=shape)
    near = sfft.irfft2(spectrum * g1, s=shape)[15 : 15 + m, 15 : 15 + n]
    far = sfft.irfft2(spectrum * g2, s=shape)[15 : 15 + m, 15 : 15 + n]
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.divide(near, far, out=near)
    c -= 1.0
    np.abs(c, out=c)
    c_sq = c * c
    c *= c_sq  # C^3
    c_sq += 1e-4  # Z
    c /= c_sq
    return c


def qcb_from_contrasts(c_f: np.ndarray | None, c_a: np.ndarray | None,
                       c_b: np.ndarray | None) -> float:
    """:func:`qcb` from the three images' :func:`qcb_contrast` (computed once per image when
    several fused images share the sources)."""
    if c_f is None or c_a is None or c_b is None:
        return undefined("Qcb", "an input image is constant")
    w_a, w_b = c_a * c_a, c_b * c_b
    with np.errstate(divide="ignore", invalid="ignore"):
        total = np.zeros(c_f.shape)
        for c_s, w_s in ((c_a, w_a), (c_b, w_b)):
            q = np.minimum(c_s, c_f)
            q /= np.maximum(c_s, c_f)
            q *= w_s
            total += q
        total /= w_a + w_b
    value = float(np.mean(total))
    if not np.isfinite(value):
        return undefined("Qcb", "the formula is undefined for these images")
    return value


def qcb(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Chen-Blum quality (VIFB ``metricsQcb``): DoG contrast sensitivity filter
    exp(-(r/15.3870)^2) - 0.7622 exp(-(r/1.3456)^2), r on the ``freqspace`` grid scaled by
    (N/30, M/30); :func:`qcb_contrast`; per-pixel preservation min/max of the source's and F's
    contrast, weighted by C_s^2 / (C_a^2 + C_b^2); mean of the map. 0..1, higher is better.

    >>> x = np.zeros((32, 32)); x[8:24, 8:24] = 200.0
    >>> round(qcb(x, x, x / 2), 12)  # every image is min-max normalised first
    1.0
    """
    return qcb_from_contrasts(qcb_contrast(f), qcb_contrast(a), qcb_contrast(b))


class QcvImage:
    """Chen-Varshney's view of one non-constant image: the ``rfft2`` spectrum of
    :func:`minmax_levels` and, when it is a source, its saliency per 16x16 block (the sum of
    (Sobel strength)^5 of the normalised image, ``filter2`` with zero padding)."""

    def __init__(self, x: np.ndarray) -> None:
        self.shape = x.shape
        self.levels = minmax_levels(x)
        self.spectrum = sfft.rfft2(self.levels)

    @cached_property
    def saliency(self) -> np.ndarray:
        gx = ndimage.correlate(self.levels, SOBEL_X, mode="constant")
        gy = ndimage.correlate(self.levels, SOBEL_X.T, mode="constant")
        strength_sq = gx * gx + gy * gy
        # strength^5 = (strength^2)^2 * strength (QCV_ALPHA = 5)
        return block_reduce(strength_sq * strength_sq * np.sqrt(strength_sq), "sum")


def qcv_image(x: np.ndarray) -> QcvImage | None:
    """:class:`QcvImage` of ``x``, None for a constant image."""
    return None if float(x.max()) == float(x.min()) else QcvImage(x)


def qcv_from_images(f: QcvImage | None, a: QcvImage | None, b: QcvImage | None) -> float:
    """:func:`qcv` from the three images' :func:`qcv_image`."""
    if f is None or a is None or b is None:
        return undefined("Qcv", "an input image is constant")
    half_csf = qcv_csf(*f.shape)
    num = 0.0
    den = 0.0
    for src in (a, b):
        diff = sfft.irfft2((src.spectrum - f.spectrum) * half_csf, s=f.shape)
        num += float(np.sum(src.saliency * block_reduce(diff * diff, "mean")))
        den += float(np.sum(src.saliency))
    if den == 0.0:
        return undefined("Qcv", "both sources have no edges (zero Sobel response)")
    value = num / den
    if not np.isfinite(value):
        return undefined("Qcv", "the formula is undefined for these images")
    return value


def qcv(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Chen-Varshney quality (VIFB ``metricsQcv``; lower is better): distortion = mean square
    per 16x16 block of (source - F) filtered by the Mannos-Sakrison CSF (:func:`qcv_csf`), on
    the :func:`minmax_levels` images; result sum(saliency * distortion) / sum(saliency) over
    both sources (:class:`QcvImage`). >= 0.

    >>> x = np.zeros((32, 32)); x[8:24, 8:24] = 200.0
    >>> qcv(x, x, x / 2)  # every image is min-max normalised first
    0.0
    """
    return qcv_from_images(qcv_image(f), qcv_image(a), qcv_image(b))
