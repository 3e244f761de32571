"""Keep freed memory in the C heap (glibc), so that the metrics engine's short-lived full-size
arrays do not fault their pages in again on every call.

glibc returns a freed block larger than its mmap threshold to the kernel at once, and trims the
heap's free top above its trim threshold; both start small and adapt only partly. A metric
call that allocates, fills and frees a few 3.5 MB maps (one 768x576 float64 image each) then
pays ~1 ms of page faults per map. Measured on the 768x576 TNO triple (``benchmarks/SPEED.md``,
round 3): Nabf 26 -> 10 ms, all 17 of Tang's metrics ~15 % less CPU time.

:func:`keep_freed_heap` raises both thresholds for this process (and processes forked from it),
at the cost of up to ``trim_threshold`` bytes of freed memory kept mapped. The ``fusionbench``
command calls it at start; ``FUSIONBENCH_HEAP=default`` leaves glibc's settings alone. Other C
libraries (musl, macOS, Windows): nothing is changed.

>>> isinstance(keep_freed_heap(), bool)
True
"""

from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1  #: glibc's mallopt parameter numbers (malloc.h)
_M_MMAP_THRESHOLD = -3
OPT_OUT_ENV = "FUSIONBENCH_HEAP"


def keep_freed_heap(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Serve blocks under ``mmap_threshold`` bytes from the heap and keep up to
    ``trim_threshold`` bytes of its free top; True when glibc took both settings."""
    libc = glibc()
    if libc is None or os.environ.get(OPT_OUT_ENV, "") == "default":
        return False
    mallopt = libc.mallopt
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(
        mallopt(_M_TRIM_THRESHOLD, trim_threshold))


def glibc() -> ctypes.CDLL | None:
    """This process's C library when it is glibc (on Linux), else None."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None)
    if not hasattr(libc, "gnu_get_libc_version"):
        return None
    return libc
