"""Access to the compiled (numba) kernel modules, imported on first use rather than with the
package (importing numba costs ~0.3 s; listing metrics or profiles never needs it), the one
rule for how arrays are handed to them, and :func:`jit`, the decorator that compiles a kernel
when numba works and otherwise leaves it as plain Python (same numbers, far slower) after a
one-line notice.

>>> kernel_input(np.array([[1, 2]], np.int16)).dtype
dtype('float64')
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from types import ModuleType

import numpy as np

_NOTICE_GIVEN = False


def _numba_njit() -> Callable | None:
    global _NOTICE_GIVEN
    try:
        import numba
    except Exception as exc:  # noqa: BLE001 (any import failure means: no numba)
        if not _NOTICE_GIVEN:
            warnings.warn(f"numba unavailable ({exc}); metric kernels run as plain Python "
                          "(same values, much slower)", RuntimeWarning, stacklevel=3)
            _NOTICE_GIVEN = True
        return None
    return numba.njit(cache=True, nogil=True, error_model="numpy")


def jit(function: Callable) -> Callable:
    """``numba.njit`` (cached) when numba imports, else ``function`` unchanged."""
    njit = _numba_njit()
    return function if njit is None else njit(function)


def pixel_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._pixel_kernels` (histograms, AG, SF, SD sums)."""
    from fusionbench.metrics import _pixel_kernels
    return _pixel_kernels


def vif_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._vif_kernels` (VIF filtering, rules, Octave-order filters)."""
    from fusionbench.metrics import _vif_kernels
    return _vif_kernels


def fmi_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._fmi_kernels` (the per-window loop of FMI)."""
    from fusionbench.metrics import _fmi_kernels
    return _fmi_kernels


def kernel_input(array: np.ndarray) -> np.ndarray:
    """``array`` C-contiguous as the kernels read it: ``uint8`` kept (no float copy), any other
    type as float64."""
    return np.ascontiguousarray(array, dtype=np.uint8 if array.dtype == np.uint8 else np.float64)
