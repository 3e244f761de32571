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


#: An image minus its mean, and the sum of the squares of that (one image's part of corr2).
Centred = tuple[np.ndarray, float]


def centred(x: np.ndarray) -> Centred:
    """``(x - mean(x), sum((x - mean(x))^2))``: what :func:`corr2` needs of one image, computed
    once per image when several correlations share it (CC and SCD, both sources against F).

    >>> centred(np.array([[1.0, 3.0]]))[1]
    2.0
    """
    dx = x - x.mean()
    return dx, float(np.sum(dx * dx))


def corr2_centred(cx: Centred, cy: Centred) -> float:
    """:func:`corr2` from the :func:`centred` parts of x and y (the same operations)."""
    den = math.sqrt(cx[1] * cy[1])
    return float(np.sum(cx[0] * cy[0])) / den if den > 0 else math.nan


def corr2(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two images (MATLAB ``corr2``); NaN when one is constant.

    >>> corr2(np.array([[1.0, 2.0, 3.0]]), np.array([[2.0, 4.0, 6.0]]))
    1.0
    """
    return corr2_centred(centred(x), centred(y))


def correlation_coefficient(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """CC: the mean of corr2(A, F) and corr2(B, F).

    (Tang's ``CC_evaluation.m`` centres B with the mean of A in the numerator; the sum of
    ``F - mean(F)`` is 0, so that changes only the rounding and is not reproduced.)

    >>> x = np.array([[0.0, 1.0], [2.0, 3.0]])
    >>> correlation_coefficient(x, x, 3.0 - x)
    0.0
    """
    return cc_from_centred(*(centred(x) for x in (f, a, b)))


def cc_from_centred(cf: Centred, ca: Centred, cb: Centred) -> float:
    """:func:`correlation_coefficient` from the :func:`centred` F, A and B."""
    return 0.5 * (corr2_centred(ca, cf) + corr2_centred(cb, cf))


def scd(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """SCD (Aslantas and Bendes 2015): corr2(F - B, A) + corr2(F - A, B).

    >>> x = np.array([[0.0, 1.0], [2.0, 4.0]])
    >>> round(scd(2 * x, x, x), 12)
    2.0
    """
    return scd_from_centred(f, a, b, centred(a), centred(b))


def scd_from_centred(f: np.ndarray, a: np.ndarray, b: np.ndarray, ca: Centred,
                     cb: Centred) -> float:
    """:func:`scd` with the :func:`centred` sources ``ca``, ``cb`` given."""
    return corr2_centred(centred(f - b), ca) + corr2_centred(centred(f - a), cb)
