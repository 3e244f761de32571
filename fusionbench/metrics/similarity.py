"""Reference-based pixel metrics: MSE, RMSE (VIFB's form), PSNR, CC (correlation coefficient)
and SCD (sum of the correlations of differences), each one formula with the conventions'
differences as options.

Inputs are 2-D float arrays of one size (any scale; the caller scales them as the convention
does). Sums are numpy's.

>>> import numpy as np
>>> f = np.array([[0.0, 2.0], [4.0, 6.0]]); a = f + 1.0; b = f - 1.0
>>> mse(f, a, b), round(correlation_coefficient(f, a, b), 12)
(1.0, 1.0)
"""

from __future__ import annotations

import math

import numpy as np


def mse(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """0.5 MSE(A, F) + 0.5 MSE(B, F), each the mean of the squared differences.

    >>> mse(np.zeros((2, 2)), np.ones((2, 2)), np.zeros((2, 2)))
    0.5
    """
    n = f.size
    return 0.5 * float(np.sum((f - a) ** 2)) / n + 0.5 * float(np.sum((f - b) ** 2)) / n


def rmse(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """VIFB ``metricsRmse``: the mean over B and A of sqrt(sum of squared differences) / (M N).

    Not a conventional RMSE (the square root is taken before dividing by M N).

    >>> rmse(np.zeros((2, 2)), np.full((2, 2), 2.0), np.zeros((2, 2)))
    0.5
    """
    m, n = f.shape
    err_b = math.sqrt(float(np.sum((b - f) ** 2))) / (m * n)
    err_a = math.sqrt(float(np.sum((a - f) ** 2))) / (m * n)
    return (err_b + err_a) / 2.0


#: What :func:`psnr` divides the squared peak by.
PSNR_ERRORS = {"mse": mse, "vifb_rmse": rmse}


def psnr(f: np.ndarray, a: np.ndarray, b: np.ndarray, *, peak: float | None = 255.0,
         error: str = "mse") -> float:
    """10 log10(peak^2 / :func:`mse`); ``peak=None`` takes the largest value of F (CDDFuse).

    Tang's code passes images on [0, 1] with ``peak`` 255, so its PSNR is the 0..255 one plus
    20 log10(255) = 48.13 dB (``CONVENTIONS.md``). ``error="vifb_rmse"``: VIFB's ``metricsPsnr``
    divides by its :func:`rmse` value instead of the MSE (so its values, ~55..65 dB, are not
    a conventional PSNR). Identical images give inf.

    >>> round(psnr(np.zeros((2, 2)), np.ones((2, 2)), np.ones((2, 2)), peak=1.0), 12)
    0.0
    >>> round(psnr(np.zeros((1, 1)), np.ones((1, 1)), np.ones((1, 1)), error="vifb_rmse"), 6)
    48.130804
    """
    return psnr_from_error(PSNR_ERRORS[error](f, a, b), f, peak=peak)


def psnr_from_error(err: float, f: np.ndarray, *, peak: float | None = 255.0) -> float:
    """:func:`psnr` from its error value ``err`` (:data:`PSNR_ERRORS`) of the images, so that
    a convention reporting the error too computes it once; ``f`` is read only for
    ``peak=None`` (the largest value of F).

    >>> psnr_from_error(0.0, np.zeros((1, 1)))
    inf
    """
    if err == 0.0:
        return math.inf
    if peak is None:
        return 10.0 * math.log10(float(np.max(f)) ** 2 / err)
    return 20.0 * math.log10(peak / math.sqrt(err))


def corr2(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two images (MATLAB ``corr2``); NaN when one is constant.

    >>> corr2(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 4.0, 6.0]]))
    1.0
    """
    dx = x - x.mean()
    dy = y - y.mean()
    den = math.sqrt(float(np.sum(dx * dx)) * float(np.sum(dy * dy)))
    return float(np.sum(dx * dy)) / den if den > 0 else math.nan


def correlation_coefficient(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """CC: the mean of corr2(A, F) and corr2(B, F).

    (Tang's ``CC_evaluation.m`` centres B with the mean of A in the numerator; the sum of
    ``F - mean(F)`` is 0, so that changes only the rounding and is not reproduced.)

    >>> x = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> correlation_coefficient(x, x, 3.0 - x)
    0.0
    """
    return 0.5 * (corr2(a, f) + corr2(b, f))


def scd(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """SCD (Aslantas and Bendes 2015): corr2(F - B, A) + corr2(F - A, B).

    >>> x = np.array([[0.0, 1.0], [2.0, 4.0]])
    >>> round(scd(2 * x, x, x), 12)
    2.0
    """
    return corr2(f - b, a) + corr2(f - a, b)
