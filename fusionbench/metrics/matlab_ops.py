"""MATLAB operations reproduced with MATLAB's rounding where a metric's branches depend on it.

:func:`conv2_same`: ``conv2(x, h, 'same')`` adds the shifted, scaled copies of ``x`` one
kernel element at a time, in column-major order of ``h``. On non-integer data (Tang's 2022
code passes images on [0, 1]) that order decides exact ties that Qabf tests (``SAx == 0``,
``gA == gF``): with it Qabf reproduces Tang's spreadsheet to ~1e-15, with another order it is
off by up to 3e-2 (``tests/test_metrics_calibration.py``).

>>> import numpy as np
>>> shift = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
>>> conv2_same(np.arange(9.0).reshape(3, 3), shift)  # a convolution: the kernel is flipped
array([[0., 0., 1.],
       [0., 3., 4.],
       [0., 6., 7.]])
"""

from __future__ import annotations

import numpy as np

#: MATLAB ``fspecial('sobel')`` (the y-derivative, top row positive) and the x-derivative kernel
#: ``[-1 0 1; -2 0 2; -1 0 1]`` the fusion metrics pair with it (Qabf, Qcv, EI, MATLAB ``edge``).
SOBEL_Y = np.array([[1.0, 2.0, 1.0], [0.0, 0.0, 0.0], [-1.0, -2.0, -1.0]])
SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def conv2_same(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``conv2(x, h, 'same')`` for an odd-sized kernel, zero padded, in MATLAB's order of
    additions (kernel elements column by column; zero elements skipped, which adds nothing).
    """
    kr, kc = h.shape
    pr, pc = kr // 2, kc // 2
    m, n = x.shape
    p = np.pad(np.asarray(x, dtype=float), ((pr, pr), (pc, pc)))
    out = np.zeros((m, n))
    for col in range(kc):
        for row in range(kr):
            weight = float(h[row, col])
            if weight != 0.0:
                # conv: out(i, j) += h(row, col) * x(i + pr - row, j + pc - col)
                out += weight * p[2 * pr - row:2 * pr - row + m, 2 * pc - col:2 * pc - col + n]
    return out
