"""Histogram metrics on 8-bit images: entropy (EN), mutual information (MI) and cross entropy
(CE).

The functions take ``uint8`` arrays (any shape) and use one bin per gray level, counted by
compiled loops (:mod:`~fusionbench.metrics._pixel_kernels`; never ``np.histogram``, whose float
bin edges are not integer-aligned).

>>> import numpy as np
>>> img = np.array([[0, 0], [255, 255]], np.uint8)
>>> float(entropy_u8(img))
1.0
>>> float(mutual_information_u8(img, img))
1.0
"""

from __future__ import annotations

import numpy as np

from fusionbench.metrics._compiled import pixel_kernels

_LOG = {"bits": np.log2, "nats": np.log}


def entropy_of_counts(counts: np.ndarray, total: int, unit: str = "bits") -> float:
    """Shannon entropy of a histogram given as counts (zero bins skipped).

    >>> entropy_of_counts(np.array([2, 0, 2]), 4)
    1.0
    """
    p = counts[counts > 0] / total
    return float(-np.sum(p * _LOG[unit](p))) + 0.0  # + 0.0 turns -0.0 into 0.0


def minmax_levels(x: np.ndarray) -> np.ndarray:
    """``x`` min-max normalised to 0..255 and rounded half away from zero (MATLAB ``round``) as
    float64; all zeros for a constant image. VIFB normalises so before MI, Qcb and Qcv.

    >>> minmax_levels(np.array([[2.0, 3.0, 4.0]])).tolist()
    [[0.0, 128.0, 255.0]]
    """
    lo, hi = float(x.min()), float(x.max())
    if hi == lo:
        return np.zeros(x.shape)
    return np.floor((x - lo) / (hi - lo) * 255.0 + 0.5)


def floor_levels(x: np.ndarray) -> np.ndarray:
    """``floor(x)`` clipped to 0..255 as uint8: the gray level VIFB's histograms bin a value in.

    >>> floor_levels(np.array([0.9, 254.5, 300.0])).tolist()
    [0, 254, 255]
    """
    return np.clip(np.floor(x), 0, 255).astype(np.uint8)


def histogram_u8(image: np.ndarray) -> np.ndarray:
    """256-bin histogram (one bin per gray level) of a uint8 image.

    >>> histogram_u8(np.array([0, 0, 3], np.uint8))[:4].tolist()
    [2, 0, 0, 1]
    """
    counts = np.zeros(256, dtype=np.int64)
    pixel_kernels().histogram(np.ascontiguousarray(image, dtype=np.uint8), counts)
    return counts


def joint_histogram_u8(x: np.ndarray, y: np.ndarray, *, tang_quirk: bool = False) -> np.ndarray:
    """256 x 256 joint histogram (flattened to 65536 bins) of two uint8 images.

    With ``tang_quirk`` the MATLAB code's ``uint8(x) + 1`` saturation is reproduced: levels 254
    and 255 fall into one joint bin (in both images), while the marginals keep them apart.

    >>> a = np.array([254, 255], np.uint8)
    >>> int((joint_histogram_u8(a, a, tang_quirk=True) > 0).sum())
    1
    """
    x, y = (np.ascontiguousarray(v, dtype=np.uint8) for v in (x, y))
    counts = np.zeros(65536, dtype=np.int64)
    pixel_kernels().joint_histogram(x, y, 254 if tang_quirk else 255, counts)
    return counts


def merge_254_255(joint: np.ndarray) -> np.ndarray:
    """The ``tang_quirk`` joint histogram from the plain one (levels 254 and 255 merged in
    both images): ``merge_254_255(joint_histogram_u8(x, y))`` equals
    ``joint_histogram_u8(x, y, tang_quirk=True)``.

    >>> a = np.array([254, 255, 3], np.uint8)
    >>> bool(np.array_equal(merge_254_255(joint_histogram_u8(a, a)),
    ...                     joint_histogram_u8(a, a, tang_quirk=True)))
    True
    """
    h = joint.reshape(256, 256).copy()
    h[254] += h[255]
    h[255] = 0
    h[:, 254] += h[:, 255]
    h[:, 255] = 0
    return h.ravel()


def entropy_u8(image: np.ndarray, *, unit: str = "bits",
               hist: np.ndarray | None = None) -> float:
    """Entropy of a uint8 image over 256 gray-level bins (MATLAB ``entropy`` for ``bits``).

    >>> float(entropy_u8(np.zeros((4, 4), np.uint8)))
    0.0
    """
    counts = histogram_u8(image) if hist is None else hist
    return entropy_of_counts(counts, image.size, unit)


def mutual_information_u8(x: np.ndarray, f: np.ndarray, *, unit: str = "bits",
                          tang_quirk: bool = False, hist_x: np.ndarray | None = None,
                          hist_f: np.ndarray | None = None) -> float:
    """MI(X, F) = H(X) + H(F) - H(X, F) of two uint8 images (see :func:`joint_histogram_u8`).

    ``hist_x`` / ``hist_f`` may pass precomputed 256-bin histograms to avoid recounting.

    >>> x = np.array([0, 1, 0, 1], np.uint8)
    >>> float(mutual_information_u8(x, x)), float(mutual_information_u8(x, 1 - x))
    (1.0, 1.0)
    """
    n = x.size
    hx = histogram_u8(x) if hist_x is None else hist_x
    hf = histogram_u8(f) if hist_f is None else hist_f
    hxy = joint_histogram_u8(x, f, tang_quirk=tang_quirk)
    return (entropy_of_counts(hx, n, unit) + entropy_of_counts(hf, n, unit)
            - entropy_of_counts(hxy, n, unit))


def _relative_entropy(p_s: np.ndarray, p_f: np.ndarray) -> float:
    keep = (p_s > 0) & (p_f > 0)
    return float(np.sum(p_s[keep] * np.log2(p_s[keep] / p_f[keep])))


def cross_entropy(f: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """CE (VIFB ``metricsCross_entropy``): the mean over B and A of sum P_S log2(P_S / P_F), the
    256-bin histograms of :func:`floor_levels`; bins empty in either image are skipped (so CE
    can be negative). Lower is better.

    >>> x = np.array([[0.0, 255.0]])
    >>> cross_entropy(x, x, x)
    0.0
    >>> s = np.array([[0.0, 0.0, 0.0, 255.0]])  # P_S = (3/4, 1/4), P_F = (1/2, 1/2) below
    >>> cross_entropy(np.array([[0.0, 0.0, 255.0, 255.0]]), s, s)  # 3/4 log2(3/2) - 1/4
    0.18872187554086717
    """
    p_f = histogram_u8(floor_levels(f)) / f.size
    p_a = histogram_u8(floor_levels(a)) / a.size
    p_b = histogram_u8(floor_levels(b)) / b.size
    return (_relative_entropy(p_b, p_f) + _relative_entropy(p_a, p_f)) / 2.0
