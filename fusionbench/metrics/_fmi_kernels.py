"""Compiled (numba) per-window loop of the feature mutual information (``analysis_fmi.m``).

Each 3 x 3 window of the two source feature images and of F's is handled exactly as the
original's loop body: the window values in MATLAB's column-major order, every sum in the
original's order, the same branches (including the quirk that F's window, once normalised for
source A, is what source B's test ``bSub == fSub`` sees). See :mod:`fusionbench.metrics.feature_mi`.
"""

from __future__ import annotations

import math

import numpy as np

from fusionbench.metrics._compiled import jit

L = 9  # values per 3 x 3 window


@jit
def _sum9_as_matrix(x: np.ndarray) -> float:
    """``sum(sum(X))`` of a 3 x 3 window stored column-major: column sums, then their sum."""
    total = 0.0
    for c in range(3):
        col = 0.0
        for r in range(3):
            col += x[3 * c + r]
        total += col
    return total


@jit
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


@jit
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


@jit
def _log_pdf(pdf: np.ndarray, logs: np.ndarray) -> float:
    """``logs[i] = log2(pdf[i])`` (0 where pdf[i] = 0) and the entropy
    ``sum(-pdf .* log2(pdf))`` over the nonzero entries, added in order."""
    ent = 0.0
    for i in range(L):
        if pdf[i] != 0:
            logs[i] = math.log2(pdf[i])
            ent += -pdf[i] * logs[i]
        else:
            logs[i] = 0.0
    return ent


@jit
def _entropy_term(p: float) -> float:
    """``real(-p .* log2(p))`` (a negative p, rounding noise, has a complex log in MATLAB)."""
    return -p * math.log2(abs(p))


@jit
def _upper(x: float, y: float) -> float:
    return 0.5 * (x + y - abs(x - y))


@jit
def _lower(x: float, y: float) -> float:
    return 0.5 * (x + y - 1 + abs(x + y - 1))


#: Cells of the joint pdf whose Frechet-bound mass is at most this in magnitude are rounding
#: noise of the bound differences (|noise| < ~1e-15): there the joint pdf is the independent
#: part (1 - phi) f_i s_j, whose entropy terms are summed in closed form (see
#: :func:`_nfmi_of_pdfs`). A true mass this small changes the entropy by < 1e-12.
NOISE = 1e-14


@jit
def _nfmi(s: np.ndarray, f: np.ndarray, work: np.ndarray) -> float:
    """Normalised MI of one source window ``s`` and F's ``f`` (both already normalised), by the
    simplified Nelsen joint pdf between the Frechet bound and independence. ``work``:
    (13, 9) scratch."""
    s_pdf, f_pdf, s_cdf, f_cdf = work[0], work[1], work[2], work[3]
    s_mean, s_sd = _pdf_stats(s, s_pdf, s_cdf)
    f_mean, f_sd = _pdf_stats(f, f_pdf, f_cdf)
    f_log = np.empty(L)
    f_ent = _log_pdf(f_pdf, f_log)
    return _nfmi_of_pdfs(s_pdf, s_cdf, s_mean, s_sd, f_pdf, f_cdf, f_mean, f_sd,
                         np.empty(L), f_log, f_ent, np.zeros((L + 1, L + 1)),
                         np.empty(L * L, np.int64), np.empty(L * L))


@jit
def _nfmi_of_pdfs(s_pdf: np.ndarray, s_cdf: np.ndarray, s_mean: float, s_sd: float,
                  f_pdf: np.ndarray, f_cdf: np.ndarray, f_mean: float, f_sd: float,
                  s_log: np.ndarray, f_log: np.ndarray, f_ent: float, bound: np.ndarray,
                  cells: np.ndarray, masses: np.ndarray) -> float:
    """:func:`_nfmi` from the windows' pdf statistics (:func:`_pdf_stats`), with F's
    ``log2`` pdf and entropy already in ``f_log`` and ``f_ent`` (:func:`_log_pdf`)."""
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
    # The Frechet bound at every (i, j) as the original evaluates it, in bound[i + 1, j + 1]
    # (row and column 0 stay 0: subtracting or adding them changes nothing, so every cell's
    # mass is the original's expression without branches); the cells with mass (a staircase of
    # at most 2 L - 1; elsewhere the mass is rounding noise, < ~1e-15) listed without branches
    # on the data (a mispredicted branch per cell costs more than the arithmetic).
    cov = 0.0
    n_cells = 0
    for i in range(L):
        x = f_cdf[i]
        if upper:
            for j in range(L):
                bound[i + 1, j + 1] = _upper(x, s_cdf[j])
        else:
            for j in range(L):
                bound[i + 1, j + 1] = _lower(x, s_cdf[j])
        # the original adds the 162 terms of cov in one chain; here row by row (the same
        # terms, all of one sign: the sums differ by a few ulps)
        row = 0.0
        for j in range(L):
            row += bound[i + 1, j + 1] - x * s_cdf[j]
        cov += row
        for j in range(L):
            up = ((bound[i + 1, j + 1] - bound[i, j + 1]) - bound[i + 1, j]) + bound[i, j]
            cells[n_cells] = i * L + j
            masses[n_cells] = up
            n_cells += abs(up) > NOISE
    if (upper and c == 0) or s_sd == 0 or f_sd == 0:
        phi = 0.0
    else:
        phi = c / (cov / (f_sd * s_sd))
    s_ent = _log_pdf(s_pdf, s_log)
    # Joint entropy: sum of -p log2|p| over the cells with p != 0, where
    # p = phi * up + (1 - phi) f_i s_j and up is the bound's mass in cell (i, j). Off the
    # staircase p = q = (1 - phi) f_i s_j, whose terms -q (log2|1 - phi| + log2 f_i + log2 s_j)
    # sum over all cells to the closed form below; the staircase cells are then computed as
    # the original does, after taking out their closed-form terms: ~17 logarithms, not 81.
    k = 1 - phi
    joint = 0.0
    log_k = 0.0
    if k != 0:
        log_k = math.log2(abs(k))
        f_mass = 0.0
        s_mass = 0.0
        for i in range(L):
            f_mass += f_pdf[i]
            s_mass += s_pdf[i]
        joint = -k * (log_k * f_mass * s_mass - s_mass * f_ent - f_mass * s_ent)
    for t in range(n_cells):
        i, j = cells[t] // L, cells[t] % L
        q = k * f_pdf[i] * s_pdf[j]
        if q != 0:
            joint -= -q * (log_k + f_log[i] + s_log[j])
        jpdf = phi * masses[t] + q
        if jpdf != 0:
            joint += _entropy_term(jpdf)
    mi = s_ent + f_ent - joint
    return 0.0 if mi == 0 else 2 * mi / (s_ent + f_ent)


@jit
def _load(img: np.ndarray, r: int, c: int, out: np.ndarray) -> None:
    for cc in range(3):
        for rr in range(3):
            out[3 * cc + rr] = img[r + rr, c + cc]


@jit
def _equal(x: np.ndarray, y: np.ndarray) -> bool:
    for i in range(L):
        if x[i] != y[i]:
            return False
    return True


@jit
def _f_statistics(wf: np.ndarray, pdfs: np.ndarray, logs: np.ndarray) -> tuple[float, ...]:
    """Normalise F's window and return its (mean, sd, entropy), its pdf and cdf into
    ``pdfs[2:4]`` and log2 pdf into ``logs[1]``."""
    _normalise(wf)
    f_mean, f_sd = _pdf_stats(wf, pdfs[2], pdfs[3])
    return f_mean, f_sd, _log_pdf(pdfs[2], logs[1])


@jit
def _source_fmi(ws: np.ndarray, f_stats: tuple[float, ...], pdfs: np.ndarray,
                logs: np.ndarray, bound: np.ndarray, cells: np.ndarray,
                masses: np.ndarray) -> float:
    """FMI of one source window ``ws`` (normalised here) against F's, whose statistics
    :func:`_f_statistics` computed."""
    _normalise(ws)
    s_mean, s_sd = _pdf_stats(ws, pdfs[0], pdfs[1])
    return _nfmi_of_pdfs(pdfs[0], pdfs[1], s_mean, s_sd, pdfs[2], pdfs[3], f_stats[0],
                         f_stats[1], logs[0], logs[1], f_stats[2], bound, cells, masses)


@jit
def window_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Sum over the 'valid' 3 x 3 windows of (FMI(A,F) + FMI(B,F)) / 2 of feature images,
    window by window."""
    m, n = a.shape
    wa = np.empty(L)
    wb = np.empty(L)
    wf = np.empty(L)
    pdfs = np.empty((4, L))  # pdf and cdf of the source, then of F
    logs = np.empty((2, L))
    bound = np.zeros((L + 1, L + 1))  # row and column 0 stay 0
    cells = np.empty(L * L, np.int64)
    masses = np.empty(L * L)
    total = 0.0
    for c in range(n - 2):
        for r in range(m - 2):
            _load(a, r, c, wa)
            _load(b, r, c, wb)
            _load(f, r, c, wf)
            f_stats = (0.0, 0.0, 0.0)
            a_equal = _equal(wa, wf)
            if a_equal:
                fmi_af = 1.0
            else:
                f_stats = _f_statistics(wf, pdfs, logs)
                fmi_af = _source_fmi(wa, f_stats, pdfs, logs, bound, cells, masses)
            if _equal(wb, wf):  # F's window normalised if A's was not equal (the original)
                fmi_bf = 1.0
            else:
                if a_equal:  # F not normalised yet (normalising it twice changes nothing)
                    f_stats = _f_statistics(wf, pdfs, logs)
                fmi_bf = _source_fmi(wb, f_stats, pdfs, logs, bound, cells, masses)
            total += (fmi_af + fmi_bf) / 2
    return total


@jit
def _is_binary(x: np.ndarray) -> bool:
    for v in x.flat:
        if v != 0.0 and v != 1.0:
            return False
    return True


@jit
def fmi_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Sum over the 'valid' 3 x 3 windows of (FMI(A,F) + FMI(B,F)) / 2 of feature images:
    :func:`binary_map_sum` where all three hold only 0 and 1 (MATLAB ``edge``, Tang's
    ``FMI_pixel``), else :func:`window_map_sum`; the same value bit for bit."""
    if _is_binary(a) and _is_binary(b) and _is_binary(f):
        return binary_map_sum(a, b, f)
    return window_map_sum(a, b, f)


@jit
def _code(img: np.ndarray, r: int, c: int) -> int:
    """The 0/1 window at (r, c) as a 9-bit number, bit k = value k in :func:`_load`'s order."""
    code = 0
    for cc in range(3):
        for rr in range(3):
            code |= int(img[r + rr, c + cc] != 0.0) << (3 * cc + rr)
    return code


@jit
def _decode(code: int, out: np.ndarray) -> None:
    for k in range(L):
        out[k] = float((code >> k) & 1)


FULL = (1 << L) - 1  #: the code of a window of ones (what a constant window normalises to)


@jit
def _pattern_fmi(table: np.ndarray, code_s: int, code_f: int, ws: np.ndarray, wf: np.ndarray,
                 pdfs: np.ndarray, logs: np.ndarray, bound: np.ndarray, cells: np.ndarray,
                 masses: np.ndarray) -> float:
    """FMI of the source pattern ``code_s`` against F's ``code_f``, from ``table`` or computed
    (both normalised, as the loop does) and stored there."""
    value = table[code_s, code_f]
    if value != value:  # NaN: not computed yet
        _decode(code_s, ws)
        _decode(code_f, wf)
        f_stats = _f_statistics(wf, pdfs, logs)
        value = _source_fmi(ws, f_stats, pdfs, logs, bound, cells, masses)
        table[code_s, code_f] = value
    return value


@jit
def binary_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """:func:`window_map_sum` of 0/1 feature images: a 0/1 window is one of 512 patterns, so
    each (source pattern, F pattern) pair's FMI is computed once, by the same functions, and
    looked up after (the equal-window rules applied to the patterns as the loop does); the
    windows are summed in the same order, so the total is the same bit for bit."""
    m, n = a.shape
    table = np.full((FULL + 1, FULL + 1), np.nan)
    ws = np.empty(L)
    wf = np.empty(L)
    pdfs = np.empty((4, L))
    logs = np.empty((2, L))
    bound = np.zeros((L + 1, L + 1))
    cells = np.empty(L * L, np.int64)
    masses = np.empty(L * L)
    total = 0.0
    for c in range(n - 2):
        for r in range(m - 2):
            code_a, code_b, code_f = _code(a, r, c), _code(b, r, c), _code(f, r, c)
            a_equal = code_a == code_f
            f_normalised = FULL if code_f == 0 else code_f
            if a_equal:
                fmi_af = 1.0
            else:
                fmi_af = _pattern_fmi(table, code_a, code_f, ws, wf, pdfs, logs, bound, cells,
                                      masses)
            if code_b == (code_f if a_equal else f_normalised):
                fmi_bf = 1.0
            else:
                fmi_bf = _pattern_fmi(table, code_b, code_f, ws, wf, pdfs, logs, bound, cells,
                                      masses)
            total += (fmi_af + fmi_bf) / 2
    return total
