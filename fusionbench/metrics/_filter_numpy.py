"""scipy formulation of :mod:`fusionbench.metrics._filter_kernels`, used when numba is missing
or cannot compile (see :func:`fusionbench.metrics._compiled.filter_kernels`): the same bits.

>>> import numpy as np
>>> out = np.empty((1, 2))
>>> correlate_valid(np.arange(12.0).reshape(3, 4), np.array([0.25, 0.5, 0.25]), out)
>>> out.tolist()
[[5.0, 6.0]]
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def correlate_valid(x: np.ndarray, w: np.ndarray, out: np.ndarray) -> None:
    """'valid' correlation of the 2-D ``x`` with ``w`` along axis 0, then axis 1, into ``out``."""
    h = len(w) // 2
    y = ndimage.correlate1d(x, w, axis=0, mode="constant")[h:x.shape[0] - h]
    out[...] = ndimage.correlate1d(y, w, axis=1, mode="constant")[:, h:x.shape[1] - h]
