"""Multi-scale guided filter fusion, MGFF (D. P. Bavirisetti et al., CSSP 38, 2019).

Both sources are decomposed together over ``levels`` scales. At each scale the base of one
source is the guided filter of the *other* source's previous base, guided by its own previous
base (the pairing used in the authors' released code); the detail is previous base minus new base.
Detail weights are proportional to detail magnitude (``|D_a| / (|D_a| + |D_b|)``, 1/2 where both
are 0); the final bases are averaged. ``F = mean(bases) + sum_k (w_a D_a + w_b D_b)``,
clipped to [0, 1] (the detail sum can overshoot).

Fusing an image with itself returns it up to rounding (the details telescope back).

>>> import numpy as np
>>> x = np.random.default_rng(0).random((16, 19))
>>> bool(np.allclose(mgff_fuse(x, x), x))
True
"""

from __future__ import annotations

import numpy as np

from fusionbench.errors import MethodError

from ._common import check_pair, guided_filter, safe_ratio


def mgff_fuse(
    a: np.ndarray,
    b: np.ndarray,
    r: int = 9,
    eps: float = 1000.0 / 255.0**2,
    levels: int = 4,
) -> np.ndarray:
    """Fuse two gray images with MGFF (defaults r=9, eps=10^3 on the 0..255 scale, 4 levels)."""
    x, y = check_pair(a, b, "mgff")
    if int(r) != r or r < 1 or int(levels) != levels or levels < 1:
        raise MethodError(f"mgff: r and levels must be positive integers, got {r!r}, {levels!r}")
    if not eps > 0:
        raise MethodError(f"mgff: eps must be > 0, got {eps!r}")
    base_x, base_y = x, y
    fused = np.zeros_like(x)
    for _ in range(int(levels)):
        new_x = guided_filter(base_x, base_y, int(r), float(eps))
        new_y = guided_filter(base_y, base_x, int(r), float(eps))
        det_x, det_y = base_x - new_x, base_y - new_y
        mag_x, mag_y = np.abs(det_x), np.abs(det_y)
        w_x = safe_ratio(mag_x, mag_x + mag_y, 0.5)
        fused += w_x * det_x + (1.0 - w_x) * det_y
        base_x, base_y = new_x, new_y
    return np.clip(fused + 0.5 * (base_x + base_y), 0.0, 1.0)
