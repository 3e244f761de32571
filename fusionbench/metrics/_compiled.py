"""Access to the compiled (numba) kernel modules, imported on first use rather than with the
package (importing numba costs ~0.3 s; listing metrics or profiles never needs it), the one
rule for how arrays are handed to them, and :func:`jit`, the decorator that compiles a kernel
when numba works and otherwise leaves it as plain Python.

numba is optional: when it is missing or cannot compile, the kernel accessors return numpy
formulations of the same computations (``_vif_numpy``, ``_pixel_numpy``, ``_filter_numpy``,
``_ssim_numpy``, ``_edge_numpy``: the same values, to the last bits of the filter sums) after a
one-line notice, and FMI's loop runs as plain Python.

>>> kernel_input(np.array([[1, 2]], np.int16)).dtype
dtype('float64')
"""

from __future__ import annotations

import importlib
import os
import warnings
from collections.abc import Callable
from types import ModuleType

import numpy as np

_NOTICE_GIVEN = False
_NUMBA_WORKS: bool | None = None


def _notice(reason: str) -> None:
    """The one-line notice that the kernels run without numba (given once per process)."""
    global _NOTICE_GIVEN
    if not _NOTICE_GIVEN:
        warnings.warn(f"numba unavailable ({reason}); metric kernels run as numpy/plain Python "
                      "(same values, slower)", RuntimeWarning, stacklevel=4)
        _NOTICE_GIVEN = True


def numba_works() -> bool:
    """Whether numba imports and compiles (a one-line probe, cached on disk by numba); the
    first ``False`` gives the notice. ``FUSIONBENCH_NO_NUMBA=1`` forces ``False``."""
    global _NUMBA_WORKS
    if _NUMBA_WORKS is None:
        try:
            if os.environ.get("FUSIONBENCH_NO_NUMBA", "") not in ("", "0"):
                raise RuntimeError("FUSIONBENCH_NO_NUMBA is set")
            import numba

            probe = numba.njit(cache=True)(_probe)
            _NUMBA_WORKS = probe(np.ones(2)) == 2.0
        except Exception as exc:  # noqa: BLE001 (any failure means: run without numba)
            _NUMBA_WORKS = False
            _notice(f"{type(exc).__name__}: {exc}")
    return _NUMBA_WORKS


def _probe(x: np.ndarray) -> float:
    return x.sum()


def jit(function: Callable) -> Callable:
    """``numba.njit`` (cached) when numba works, else ``function`` unchanged (plain Python:
    same numbers, far slower)."""
    if not numba_works():
        return function
    import numba

    return numba.njit(cache=True, nogil=True, error_model="numpy")(function)


def _kernels(compiled: str, fallback: str) -> ModuleType:
    """The compiled kernel module when numba works (and it imports), else its numpy twin."""
    if numba_works():
        try:
            return importlib.import_module(f"fusionbench.metrics.{compiled}")
        except Exception as exc:  # noqa: BLE001 (e.g. numba too old for an intrinsic)
            _notice(f"{compiled}: {type(exc).__name__}: {exc}")
    return importlib.import_module(f"fusionbench.metrics.{fallback}")


def pixel_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._pixel_kernels` (histograms, AG, SF, SD sums), or without numba
    :mod:`fusionbench.metrics._pixel_numpy`."""
    return _kernels("_pixel_kernels", "_pixel_numpy")


def vif_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._vif_kernels` (VIF filtering, rules, Octave-order filters), or
    without numba :mod:`fusionbench.metrics._vif_numpy`."""
    return _kernels("_vif_kernels", "_vif_numpy")


def filter_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._filter_kernels` (scipy-rounded 'valid' separable filters), or
    without numba :mod:`fusionbench.metrics._filter_numpy` (scipy itself)."""
    return _kernels("_filter_kernels", "_filter_numpy")


def ssim_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._ssim_kernels` (the MEF-SSIM quality map), or without numba
    :mod:`fusionbench.metrics._ssim_numpy`."""
    return _kernels("_ssim_kernels", "_ssim_numpy")


def edge_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._edge_kernels` (Qabf's and Nabf's Sobel responses), or without
    numba :mod:`fusionbench.metrics._edge_numpy`."""
    return _kernels("_edge_kernels", "_edge_numpy")


def fmi_kernels() -> ModuleType:
    """:mod:`fusionbench.metrics._fmi_kernels` (the per-window loop of FMI; plain Python
    without numba)."""
    from fusionbench.metrics import _fmi_kernels
    return _fmi_kernels


def kernel_input(array: np.ndarray) -> np.ndarray:
    """``array`` C-contiguous as the kernels read it: ``uint8`` kept (no float copy), any other
    type as float64."""
    return np.ascontiguousarray(array, dtype=np.uint8 if array.dtype == np.uint8 else np.float64)
