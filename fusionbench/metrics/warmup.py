"""Compile the metrics engine's numba kernels ahead of the first real use.

numba compiles each kernel on its first call (about 15 s for all of them on a 2-core machine)
and keeps the machine code in its on-disk cache (``__pycache__`` beside the sources, else
numba's user cache), so only the first process after an install or an upgrade pays for it.
``make setup`` calls :func:`compile_kernels` so that runs, tests and worker processes start warm.

>>> compile_kernels() >= 0.0
True
"""

from __future__ import annotations

import time
import warnings

import numpy as np

#: Profiles whose metrics (all of them), scored together, call every compiled kernel.
_PROFILES = ("tang2022", "standard", "cddfuse", "han_viff")


def compile_kernels() -> float:
    """Score a small 8-bit triple and a small float triple under profiles that together use
    every kernel (compiling or loading each); returns the seconds it took."""
    from fusionbench.metrics.engine import score_many

    start = time.perf_counter()
    a, b, f = np.random.default_rng(0).integers(0, 256, (3, 96, 96)).astype(np.uint8)
    a[:64, :64] = b[:64, :64] = f[:64, :64] = 128  # flat: VIFF's Octave-order paths run too
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fused in (f, f * 0.75):  # uint8 and float64 specialisations
            score_many(fused, a, b, profiles=_PROFILES, metrics=["all"])
    return time.perf_counter() - start


if __name__ == "__main__":
    print(f"metric kernels ready in {compile_kernels():.1f} s")
