"""Access to the compiled (numba) kernel modules, imported on first use rather than with the
package (importing numba costs ~0.3 s; listing metrics or profiles never needs it), and the one
rule for how arrays are handed to them.

>>> kernel_input(np.array([[1, 2]], np.int16)).dtype
dtype('float64')
"""

from __future__ import annotations

from types import ModuleType

import numpy as np


def pixel_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._pixel_kernels` (histograms, AG, SF, SD sums)."""
    from fusionbench.metrics import _pixel_kernels
    return _pixel_kernels


def vif_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._vif_kernels` (VIF filtering, rules, Octave-order filters)."""
    from fusionbench.metrics import _vif_kernels
    return _vif_kernels


def kernel_input(array: np.ndarray) -> np.ndarray:
    """``array`` C-contiguous as the kernels read it: ``uint8`` kept (no float copy), any other
    type as float64."""
    return np.ascontiguousarray(array, dtype=np.uint8 if array.dtype == np.uint8 else np.float64)
