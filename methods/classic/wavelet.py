"""Discrete wavelet transform fusion with PyWavelets: max-abs details, averaged approximation.

The 2-D DWT (symmetric borders) is taken to ``levels`` levels; each detail coefficient of the
fused image is the one of larger magnitude, the approximation is the mean of both, and the
inverse DWT is cropped back to the input size (odd sizes grow by one sample in PyWavelets).

>>> import numpy as np
>>> x = np.random.default_rng(0).random((15, 21))
>>> bool(np.allclose(dwt_fuse(x, x), x))
True
"""

from __future__ import annotations

import numpy as np
import pywt

from fusionbench.errors import MethodError

from ._common import check_pair


def dwt_fuse(a: np.ndarray, b: np.ndarray, wavelet: str = "db2", levels: int = 3) -> np.ndarray:
    """Fuse in the wavelet domain; ``levels`` is capped by ``pywt.dwt_max_level`` (at least 1).

    Max-abs selection can overshoot the input range, so the result is clipped to [0, 1].
    """
    x, y = check_pair(a, b, "dwt")
    try:
        wav = pywt.Wavelet(wavelet)
    except ValueError as exc:
        raise MethodError(f"dwt: unknown wavelet {wavelet!r} (see pywt.wavelist())") from exc
    if int(levels) != levels or levels < 1:
        raise MethodError(f"dwt: levels must be a positive integer, got {levels!r}")
    n = max(1, min(int(levels), pywt.dwt_max_level(min(x.shape), wav.dec_len)))
    cx = pywt.wavedec2(x, wav, mode="symmetric", level=n)
    cy = pywt.wavedec2(y, wav, mode="symmetric", level=n)
    fused: list = [0.5 * (cx[0] + cy[0])]
    for dx, dy in zip(cx[1:], cy[1:], strict=True):
        fused.append(tuple(np.where(np.abs(u) >= np.abs(v), u, v)
                           for u, v in zip(dx, dy, strict=True)))
    out = pywt.waverec2(fused, wav, mode="symmetric")
    return np.clip(out[: x.shape[0], : x.shape[1]], 0.0, 1.0)
