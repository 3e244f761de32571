"""Test reference: the per-window loop of the feature mutual information (``analysis_fmi.m``)
as a literal transcription (every cell of the joint pdf and every sum in the original's order),
in plain Python. It was the compiled kernel until ``fusionbench.metrics._fmi_kernels`` summed
the joint entropy's independent part in closed form; the tests hold the kernel to it.

Each 3 x 3 window of the two source feature images and of F's is handled exactly as the
original's loop body: the window values in MATLAB's column-major order, every sum in the
original's order, the same branches (including the quirk that F's window, once normalised for
source A, is what source B's test ``bSub == fSub`` sees). See :mod:`fusionbench.metrics.feature_mi`.
"""

from __future__ import annotations

import math

import numpy as np

L = 9  # values per 3 x 3 window


def _sum9_as_matrix(x: np.ndarray) -> float:
    """``sum(sum(X))`` of a 3 x 3 window stored column-major: column sums, then their sum."""
    total = 0.0
    for c in range(3):
        col = 0.0
        for r in range(3):
            col += x[3 * c + r]
        total += col
    return total


def _normalise(x: np.ndarray) -> None:
    """In place: (x - min) / (max - min), or all ones when the window is constant."""
    lo = x[0]
    hi = x[0]
    for i in range(1, L):
        lo = min(lo, x[i])
        hi = max(hi, x[i])
    if hi == lo:
        for i in range(L):
            x[i] = 1.0
    else:
        for i in range(L):
            x[i] = (x[i] - lo) / (hi - lo)


def _pdf_stats(x: np.ndarray, pdf: np.ndarray, cdf: np.ndarray) -> tuple[float, float]:
    """pdf = x / sum(x), its cdf, and (mean of pdf, population sd of the index under pdf)."""
    s = _sum9_as_matrix(x)
    for i in range(L):
        pdf[i] = x[i] / s
    cdf[0] = pdf[0]
    for i in range(1, L):
        cdf[i] = pdf[i] + cdf[i - 1]
    mean = 0.0
    for i in range(L):
        mean += pdf[i]
    mean /= L
    e = 0.0
    e2 = 0.0
    for i in range(L):
        e += (i + 1) * pdf[i]
        e2 += ((i + 1) ** 2) * pdf[i]
    var = e2 - e * e
    return mean, math.sqrt(var) if var > 0 else 0.0


def _entropy_term(p: float) -> float:
    """``real(-p .* log2(p))`` (a negative p, rounding noise, has a complex log in MATLAB)."""
    return -p * math.log2(abs(p))


def _upper(x: float, y: float) -> float:
    return 0.5 * (x + y - abs(x - y))


def _lower(x: float, y: float) -> float:
    return 0.5 * (x + y - 1 + abs(x + y - 1))


def _bound(upper: bool, x: float, y: float) -> float:
    return _upper(x, y) if upper else _lower(x, y)


def _nfmi(s: np.ndarray, f: np.ndarray, work: np.ndarray) -> float:
    """Normalised MI of one source window ``s`` and F's ``f`` (both already normalised), by the
    simplified Nelsen joint pdf between the Frechet bound and independence."""
    s_pdf, f_pdf, s_cdf, f_cdf = work[0], work[1], work[2], work[3]
    s_mean, s_sd = _pdf_stats(s, s_pdf, s_cdf)
    f_mean, f_sd = _pdf_stats(f, f_pdf, f_cdf)
    cross = 0.0
    ss = 0.0
    ff = 0.0
    for i in range(L):
        st = s_pdf[i] - s_mean
        ft = f_pdf[i] - f_mean
        cross += st * ft
        ss += st * st
        ff += ft * ft
    c = 0.0 if cross == 0 else cross / math.sqrt(ss * ff)
    upper = c >= 0
    # the Frechet bound at every (i, j), formed once (the same operations as the original's
    # repeated evaluations, so the same values)
    bound = work[4:4 + L]
    for i in range(L):
        for j in range(L):
            bound[i, j] = _bound(upper, f_cdf[i], s_cdf[j])
    if (upper and c == 0) or s_sd == 0 or f_sd == 0:
        phi = 0.0
    else:
        cov = 0.0
        for i in range(L):
            for j in range(L):
                cov = cov + bound[i, j]
                cov = cov - f_cdf[i] * s_cdf[j]
        phi = c / (cov / (f_sd * s_sd))
    joint = 0.0
    # corner, then the two 1-D boundaries, then the 2-D walls, in the original's order
    for stage in range(4):
        i_lo, i_hi = (0, 1) if stage == 0 or stage == 2 else (1, L)
        j_lo, j_hi = (0, 1) if stage == 0 or stage == 1 else (1, L)
        for i in range(i_lo, i_hi):
            for j in range(j_lo, j_hi):
                up = bound[i, j]
                if i > 0:
                    up -= bound[i - 1, j]
                if j > 0:
                    up -= bound[i, j - 1]
                if i > 0 and j > 0:
                    up += bound[i - 1, j - 1]
                jpdf = phi * up + (1 - phi) * f_pdf[i] * s_pdf[j]
                if jpdf != 0:
                    joint += _entropy_term(jpdf)
    s_ent = 0.0
    f_ent = 0.0
    for i in range(L):
        if s_pdf[i] != 0:
            s_ent += -s_pdf[i] * math.log2(s_pdf[i])
    for i in range(L):
        if f_pdf[i] != 0:
            f_ent += -f_pdf[i] * math.log2(f_pdf[i])
    mi = s_ent + f_ent - joint
    return 0.0 if mi == 0 else 2 * mi / (s_ent + f_ent)


def _load(img: np.ndarray, r: int, c: int, out: np.ndarray) -> None:
    for cc in range(3):
        for rr in range(3):
            out[3 * cc + rr] = img[r + rr, c + cc]


def _equal(x: np.ndarray, y: np.ndarray) -> bool:
    for i in range(L):
        if x[i] != y[i]:
            return False
    return True


def fmi_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Sum over the 'valid' 3 x 3 windows of (FMI(A,F) + FMI(B,F)) / 2 of feature images."""
    m, n = a.shape
    wa = np.empty(L)
    wb = np.empty(L)
    wf = np.empty(L)
    work = np.empty((4 + L, L))
    total = 0.0
    for c in range(n - 2):
        for r in range(m - 2):
            _load(a, r, c, wa)
            _load(b, r, c, wb)
            _load(f, r, c, wf)
            if _equal(wa, wf):
                fmi_af = 1.0
            else:
                _normalise(wa)
                _normalise(wf)  # stays normalised for B (the original reassigns fSub)
                fmi_af = _nfmi(wa, wf, work)
            if _equal(wb, wf):
                fmi_bf = 1.0
            else:
                _normalise(wb)
                _normalise(wf)
                fmi_bf = _nfmi(wb, wf, work)
            total += (fmi_af + fmi_bf) / 2
    return total
