"""Laplacian pyramid fusion (Burt & Adelson 1983): max-abs on detail levels, average on the base.

The pyramid uses the 5-tap binomial kernel [1, 4, 6, 4, 1] / 16 with symmetric borders; reduction
keeps every second sample, expansion inserts zeros and blurs with twice the kernel. Each band is
``G_k - expand(G_{k+1})``, so the reconstruction is exact whatever the size (odd sizes included).

>>> import numpy as np
>>> x = np.random.default_rng(0).random((13, 17))
>>> bool(np.allclose(collapse(laplacian_pyramid(x, 3)), x))
True
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import correlate1d

from fusionbench.errors import MethodError

from ._common import check_pair

_KERNEL = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
MIN_COARSE_SIDE = 4


def _blur(x: np.ndarray, gain: float = 1.0) -> np.ndarray:
    k = _KERNEL * gain
    return correlate1d(correlate1d(x, k, axis=0, mode="reflect"), k, axis=1, mode="reflect")


def _reduce(x: np.ndarray) -> np.ndarray:
    return _blur(x)[::2, ::2]


def _expand(x: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    up = np.zeros(shape)
    up[::2, ::2] = x
    return _blur(up, gain=2.0)


def usable_levels(shape: tuple[int, ...], levels: int) -> int:
    """Number of detail levels actually used: at most ``levels``, keeping the coarsest image at
    least ``MIN_COARSE_SIDE`` pixels on each side.

    >>> usable_levels((576, 768), 4), usable_levels((8, 8), 4)
    (4, 1)
    """
    side = min(shape)
    n = 0
    while n < levels and -(-side // 2) >= MIN_COARSE_SIDE:
        side = -(-side // 2)
        n += 1
    return n


def laplacian_pyramid(x: np.ndarray, levels: int) -> list[np.ndarray]:
    """Detail bands (finest first) followed by the coarse Gaussian level."""
    bands = []
    current = x
    for _ in range(levels):
        smaller = _reduce(current)
        bands.append(current - _expand(smaller, current.shape))
        current = smaller
    bands.append(current)
    return bands


def collapse(bands: list[np.ndarray]) -> np.ndarray:
    """Inverse of :func:`laplacian_pyramid`."""
    current = bands[-1]
    for band in reversed(bands[:-1]):
        current = band + _expand(current, band.shape)
    return current


def laplacian_fuse(a: np.ndarray, b: np.ndarray, levels: int = 4) -> np.ndarray:
    """Fuse with a Laplacian pyramid: per detail coefficient the larger magnitude, base averaged.

    ``levels`` is capped by :func:`usable_levels` for small images. Picking detail
    coefficients from different sources can overshoot, so the result is clipped to [0, 1].

    >>> x = np.random.default_rng(1).random((9, 11))
    >>> bool(np.allclose(laplacian_fuse(x, x), x))
    True
    """
    x, y = check_pair(a, b, "laplacian")
    if int(levels) != levels or levels < 1:
        raise MethodError(f"laplacian: levels must be a positive integer, got {levels!r}")
    n = usable_levels(x.shape, int(levels))
    px, py = laplacian_pyramid(x, n), laplacian_pyramid(y, n)
    fused = [np.where(np.abs(bx) >= np.abs(by), bx, by) for bx, by in zip(px[:-1], py[:-1],
                                                                          strict=True)]
    fused.append(0.5 * (px[-1] + py[-1]))
    return np.clip(collapse(fused), 0.0, 1.0)
