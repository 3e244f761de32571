"""Compiled (numba) per-window loop of the feature mutual information (``analysis_fmi.m``).

Each 3 x 3 window of the two source feature images and of F's is handled as the original's
loop body: the window values in MATLAB's column-major order, the same branches (including the
quirk that F's window, once normalised for source A, is what source B's test ``bSub == fSub``
sees), the sums in the original's order but for the bound covariance (row by row) and the joint
entropy (its independent part in closed form), natural logarithms for ``log2``.
:func:`fmi_map_sum` takes one of two routes, to the same numbers: :func:`binary_map_sum` for 0/1
feature images, :func:`block_map_sum` for the others; :func:`window_map_sum` is the plain
window-by-window loop both are tested against (``CONVENTIONS.md``, FMI).
See :mod:`fusionbench.metrics.feature_mi`.
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
    """``logs[i] = ln(pdf[i])`` (0 where pdf[i] = 0) and the entropy ``sum(-pdf .* ln(pdf))``
    over the nonzero entries, added in order. Natural logarithms where the original has
    ``log2``: FMI is a ratio of entropies, the same in any base."""
    ent = 0.0
    for i in range(L):
        if pdf[i] != 0:
            logs[i] = math.log(pdf[i])
            ent += -pdf[i] * logs[i]
        else:
            logs[i] = 0.0
    return ent


@jit
def _entropy_term(p: float) -> float:
    """``real(-p .* log(p))`` (a negative p, rounding noise, has a complex log in MATLAB)."""
    return -p * math.log(abs(p))


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
    f_log, s_log = np.empty(L), np.empty(L)
    f_ent = _log_pdf(f_pdf, f_log)
    s_ent = _log_pdf(s_pdf, s_log)
    return _nfmi_of_pdfs(s_pdf, s_cdf, s_mean, s_sd, f_pdf, f_cdf, f_mean, f_sd, s_log, s_ent,
                         f_log, f_ent, np.zeros((L + 1, L + 1)), np.empty(L * L, np.int64),
                         np.empty(L * L))


@jit
def _nfmi_of_pdfs(s_pdf: np.ndarray, s_cdf: np.ndarray, s_mean: float, s_sd: float,
                  f_pdf: np.ndarray, f_cdf: np.ndarray, f_mean: float, f_sd: float,
                  s_log: np.ndarray, s_ent: float, f_log: np.ndarray, f_ent: float,
                  bound: np.ndarray, cells: np.ndarray, masses: np.ndarray) -> float:
    """:func:`_nfmi` from the windows' pdf statistics (:func:`_pdf_stats`), log pdfs and
    entropies (:func:`_log_pdf`)."""
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
    # Joint entropy: sum of -p log|p| over the cells with p != 0, where
    # p = phi * up + (1 - phi) f_i s_j and up is the bound's mass in cell (i, j). Off the
    # staircase p = q = (1 - phi) f_i s_j, whose terms -q (log|1 - phi| + log f_i + log s_j)
    # sum over all cells to the closed form below; the staircase cells are then computed as
    # the original does, after taking out their closed-form terms: ~17 logarithms, not 81.
    k = 1 - phi
    joint = 0.0
    log_k = 0.0
    if k != 0:
        log_k = math.log(abs(k))
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
    ``pdfs[2:4]`` and log pdf into ``logs[1]``."""
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
    s_ent = _log_pdf(pdfs[0], logs[0])
    return _nfmi_of_pdfs(pdfs[0], pdfs[1], s_mean, s_sd, pdfs[2], pdfs[3], f_stats[0],
                         f_stats[1], logs[0], s_ent, logs[1], f_stats[2], bound, cells, masses)


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


def fmi_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Sum over the 'valid' 3 x 3 windows of (FMI(A,F) + FMI(B,F)) / 2 of feature images:
    :func:`binary_map_sum` where all three hold only 0 and 1 (MATLAB ``edge``, Tang's
    ``FMI_pixel``; the same value as :func:`window_map_sum` bit for bit), else
    :func:`block_map_sum` (the same to a few ulps)."""
    if _is_binary(a) and _is_binary(b) and _is_binary(f):
        return binary_map_sum(a, b, f)
    return block_map_sum(a, b, f)


#: Columns of windows per block of :func:`block_map_sum` (its arrays stay in the L2 cache).
BLOCK_COLUMNS = 4


def block_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """:func:`window_map_sum` a block of window columns at a time: the windows' normalised
    pdfs, cdfs and statistics computed for the whole block with the windows in the innermost
    loop (:func:`_block_pdfs`, which the compiler vectorises; each window's operations in the
    same order as the loop's), their logarithms by numpy's vectorised ``log``, then each
    window's FMI from them (:func:`_block_fmi`): a few ulps from the window-by-window loop.

    >>> x = np.zeros((6, 7)); x[:, 3:] = 0.5; y = np.arange(42.0).reshape(6, 7) % 5
    >>> bool(abs(block_map_sum(x, y, (x + y) / 2) - window_map_sum(x, y, (x + y) / 2)) < 1e-12)
    True
    """
    a, b, f = (np.ascontiguousarray(x, dtype=np.float64) for x in (a, b, f))
    m, n = a.shape
    rows = max(m - 2, 0)
    size = rows * min(BLOCK_COLUMNS, max(n - 2, 0))
    pdf = np.empty((3, L, size))  # A, B, F
    cdf = np.empty((3, L, size))
    stats = np.empty((3, 3, size))  # mean, sd, entropy
    logs = np.empty((3, L, size))
    equal = np.empty((2, size), np.bool_)
    scratch = (np.empty((6, L)), np.zeros((L + 1, L + 1)), np.empty(L * L, np.int64),
               np.empty(L * L))
    total = 0.0
    for c0 in range(0, n - 2, BLOCK_COLUMNS):
        c1 = min(c0 + BLOCK_COLUMNS, n - 2)
        count = rows * (c1 - c0)
        _block_pdfs(a, b, f, c0, c1, pdf, cdf, stats, equal)
        np.log(np.where(pdf != 0, pdf, 1.0), out=logs)  # 0 where the pdf is 0
        total = _block_fmi(total, pdf, cdf, stats, logs, equal, count, *scratch)
    return total


@jit
def _block_pdfs(a: np.ndarray, b: np.ndarray, f: np.ndarray, c0: int, c1: int,
                pdf: np.ndarray, cdf: np.ndarray, stats: np.ndarray, equal: np.ndarray) -> None:
    """For the windows of columns c0..c1 (column by column, rows inner, as the loop visits
    them, window w of the block in column w of each (L, size) array): ``equal[0]``, A's
    window equals F's; ``equal[1]``, B's equals F's as the loop sees it (F normalised unless
    A's was equal); ``pdf``, ``cdf`` and ``stats[:, :2]`` (mean, sd) of the normalised
    windows, by :func:`_normalise` and :func:`_pdf_stats`'s operations in their order."""
    rows = a.shape[0] - 2
    count = rows * (c1 - c0)
    for k in range(3):
        img = a if k == 0 else b if k == 1 else f
        for cc in range(3):
            for rr in range(3):
                xi = pdf[k, 3 * cc + rr]
                for c in range(c0, c1):
                    base = (c - c0) * rows
                    for r in range(rows):
                        xi[base + r] = img[r + rr, c + cc]
    ea, eb = equal[0], equal[1]
    ea[:count] = True
    eb[:count] = True
    for i in range(L):
        for w in range(count):
            ea[w] = ea[w] and pdf[0, i, w] == pdf[2, i, w]
            eb[w] = eb[w] and pdf[1, i, w] == pdf[2, i, w]  # kept where A's is equal
    _normalise_block(pdf[2], count, stats[2, 0], stats[2, 1])
    for w in range(count):
        if not ea[w]:
            eb[w] = True
    for i in range(L):
        for w in range(count):
            if not ea[w]:
                eb[w] = eb[w] and pdf[1, i, w] == pdf[2, i, w]
    _normalise_block(pdf[0], count, stats[0, 0], stats[0, 1])
    _normalise_block(pdf[1], count, stats[1, 0], stats[1, 1])
    for k in range(3):
        _pdf_stats_block(pdf[k], cdf[k], stats[k], count)


@jit
def _normalise_block(x: np.ndarray, count: int, lo: np.ndarray, hi: np.ndarray) -> None:
    """:func:`_normalise` of each window (column) of ``x`` (L, size); ``lo``, ``hi``: scratch."""
    for w in range(count):
        lo[w] = x[0, w]
        hi[w] = x[0, w]
    for i in range(1, L):
        for w in range(count):
            lo[w] = min(lo[w], x[i, w])
            hi[w] = max(hi[w], x[i, w])
    for i in range(L):
        for w in range(count):
            x[i, w] = 1.0 if hi[w] == lo[w] else (x[i, w] - lo[w]) / (hi[w] - lo[w])


@jit
def _pdf_stats_block(x: np.ndarray, cdf: np.ndarray, stats: np.ndarray, count: int) -> None:
    """:func:`_pdf_stats` of each window (column) of ``x``, in place: x becomes the pdf;
    ``stats[0]``, ``stats[1]``: mean and sd (``stats[2]`` used as scratch)."""
    total, e, e2 = stats[0], stats[1], stats[2]
    for w in range(count):
        total[w] = 0.0
    for c in range(3):  # _sum9_as_matrix: column sums, then their sum
        for w in range(count):
            total[w] += ((0.0 + x[3 * c, w]) + x[3 * c + 1, w]) + x[3 * c + 2, w]
    for i in range(L):
        for w in range(count):
            x[i, w] = x[i, w] / total[w]
    for w in range(count):
        cdf[0, w] = x[0, w]
    for i in range(1, L):
        for w in range(count):
            cdf[i, w] = x[i, w] + cdf[i - 1, w]
    for w in range(count):
        e[w] = 0.0
        e2[w] = 0.0
        total[w] = 0.0
    for i in range(L):
        for w in range(count):
            total[w] += x[i, w]
            e[w] += (i + 1) * x[i, w]
            e2[w] += ((i + 1) ** 2) * x[i, w]
    for w in range(count):
        total[w] /= L
        var = e2[w] - e[w] * e[w]
        e[w] = math.sqrt(var) if var > 0 else 0.0


@jit
def _block_fmi(total: float, pdf: np.ndarray, cdf: np.ndarray, stats: np.ndarray, logs: np.ndarray,
               equal: np.ndarray, count: int, windows: np.ndarray, bound: np.ndarray,
               cells: np.ndarray, masses: np.ndarray) -> float:
    """``total`` plus (FMI(A,F) + FMI(B,F)) / 2 of each of a block's windows, in order, from
    :func:`_block_pdfs` and the log pdfs (entropies summed here as :func:`_log_pdf` does)."""
    for k in range(3):
        ent = stats[k, 2]
        for w in range(count):
            ent[w] = 0.0
        for i in range(L):
            for w in range(count):
                ent[w] += -pdf[k, i, w] * logs[k, i, w]
    s_pdf, s_cdf, s_log, f_pdf, f_cdf, f_log = (windows[0], windows[1], windows[2],
                                                windows[3], windows[4], windows[5])
    for w in range(count):
        for i in range(L):
            f_pdf[i] = pdf[2, i, w]
            f_cdf[i] = cdf[2, i, w]
            f_log[i] = logs[2, i, w]
        value = 0.0
        for k in range(2):
            if equal[k, w]:
                value += 1.0
                continue
            for i in range(L):
                s_pdf[i] = pdf[k, i, w]
                s_cdf[i] = cdf[k, i, w]
                s_log[i] = logs[k, i, w]
            value += _nfmi_of_pdfs(s_pdf, s_cdf, stats[k, 0, w], stats[k, 1, w], f_pdf, f_cdf,
                                   stats[2, 0, w], stats[2, 1, w], s_log, stats[k, 2, w],
                                   f_log, stats[2, 2, w], bound, cells, masses)
        total += value / 2
    return total


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
