"""Input checks and O(N) filters shared by the classic fusion methods.

Every classic method takes two 2-D float images on [0, 1] of the same shape. The helpers here
check that contract once (:func:`check_pair`) and provide the filters the methods are built from:
a box sum / box mean by cumulative sums (windows clipped at the border, as in He et al.'s guided
filter), the guided filter itself, and a division that tolerates zero denominators.

>>> import numpy as np
>>> box_mean(np.ones((4, 5)), 1).tolist()[0]
[1.0, 1.0, 1.0, 1.0, 1.0]
"""

from __future__ import annotations

import numpy as np

from fusionbench.data import MIN_SIDE
from fusionbench.errors import MethodError


def check_pair(a: np.ndarray, b: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate a source pair and return float64 copies (the inputs are never modified).

    >>> x, y = check_pair(np.zeros((8, 9)), np.ones((8, 9)), "average")
    >>> x.dtype, y.shape
    (dtype('float64'), (8, 9))
    """
    out = []
    for label, img in (("a", a), ("b", b)):
        arr = np.asarray(img)
        if arr.ndim != 2:
            raise MethodError(f"{method}: source {label} must be a 2-D gray image, got shape "
                              f"{arr.shape}")
        if min(arr.shape) < MIN_SIDE:
            raise MethodError(f"{method}: source {label} is {arr.shape[0]}x{arr.shape[1]}; "
                              f"both sides must be at least {MIN_SIDE}")
        if not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
            raise MethodError(f"{method}: source {label} has non-real dtype {arr.dtype}")
        arr = np.array(arr, dtype=np.float64, copy=True)
        if not np.all(np.isfinite(arr)):
            raise MethodError(f"{method}: source {label} contains NaN or infinite values")
        out.append(arr)
    if out[0].shape != out[1].shape:
        raise MethodError(f"{method}: sources differ in shape: a {out[0].shape}, b {out[1].shape}")
    return out[0], out[1]


def _cumsum_window(x: np.ndarray, r: int, axis: int) -> np.ndarray:
    """Sum over a window of radius ``r`` along ``axis``, clipped at the borders."""
    x = np.moveaxis(x, axis, 0)
    n = x.shape[0]
    c = np.cumsum(x, axis=0)
    # ext[j] = sum x[:clip(j - r, 0, n)], so the clipped window sum at i is ext[i+2r+1] - ext[i].
    ext = np.concatenate([np.zeros((r + 1,) + x.shape[1:]), c, np.repeat(c[-1:], r, axis=0)])
    out = ext[2 * r + 1: 2 * r + 1 + n] - ext[:n]
    return np.moveaxis(out, 0, axis)


def box_sum(x: np.ndarray, r: int) -> np.ndarray:
    """Sum of ``x`` over the (2r+1)x(2r+1) window around each pixel, clipped at the border.

    Cumulative sums along each axis, so the cost does not depend on ``r``.

    >>> box_sum(np.ones((3, 3)), 1).astype(int).tolist()
    [[4, 6, 4], [6, 9, 6], [4, 6, 4]]
    """
    return _cumsum_window(_cumsum_window(x, r, 0), r, 1)


def _counts(n: int, r: int) -> np.ndarray:
    """Number of samples in the clipped window of radius ``r`` around each of ``n`` positions."""
    idx = np.arange(n)
    return (np.minimum(idx + r, n - 1) - np.maximum(idx - r, 0) + 1).astype(np.float64)


def box_mean(x: np.ndarray, r: int) -> np.ndarray:
    """Mean of ``x`` over the clipped (2r+1)x(2r+1) window (the window shrinks at the border)."""
    h, w = x.shape
    return box_sum(x, r) / (_counts(h, r)[:, None] * _counts(w, r)[None, :])


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int, eps: float) -> np.ndarray:
    """Gray guided filter (He, Sun, Tang 2013): filter ``src`` with the structure of ``guide``.

    Local linear model ``q = a * guide + b`` fitted in every (2r+1)^2 window with ridge ``eps``,
    then the coefficients are averaged. O(N) in the image size.

    >>> g = np.linspace(0, 1, 100).reshape(10, 10)
    >>> bool(np.allclose(guided_filter(g, g, 2, 1e-8), g, atol=1e-5))
    True
    """
    mean_i = box_mean(guide, r)
    mean_p = box_mean(src, r)
    cov_ip = box_mean(guide * src, r) - mean_i * mean_p
    var_i = box_mean(guide * guide, r) - mean_i * mean_i
    coef_a = cov_ip / (var_i + eps)
    coef_b = mean_p - coef_a * mean_i
    return box_mean(coef_a, r) * guide + box_mean(coef_b, r)


def safe_ratio(num: np.ndarray, den: np.ndarray, fallback: float) -> np.ndarray:
    """``num / den`` with ``fallback`` where ``den`` is 0 (no division warnings).

    >>> safe_ratio(np.array([1.0, 0.0]), np.array([2.0, 0.0]), 0.5).tolist()
    [0.5, 0.5]
    """
    out = np.full(np.broadcast(num, den).shape, fallback, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out
