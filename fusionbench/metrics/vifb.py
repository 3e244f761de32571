"""The ``vifb`` metric convention: VIFB's 13 metrics (xingchenzhang/VIFB@22b2ea9).

``VIFB_METRICS`` maps each metric name to a function ``(F, A, B) -> float`` on 2-D float64
arrays on 0..255 (A = infrared / first source, B = visible / second source).
:func:`score_vifb` applies VIFB's colour rule to raw uint8 images as read from disk: for a
colour fused image each metric is computed per channel (with the matching channel of a colour
source, or the single channel of a gray source) and the three values are averaged; SF instead
treats the M x N x 3 image as one M x 3N image (channels side by side). A gray fused image with
a colour source is scored against that source's MATLAB ``rgb2gray`` luminance.

>>> import numpy as np
>>> f = np.zeros((16, 16, 3), np.uint8); f[:, 8:] = 200
>>> scores = score_vifb(f, f[..., 0], f, ["EN", "SF"])
>>> round(scores["EN"], 6), round(scores["SF"], 4)
(1.0, 64.5497)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from fusionbench.colour import rgb2gray_matlab
from fusionbench.errors import MetricError
from fusionbench.metrics.vifb_basic import (
    vifb_ag,
    vifb_ce,
    vifb_ei,
    vifb_en,
    vifb_mi,
    vifb_psnr,
    vifb_rmse,
    vifb_sd,
    vifb_sf,
)
from fusionbench.metrics.vifb_channel import Channel
from fusionbench.metrics.vifb_quality import vifb_qabf, vifb_qcb, vifb_qcv, vifb_ssim

__all__ = ["VIFB_METRICS", "score_vifb", "score_vifb_many"]

#: ``(F, A, B) -> value`` on 2-D float arrays on 0..255 (Channel objects are accepted too).
Metric2D = Callable[[np.ndarray, np.ndarray, np.ndarray], float]

#: VIFB's 13 metrics, in VIFB's order of the README table (names as used by fusionbench).
VIFB_METRICS: dict[str, Metric2D] = {
    "EN": vifb_en,
    "MI": vifb_mi,
    "SD": vifb_sd,
    "SF": vifb_sf,
    "AG": vifb_ag,
    "CE": vifb_ce,
    "EI": vifb_ei,
    "PSNR": vifb_psnr,
    "RMSE": vifb_rmse,
    "SSIM": vifb_ssim,
    "Qabf": vifb_qabf,
    "Qcb": vifb_qcb,
    "Qcv": vifb_qcv,
}


def _check_image(name: str, img: np.ndarray) -> np.ndarray:
    img = np.asarray(img)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] != 3):
        raise MetricError(f"vifb: {name} image must be (H, W) or (H, W, 3), got shape {img.shape}")
    if img.size == 0:
        raise MetricError(f"vifb: {name} image is empty")
    return img


def _prepare_sources(
    a: np.ndarray, b: np.ndarray, fused_ndim: int
) -> list[tuple[Channel, Channel]]:
    """The (A, B) channel pairs that fused channel 0, 1, 2 (or the single gray one) meet."""
    if fused_ndim == 2:
        a = rgb2gray_matlab(a) if a.ndim == 3 else a
        b = rgb2gray_matlab(b) if b.ndim == 3 else b
        return [(Channel(a), Channel(b))]
    # A gray source gives the same Channel to all three fused channels (its work is shared).
    a_ch = [Channel(a)] * 3 if a.ndim == 2 else [Channel(a[..., c]) for c in range(3)]
    b_ch = [Channel(b)] * 3 if b.ndim == 2 else [Channel(b[..., c]) for c in range(3)]
    return list(zip(a_ch, b_ch, strict=True))


def _check_metrics(metrics: Sequence[str]) -> None:
    unknown = [m for m in metrics if m not in VIFB_METRICS]
    if unknown:
        raise MetricError(
            f"vifb: unknown metric(s) {', '.join(unknown)}; known: {', '.join(VIFB_METRICS)}"
        )


def score_vifb_many(
    fused_images: Iterable[np.ndarray], a: np.ndarray, b: np.ndarray, metrics: Sequence[str]
) -> list[dict[str, float]]:
    """Score several fused images of the same source pair; the per-source work is done once.

    Same rules and results as :func:`score_vifb` for each fused image, in order.

    >>> import numpy as np
    >>> g = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))
    >>> [s["RMSE"] for s in score_vifb_many([g, 255 - g], g, g, ["RMSE"])][0]
    0.0
    """
    _check_metrics(metrics)
    a = _check_image("A (first source)", a)
    b = _check_image("B (second source)", b)
    if a.shape[:2] != b.shape[:2]:
        raise MetricError(f"vifb: source sizes differ: A {a.shape[:2]}, B {b.shape[:2]}")
    prepared: dict[int, list[tuple[Channel, Channel]]] = {}
    results = []
    for index, fused in enumerate(fused_images):
        fused = _check_image(f"fused (item {index})", fused)
        if fused.shape[:2] != a.shape[:2]:
            raise MetricError(
                f"vifb: image sizes differ: fused {fused.shape[:2]}, sources {a.shape[:2]}"
            )
        if fused.ndim not in prepared:
            prepared[fused.ndim] = _prepare_sources(a, b, fused.ndim)
        sources = prepared[fused.ndim]
        f_ch = [Channel(fused)] if fused.ndim == 2 else [Channel(fused[..., c]) for c in range(3)]
        out: dict[str, float] = {}
        for name in metrics:
            fn = VIFB_METRICS[name]
            if name == "SF" and fused.ndim == 3:
                side_by_side = np.concatenate([fused[..., c] for c in range(3)], axis=1)
                out[name] = fn(Channel(side_by_side), None, None)  # type: ignore[arg-type]
            else:
                values = [fn(f, sa, sb) for f, (sa, sb) in zip(f_ch, sources, strict=True)]
                out[name] = float(np.mean(values))
        results.append(out)
    return results


def score_vifb(
    fused: np.ndarray, a: np.ndarray, b: np.ndarray, metrics: Sequence[str]
) -> dict[str, float]:
    """Score one triple with VIFB's metrics and colour rule.

    ``fused``, ``a`` (infrared) and ``b`` (visible) are uint8 arrays as read from disk,
    ``(H, W)`` or ``(H, W, 3)``, all of the same height and width.

    >>> import numpy as np
    >>> g = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (16, 1))
    >>> score_vifb(g, g, g, ["RMSE", "SSIM"])
    {'RMSE': 0.0, 'SSIM': 2.0}
    """
    return score_vifb_many([fused], a, b, metrics)[0]
