"""Spatial metrics of one image: standard deviation (SD), spatial frequency (SF), average
gradient (AG) and edge intensity (EI); the conventions' variants are keyword options.

Inputs are 2-D arrays: ``uint8`` where a function says so, else float64 on 0..255.

>>> import numpy as np
>>> f = np.array([[0.0, 255.0], [255.0, 0.0]])
>>> float(sd_population(f)), float(sf_tang(f))
(127.5, 360.62445840513925)
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from fusionbench.metrics._compiled import kernel_input, pixel_kernels
from fusionbench.metrics.matlab_ops import SOBEL_Y


def sd_population(f: np.ndarray) -> float:
    """Population standard deviation (divide by M N) of an image (two passes: mean, then
    squared deviations).

    >>> float(sd_population(np.array([[1.0, 3.0]])))
    1.0
    """
    mean = float(f.mean(dtype=np.float64))
    total = pixel_kernels().squared_deviation_sum(kernel_input(f), mean, False)
    return float(np.sqrt(total / f.size))


def sd_tang2022(f_u8: np.ndarray) -> float:
    """Tang 2022 SD in MATLAB uint8 arithmetic: ``sqrt(sum(uint8(F - mean)^2) / (M N))``.

    ``F - mean`` is rounded half away from zero and clipped at 0 (pixels below the mean count as
    0) and its square saturates at 255, so the result never exceeds ``sqrt(255)``.

    >>> float(sd_tang2022(np.array([[0, 200]], np.uint8)))  # diffs 0 and 100 -> 0 and 255
    11.291589790636214
    """
    mean = float(f_u8.mean(dtype=np.float64))
    total = pixel_kernels().squared_deviation_sum(kernel_input(f_u8), mean, True)
    return float(np.sqrt(total / f_u8.size))


def sf_tang(f: np.ndarray, scale: float = 1.0, *, per: str = "term") -> float:
    """Spatial frequency ``sqrt(RF^2 + CF^2)`` of ``f / scale``; RF^2 the mean of squared
    vertical neighbour differences over (M-1) N terms, CF^2 that of horizontal ones over
    M (N-1) terms. ``per="pixel"`` (VIFB's ``metricsSpatial_frequency``) divides both sums
    by M N instead, which is defined for a single row or column too.

    >>> float(sf_tang(np.array([[0.0, 3.0], [0.0, 3.0]])))
    3.0
    >>> float(sf_tang(np.array([[0.0, 2.0], [0.0, 2.0]]), per="pixel"))
    1.4142135623730951
    """
    rows, cols = f.shape
    dv2, dh2 = pixel_kernels().squared_neighbour_difference_sums(kernel_input(f), float(scale))
    if per == "pixel":
        return float(np.sqrt(dh2 / (rows * cols) + dv2 / (rows * cols)))
    rf2 = dv2 / ((rows - 1) * cols) if rows > 1 else 0.0
    cf2 = dh2 / (rows * (cols - 1)) if cols > 1 else 0.0
    return float(np.sqrt(rf2 + cf2))


def ag_tang(f: np.ndarray, *, per: str = "interior") -> float:
    """Average gradient: the sum over the pixels of ``sqrt((gx^2 + gy^2) / 2)`` with MATLAB
    ``gradient`` (central differences inside, one-sided on the border), divided by (M-1)(N-1)
    (Tang, VIFB), or with ``per="pixel"`` by all M N pixels (CDDFuse); image at least 2 x 2.

    >>> float(ag_tang(np.array([[0.0, 2.0], [0.0, 2.0]])))  # gx = 2 everywhere
    5.656854249492381
    >>> float(ag_tang(np.array([[0.0, 2.0], [0.0, 2.0]]), per="pixel"))
    1.4142135623730951
    """
    m, n = f.shape
    total = pixel_kernels().gradient_magnitude_sum(kernel_input(f))
    return float(total / (f.size if per == "pixel" else (m - 1) * (n - 1)))


def edge_intensity(f: np.ndarray) -> float:
    """EI (VIFB ``metricsEdge_intensity``): the mean Sobel gradient magnitude of F on 0..255
    (``fspecial('sobel')`` and its transpose, correlated), borders replicated.

    >>> edge_intensity(np.full((3, 3), 7.0))
    0.0
    >>> edge_intensity(np.array([[0.0, 0.0, 1.0]] * 3))  # |gx| = 4, 4, 0 along each row
    2.6666666666666665
    """
    x = np.asarray(f, dtype=np.float64)
    gx = ndimage.correlate(x, SOBEL_Y, mode="nearest")
    gy = ndimage.correlate(x, SOBEL_Y.T, mode="nearest")
    return float(np.mean(np.sqrt(gx * gx + gy * gy)))

