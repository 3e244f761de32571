"""Spatial metrics of one image: standard deviation (SD), spatial frequency (SF), average
gradient (AG), in the variants the conventions use.

Inputs are 2-D arrays: ``uint8`` where a function says so, else float64 on 0..255.

>>> import numpy as np
>>> f = np.array([[0.0, 255.0], [255.0, 0.0]])
>>> float(sd_population(f)), float(sf_tang(f))
(127.5, 360.62445840513925)
"""

from __future__ import annotations

import numpy as np


def sd_population(f: np.ndarray) -> float:
    """Population standard deviation (divide by M N) of a float image.

    >>> float(sd_population(np.array([[1.0, 3.0]])))
    1.0
    """
    return float(np.std(f))


def sd_tang2022(f_u8: np.ndarray) -> float:
    """Tang 2022 SD in MATLAB uint8 arithmetic: ``sqrt(sum(uint8(F - mean)^2) / (M N))``.

    ``F - mean`` is rounded half away from zero and clipped at 0 (pixels below the mean count as
    0) and its square saturates at 255, so the result never exceeds ``sqrt(255)``.

    >>> float(sd_tang2022(np.array([[0, 200]], np.uint8)))  # diffs 0 and 100 -> 0 and 255
    11.291589790636214
    """
    mean = f_u8.mean(dtype=np.float64)
    diff = np.floor(f_u8 - mean + 0.5)  # round half away from zero (values >= 0 are kept)
    diff = np.clip(diff, 0, 255)
    sq = np.minimum(diff * diff, 255.0)
    return float(np.sqrt(sq.sum() / f_u8.size))


def sf_tang(f: np.ndarray) -> float:
    """Spatial frequency ``sqrt(RF^2 + CF^2)``; RF^2 the mean of squared vertical neighbour
    differences over (M-1) N terms, CF^2 that of horizontal ones over M (N-1) terms.

    >>> float(sf_tang(np.array([[0.0, 3.0], [0.0, 3.0]])))
    3.0
    """
    dv = np.diff(f, axis=0)
    dh = np.diff(f, axis=1)
    rf2 = np.mean(dv * dv) if dv.size else 0.0
    cf2 = np.mean(dh * dh) if dh.size else 0.0
    return float(np.sqrt(rf2 + cf2))


def _matlab_gradient(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB ``gradient``: central differences inside, one-sided on the border (gx, gy)."""
    gx = np.empty_like(f)
    gy = np.empty_like(f)
    gx[:, 1:-1] = (f[:, 2:] - f[:, :-2]) / 2
    gx[:, 0] = f[:, 1] - f[:, 0]
    gx[:, -1] = f[:, -1] - f[:, -2]
    gy[1:-1, :] = (f[2:, :] - f[:-2, :]) / 2
    gy[0, :] = f[1, :] - f[0, :]
    gy[-1, :] = f[-1, :] - f[-2, :]
    return gx, gy


def ag_map(f: np.ndarray) -> np.ndarray:
    """Per-pixel ``sqrt((gx^2 + gy^2) / 2)`` with MATLAB ``gradient`` (image at least 2 x 2)."""
    gx, gy = _matlab_gradient(f)
    return np.sqrt((gx * gx + gy * gy) / 2)


def ag_tang(f: np.ndarray) -> float:
    """Tang average gradient: sum of :func:`ag_map` divided by (M-1)(N-1).

    >>> float(ag_tang(np.array([[0.0, 2.0], [0.0, 2.0]])))  # gx = 2 everywhere
    5.656854249492381
    """
    m, n = f.shape
    return float(ag_map(f).sum() / ((m - 1) * (n - 1)))


def ag_mean(f: np.ndarray) -> float:
    """CDDFuse average gradient: mean of :func:`ag_map` over all M N pixels.

    >>> float(ag_mean(np.array([[0.0, 2.0], [0.0, 2.0]])))
    1.4142135623730951
    """
    return float(ag_map(f).mean())
