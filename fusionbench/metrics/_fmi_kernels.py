"""Compiled (numba) kernels of the feature mutual information (``analysis_fmi.m``).

Each 3 x 3 window of the two source feature images and of F's is handled as the original's
loop body: the window values in MATLAB's column-major order, the same branches (including the
quirk that F's window, once normalised for source A, is what source B's test ``bSub == fSub``
sees), natural logarithms for ``log2``. The joint pdf of a window pair is
``phi * bound mass + (1 - phi) f_i s_j`` over its 9 x 9 cells; the Frechet bound's mass lies on
a staircase of at most ``2 L - 1`` cells, found by merging the two cdfs (:func:`_walk`, on each
window's cdf, pdf and log pdf as one row, :data:`RECORD`), so no 9 x 9 table is formed: the
bound covariance is summed over the merged intervals, the joint entropy's independent part in
closed form, and logarithms are taken on the staircase only.
:func:`fmi_map_sum` takes one of two routes, to the same numbers: :func:`binary_map_sum` for 0/1
feature images, :func:`block_map_sum` for the others; :func:`window_map_sum` is the plain
window-by-window loop both are tested against (``CONVENTIONS.md``, FMI). The feature images'
kernels (:func:`sobel_gradients` and :func:`thin_edges` for MATLAB ``edge``,
:func:`dwt_columns` for the dmey sub-bands) give scipy's and PyWavelets' numbers bit for bit.
See :mod:`fusionbench.metrics.feature_mi`.
"""

from __future__ import annotations

import math

import numpy as np

from fusionbench.metrics._compiled import jit

L = 9  # values per 3 x 3 window
SLOTS = 2 * L - 1  # cells of a staircase through the 9 x 9 table (the merged intervals)

#: Staircase cells whose bound mass is at most this are taken as empty (ties of the two cdfs
#: give zero-length intervals; the original's bound differences leave rounding noise < ~1e-15
#: there): their joint pdf is the independent part, summed in closed form. A true mass this
#: small changes the entropy by < 1e-12.
NOISE = 1e-14


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
def _pdf_stats(x: np.ndarray, pdf: np.ndarray, cdf: np.ndarray) -> tuple[float, float, float,
                                                                          float]:
    """pdf = x / sum(x), its cdf, and (mean of pdf, population sd of the index under pdf,
    sum of pdf, sum of cdf)."""
    s = _sum9_as_matrix(x)
    for i in range(L):
        pdf[i] = x[i] / s
    cdf[0] = pdf[0]
    for i in range(1, L):
        cdf[i] = pdf[i] + cdf[i - 1]
    mass = 0.0
    cdf_sum = 0.0
    for i in range(L):
        mass += pdf[i]
        cdf_sum += cdf[i]
    e = 0.0
    e2 = 0.0
    for i in range(L):
        e += (i + 1) * pdf[i]
        e2 += ((i + 1) ** 2) * pdf[i]
    var = e2 - e * e
    return mass / L, math.sqrt(var) if var > 0 else 0.0, mass, cdf_sum


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
def _correlation(cross: float, ss: float, ff: float) -> float:
    """The original's correlation of the two centred pdfs (0 when ``cross`` is exactly 0)."""
    return 0.0 if cross == 0 else cross / math.sqrt(ss * ff)


@jit
def _phi(c: float, cov: float, f_sd: float, s_sd: float) -> float:
    """Weight of the Frechet bound in the joint pdf: c over the bound's correlation (0 for
    c == 0 on the upper bound, or a constant index distribution)."""
    if c == 0 or s_sd == 0 or f_sd == 0:
        return 0.0
    return c / (cov / (f_sd * s_sd))


#: A window's record, as the staircase walk reads it: cdf (L values, then the sentinel inf),
#: pdf (then 0), log pdf (then 0), one row of ``RECORD`` values. A (3, L + 1, 1) side array
#: (:func:`_side_arrays`) is such a record; the block path copies its windows into rows.
RECORD = 3 * (L + 1)
PDF = L + 1  # offset of the pdf in a record
LOG = 2 * (L + 1)  # offset of the log pdf

#: ``_WEIGHTS[lower, i, m]``: the number of the 81 cells whose bound covers an interval of cell
#: (i, m) of the staircase, (L - i)(L - m) for the upper bound, (L - i)(m + 1) for the lower;
#: 0 past the last row or column (i or m = L: the sentinel, no cell).
_WEIGHTS = np.zeros((2, L + 1, L + 1))
_WEIGHTS[0, :L, :L] = np.outer(L - np.arange(L), L - np.arange(L))
_WEIGHTS[1, :L, :L] = np.outer(L - np.arange(L), np.arange(L) + 1)

_INDEX = np.uint64  #: the type of the walk's record indices (see :func:`_step`)


@jit
def _orient_record(s: np.ndarray, col: int, lower: bool, rec: np.ndarray, row: int) -> None:
    """Row ``row`` of ``rec`` (records, sentinels set) from column ``col`` of the source's
    side array ``s`` (3, L + 1, n) as the staircase sees it: unchanged for the upper bound
    min(F_i, S_j) (correlation ``c >= 0``); for the lower bound max(F_i + S_j - 1, 0),
    1 - S taken in reverse (cdf m holds 1 - S[7 - m], cdf 8 holds 1) and the pdf and log pdf
    reversed to match (m holds those of 8 - m)."""
    for m in range(L):
        j = L - 1 - m
        turned = 1.0 - s[0, j - 1, col] if m < L - 1 else 1.0
        rec[row, m] = turned if lower else s[0, m, col]
        rec[row, PDF + m] = s[1, j, col] if lower else s[1, m, col]
        rec[row, LOG + m] = s[2, j, col] if lower else s[2, m, col]


@jit
def _copy_record(s: np.ndarray, col: int, rec: np.ndarray, row: int) -> None:
    """Row ``row`` of ``rec`` (sentinels set): column ``col`` of the side array ``s``."""
    for m in range(L):
        rec[row, m] = s[0, m, col]
        rec[row, PDF + m] = s[1, m, col]
        rec[row, LOG + m] = s[2, m, col]


@jit
def _step(f: np.ndarray, fr: int, g: np.ndarray, gr: int, lower: int, mass: np.ndarray,
          fg: np.ndarray, p: int, s: int, i: int, m: int, prev: float, total: float,
          fg_sum: float, fg_log: float) -> tuple[int, int, float, float, float, float]:
    """Slot ``s`` of :func:`_walk`: the state (i, m, prev, total, fg_sum, fg_log) after it.
    The record indices are unsigned (:data:`_INDEX`): numba adds no test for a negative index
    then (a shorter chain from one slot's compare to the next slot's loads)."""
    fi_, gm_ = _INDEX(i), _INDEX(m)
    fi = f[fr, fi_]
    gm = g[gr, gm_]
    take = fi <= gm
    t = fi if take else gm
    length = t - prev  # >= 0; its cell is no cell (weight 0) once F or G is past its last
    weight = _WEIGHTS[lower, fi_, gm_]
    total += length * weight
    on = (length > NOISE) & (weight != 0)
    x = f[fr, _INDEX(PDF + i)] * g[gr, _INDEX(PDF + m)]  # loaded unconditionally: a select
    lq = f[fr, _INDEX(LOG + i)] + g[gr, _INDEX(LOG + m)]
    x = x if on else 0.0
    mass[s, p] = length if on else 0.0
    fg[s, p] = x
    fg_sum += x
    fg_log += x * lq
    return i + take, m + 1 - take, t, total, fg_sum, fg_log


@jit
def _walk(f: np.ndarray, fr: int, g: np.ndarray, gr: int, lower: bool, mass: np.ndarray,
          fg: np.ndarray, p: int) -> tuple[float, float, float]:
    """The bound's staircase for F's record ``f[fr]`` against the oriented source's
    ``g[gr]`` (:data:`RECORD`, :func:`_orient_record`): the two cdfs merged, interval
    (t_prev, t] lying in cell (i, m) = (#F below it, #G below it), its length that cell's
    mass. Writes slot s's mass (0 if <= NOISE) and f_i g_m (0 likewise) into column p of
    ``mass`` and ``fg``; returns the sum of the bound over all 81 cells (each interval's length
    times the number of cells whose bound covers it, :data:`_WEIGHTS`), the sum of f_i g_m and
    of f_i g_m (log f_i + log g_m) over the staircase."""
    state = (0, 0, 0.0, 0.0, 0.0, 0.0)
    for s in range(SLOTS):
        state = _step(f, fr, g, gr, int(lower), mass, fg, p, s, *state)
    return state[3], state[4], state[5]


@jit
def _walk_two(f: np.ndarray, fr: int, g: np.ndarray, gr0: int, lower0: bool, p0: int,
              gr1: int, lower1: bool, p1: int, mass: np.ndarray,
              fg: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    """:func:`_walk` of F's record against two sources' (pairs p0 and p1) slot by slot
    together: the two chains of dependent loads overlap (each alone waits on its loads)."""
    one = (0, 0, 0.0, 0.0, 0.0, 0.0)
    two = (0, 0, 0.0, 0.0, 0.0, 0.0)
    for s in range(SLOTS):
        one = _step(f, fr, g, gr0, int(lower0), mass, fg, p0, s, *one)
        two = _step(f, fr, g, gr1, int(lower1), mass, fg, p1, s, *two)
    return (one[3], one[4], one[5]), (two[3], two[4], two[5])


@jit
def _joint_base(k: float, log_k: float, f_mass: float, s_mass: float, f_ent: float,
                s_ent: float, fg_sum: float, fg_log: float) -> float:
    """The joint entropy but the staircase cells' own terms: the independent part
    -q log q (q = k f_i s_j, k = 1 - phi) over all cells in closed form, less its terms on the
    staircase cells (whose -J log|J| the caller adds)."""
    if k == 0:
        return 0.0
    return (-k * (log_k * f_mass * s_mass - s_mass * f_ent - f_mass * s_ent)
            + k * (log_k * fg_sum + fg_log))


@jit
def _nfmi_value(s_ent: float, f_ent: float, joint: float) -> float:
    mi = s_ent + f_ent - joint
    return 0.0 if mi == 0 else 2 * mi / (s_ent + f_ent)


# ---- window by window (the tested plain loop; the 0/1 pattern table) ----

@jit
def _side_arrays() -> np.ndarray:
    """(3, L + 1, 1): cdf, pdf, log pdf of one window, row L the walk's sentinel."""
    x = np.empty((3, L + 1, 1))
    x[0, L, 0] = np.inf
    x[1, L, 0] = 0.0
    x[2, L, 0] = 0.0
    return x


@jit
def _side(x: np.ndarray, side: np.ndarray, stats: np.ndarray) -> None:
    """Normalise window ``x`` in place; its cdf, pdf and log pdf into ``side`` (column 0), its
    (mean, sd, entropy, sum of pdf, sum of cdf) into ``stats``."""
    _normalise(x)
    mean, sd, mass, cdf_sum = _pdf_stats(x, side[1, :, 0], side[0, :, 0])
    stats[0] = mean
    stats[1] = sd
    stats[3] = mass
    stats[4] = cdf_sum
    stats[2] = _log_pdf(side[1, :, 0], side[2, :, 0])


@jit
def _pair_fmi(s: np.ndarray, s_stats: np.ndarray, f: np.ndarray, f_stats: np.ndarray,
              g: np.ndarray, mass: np.ndarray, fg: np.ndarray) -> float:
    """Normalised MI of one source window and F's (:func:`_side` of each), by the simplified
    Nelsen joint pdf between the Frechet bound and independence; ``g``: :func:`_side_arrays`
    scratch (the oriented source's record), ``mass``, ``fg``: (SLOTS, 1) scratch."""
    cross = 0.0
    ss = 0.0
    ff = 0.0
    for i in range(L):
        st = s[1, i, 0] - s_stats[0]
        ft = f[1, i, 0] - f_stats[0]
        cross += st * ft
        ss += st * st
        ff += ft * ft
    c = _correlation(cross, ss, ff)
    lower = not c >= 0
    f_record, g_record = f.reshape((1, RECORD)), g.reshape((1, RECORD))
    _orient_record(s, 0, lower, g_record, 0)
    total, fg_sum, fg_log = _walk(f_record, 0, g_record, 0, lower, mass, fg, 0)
    phi = _phi(c, total - f_stats[4] * s_stats[4], f_stats[1], s_stats[1])
    k = 1 - phi
    log_k = math.log(abs(k)) if k != 0 else 0.0
    joint = _joint_base(k, log_k, f_stats[3], s_stats[3], f_stats[2], s_stats[2], fg_sum,
                        fg_log)
    for t in range(SLOTS):
        jpdf = phi * mass[t, 0] + k * fg[t, 0]
        if jpdf != 0:
            joint += _entropy_term(jpdf)
    return _nfmi_value(s_stats[2], f_stats[2], joint)


@jit
def _nfmi(s: np.ndarray, f: np.ndarray) -> float:
    """Normalised MI of two windows ``s`` and ``f`` (copies normalised here).

    >>> round(_nfmi(np.arange(9.0), np.arange(9.0)), 12)
    1.0
    """
    sides = (_side_arrays(), _side_arrays(), _side_arrays())
    stats = np.empty((2, 5))
    _side(s.copy(), sides[0], stats[0])
    _side(f.copy(), sides[1], stats[1])
    return _pair_fmi(sides[0], stats[0], sides[1], stats[1], sides[2], np.empty((SLOTS, 1)),
                     np.empty((SLOTS, 1)))


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
def window_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """Sum over the 'valid' 3 x 3 windows of (FMI(A,F) + FMI(B,F)) / 2 of feature images,
    window by window."""
    m, n = a.shape
    wa = np.empty(L)
    wb = np.empty(L)
    wf = np.empty(L)
    s, fs, g = _side_arrays(), _side_arrays(), _side_arrays()
    stats = np.empty((2, 5))
    mass = np.empty((SLOTS, 1))
    fg = np.empty((SLOTS, 1))
    total = 0.0
    for c in range(n - 2):
        for r in range(m - 2):
            _load(a, r, c, wa)
            _load(b, r, c, wb)
            _load(f, r, c, wf)
            a_equal = _equal(wa, wf)
            if a_equal:
                fmi_af = 1.0
            else:
                _side(wf, fs, stats[1])
                _side(wa, s, stats[0])
                fmi_af = _pair_fmi(s, stats[0], fs, stats[1], g, mass, fg)
            if _equal(wb, wf):  # F's window normalised if A's was not equal (the original)
                fmi_bf = 1.0
            else:
                if a_equal:  # F not normalised yet (normalising it twice changes nothing)
                    _side(wf, fs, stats[1])
                _side(wb, s, stats[0])
                fmi_bf = _pair_fmi(s, stats[0], fs, stats[1], g, mass, fg)
            total += (fmi_af + fmi_bf) / 2
    return total


@jit
def _is_binary(x: np.ndarray) -> bool:
    """Whether every value of the 2-D ``x`` is 0 or 1 (a row at a time, the row's test
    without an early exit so that it vectorises).

    >>> _is_binary(np.eye(3)), _is_binary(np.eye(3) / 2)
    (True, False)
    """
    for r in range(x.shape[0]):
        row = x[r]
        other = False
        for c in range(row.size):
            other |= (row[c] != 0.0) & (row[c] != 1.0)
        if other:
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


# ---- a block of window columns at a time (FMI_dct, FMI_w) ----

#: Columns of windows per block of :func:`block_map_sum` (its arrays stay in the L2 cache).
BLOCK_COLUMNS = 2


def _block_arrays(size: int) -> tuple[np.ndarray, ...]:
    """Scratch of a block of ``size`` windows (``2 size`` window pairs), sentinels set."""
    win = np.empty((3, 3, L + 1, size))  # A, B, F: cdf, pdf, log pdf (row L: the sentinel)
    win[:, 0, L] = np.inf
    win[:, 1:, L] = 0.0
    records = np.empty((3 * size, RECORD))  # F's windows, then the pairs' oriented sources
    records[:, L] = np.inf
    records[:, PDF + L] = 0.0
    records[:, LOG + L] = 0.0
    stats = np.empty((3, 5, size))  # mean, sd, entropy, sum of pdf, sum of cdf
    equal = np.empty((3, size), np.bool_)  # A's and B's windows equal to F's; row 2 scratch
    pairs = np.empty((5, 2 * size))  # c, phi, 1 - phi, sum f g, sum f g log(f g)
    joint = np.empty((SLOTS, 2 * size))  # the staircase masses, then the cells' joint pdfs
    fg = np.empty((SLOTS, 2 * size))
    logs = np.empty((SLOTS + 1, 2 * size))  # |joint pdf| and |1 - phi|, then their logs
    return win, records, stats, equal, pairs, joint, fg, logs


def block_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """:func:`window_map_sum` a block of window columns at a time, in three compiled passes with
    the windows innermost where the work is branch-free: the windows' normalised pdfs, cdfs
    and statistics (:func:`_block_windows`); each window pair's correlation, staircase
    (a window's two pairs walked together, :func:`_walk_two`), phi and joint pdfs
    (:func:`_block_pairs`); the FMI values summed in the
    loop's order (:func:`_block_values`); the logarithms between them by numpy's vectorised
    ``log``: a few ulps from the window-by-window loop. The loops over a block's windows
    (entropies, correlations, joint pdfs, FMI values) run on rows sliced to the block's
    count, which LLVM vectorises; each window's sums keep their order.

    >>> x = np.zeros((6, 7)); x[:, 3:] = 0.5; y = np.arange(42.0).reshape(6, 7) % 5
    >>> bool(abs(block_map_sum(x, y, (x + y) / 2) - window_map_sum(x, y, (x + y) / 2)) < 1e-12)
    True
    """
    columns = [np.ascontiguousarray(np.asarray(x, dtype=np.float64).T) for x in (a, b, f)]
    n, m = columns[0].shape
    rows = max(m - 2, 0)
    size = rows * min(BLOCK_COLUMNS, max(n - 2, 0))
    win, records, stats, equal, pairs, joint, fg, logs = _block_arrays(size)
    window_logs = win[:, 2, :L]  # row L: the sentinel's log, 0
    total = 0.0
    for c0 in range(0, n - 2, BLOCK_COLUMNS):
        c1 = min(c0 + BLOCK_COLUMNS, n - 2)
        count = rows * (c1 - c0)
        _block_windows(*columns, c0, c1, win, stats, equal)
        np.log(window_logs, out=window_logs)
        _block_pairs(win, stats, equal, count, records, pairs, joint, fg, logs)
        np.log(logs, out=logs)
        total = _block_values(total, stats, equal, count, pairs, joint, logs)
    return total


@jit
def _block_windows(a_t: np.ndarray, b_t: np.ndarray, f_t: np.ndarray, c0: int, c1: int,
                   win: np.ndarray, stats: np.ndarray, equal: np.ndarray) -> None:
    """For the windows of columns c0..c1 of the feature images, given transposed (``a_t`` =
    A.T, C-contiguous, so that a window column's values are read in sequence rather than an
    image row apart; columns the length of a row of the 768-wide TNO images fall into the
    same few cache sets), column by column, rows inner, as the loop visits them (window w of
    the block in column w): ``equal[0]``, A's window equals F's; ``equal[1]``, B's equals F's
    as the loop sees it (F normalised unless A's was equal); ``win[k]``, cdf, pdf and log
    argument (pdf, 1 where it is 0; row L is left alone) of the normalised windows and
    ``stats[k]`` their statistics, by :func:`_normalise` and :func:`_pdf_stats`'s operations in
    their order."""
    rows = a_t.shape[1] - 2
    count = rows * (c1 - c0)
    for k in range(3):
        _load_block(a_t if k == 0 else b_t if k == 1 else f_t, c0, c1, win[k, 1])
    ea, eb, b_normalised = equal[0], equal[1], equal[2]
    _equal_block(win[0, 1], win[2, 1], count, ea)
    _equal_block(win[1, 1], win[2, 1], count, eb)  # kept where A's is equal
    _normalise_block(win[2, 1], count, stats[2, 0], stats[2, 1])
    _equal_block(win[1, 1], win[2, 1], count, b_normalised)  # B against F normalised
    for w in range(count):
        eb[w] = eb[w] if ea[w] else b_normalised[w]
    _normalise_block(win[0, 1], count, stats[0, 0], stats[0, 1])
    _normalise_block(win[1, 1], count, stats[1, 0], stats[1, 1])
    for k in range(3):
        _pdf_stats_block(win[k], stats[k], count)
        win[k, 2, :L, count:] = 1.0  # columns past the last block's: no log to take


@jit
def _load_block(img_t: np.ndarray, c0: int, c1: int, x: np.ndarray) -> None:
    """``x[3 cc + rr, w]`` = value (rr, cc) of window w of columns c0..c1 (``img_t``: the
    image transposed), each window row a contiguous copy (of slices: LLVM vectorises the
    copy of two slices of one length, not that of ``x[i, base + r] = img_t[c, r + rr]``)."""
    rows = img_t.shape[1] - 2
    for cc in range(3):
        for rr in range(3):
            for c in range(c0, c1):
                base = (c - c0) * rows
                dst = x[3 * cc + rr, base:base + rows]
                src = img_t[c + cc, rr:rr + rows]
                for r in range(rows):
                    dst[r] = src[r]


@jit
def _equal_block(x: np.ndarray, y: np.ndarray, count: int, out: np.ndarray) -> None:
    """``out[w]``: window w of ``x`` equals that of ``y`` (all L values; (L, size) each)."""
    for w in range(count):
        out[w] = True
    for i in range(L):
        x_i, y_i = x[i], y[i]
        for w in range(count):
            out[w] = out[w] & (x_i[w] == y_i[w])


@jit
def _normalise_block(x: np.ndarray, count: int, lo: np.ndarray, hi: np.ndarray) -> None:
    """:func:`_normalise` of each window (column) of ``x`` (L, size); ``lo``, ``hi``: scratch."""
    lo, hi, x_0 = lo[:count], hi[:count], x[0, :count]
    for w in range(count):
        lo[w] = x_0[w]
        hi[w] = x_0[w]
    for i in range(1, L):
        x_i = x[i, :count]
        for w in range(count):
            lo[w] = min(lo[w], x_i[w])
            hi[w] = max(hi[w], x_i[w])
    for i in range(L):
        x_i = x[i, :count]
        for w in range(count):
            x_i[w] = 1.0 if hi[w] == lo[w] else (x_i[w] - lo[w]) / (hi[w] - lo[w])


@jit
def _pdf_stats_block(side: np.ndarray, stats: np.ndarray, count: int) -> None:
    """:func:`_pdf_stats` of each window (column) of ``side[1]``, in place (it becomes the pdf;
    ``side[0]`` the cdf, ``side[2]`` the log argument); ``stats``: mean, sd, (entropy: later),
    sum of pdf, sum of cdf. Each loop writes one or few rows (so that it vectorises)."""
    cdf, x, arg = side[0], side[1], side[2]
    total, e, e2, mass, cdf_sum = (stats[0, :count], stats[1, :count], stats[2, :count],
                                   stats[3, :count], stats[4, :count])
    for w in range(count):
        total[w] = 0.0
    for c in range(3):  # _sum9_as_matrix: column sums, then their sum
        x_0, x_1, x_2 = x[3 * c, :count], x[3 * c + 1, :count], x[3 * c + 2, :count]
        for w in range(count):
            total[w] += ((0.0 + x_0[w]) + x_1[w]) + x_2[w]
    for i in range(L):
        x_i = x[i, :count]
        for w in range(count):
            x_i[w] = x_i[w] / total[w]
    for i in range(L):
        x_i, arg_i = x[i, :count], arg[i, :count]
        for w in range(count):
            arg_i[w] = x_i[w] if x_i[w] != 0 else 1.0
    cdf_0, x_0 = cdf[0, :count], x[0, :count]
    for w in range(count):
        cdf_0[w] = x_0[w]
    for i in range(1, L):
        cdf_i, cdf_prev, x_i = cdf[i, :count], cdf[i - 1, :count], x[i, :count]
        for w in range(count):
            cdf_i[w] = x_i[w] + cdf_prev[w]
    for w in range(count):
        e[w] = 0.0
        e2[w] = 0.0
        mass[w] = 0.0
        cdf_sum[w] = 0.0
    for i in range(L):
        x_i = x[i, :count]
        for w in range(count):
            mass[w] += x_i[w]
            e[w] += (i + 1) * x_i[w]
            e2[w] += ((i + 1) ** 2) * x_i[w]
    for i in range(L):
        cdf_i = cdf[i, :count]
        for w in range(count):
            cdf_sum[w] += cdf_i[w]
    for w in range(count):
        total[w] = mass[w] / L
        var = e2[w] - e[w] * e[w]
        e[w] = math.sqrt(var) if var > 0 else 0.0


@jit
def _entropy_block(x: np.ndarray, logs: np.ndarray, rows: int, start: int, count: int,
                   out: np.ndarray) -> None:
    """``out[w] = sum_i -x[i, w] logs[i, w]`` over rows i < ``rows`` in order, for the
    ``count`` columns w from ``start`` (2-D C arrays). Loops over columns written on rows
    sliced to one length (every array of the loop, one or few outputs) are what LLVM
    vectorises (here and below)."""
    out = out[start:start + count]
    for w in range(count):
        out[w] = 0.0
    for i in range(rows):
        x_i, logs_i = x[i, start:start + count], logs[i, start:start + count]
        for w in range(count):
            out[w] += -x_i[w] * logs_i[w]


@jit
def _correlation_block(s: np.ndarray, s_mean: np.ndarray, f: np.ndarray, f_mean: np.ndarray,
                       count: int, pairs: np.ndarray, start: int) -> None:
    """:func:`_pair_fmi`'s correlation of source window w (column w of the pdfs ``s``, (L,
    size)) and F's (``f``), for the first ``count`` windows, into ``pairs[0, start + w]``;
    ``pairs[1:4]`` scratch there for the cross and squared sums, each added over i in order."""
    end = start + count
    cross, ss, ff = pairs[1, start:end], pairs[2, start:end], pairs[3, start:end]
    s_mean, f_mean = s_mean[:count], f_mean[:count]
    for w in range(count):
        cross[w] = 0.0
        ss[w] = 0.0
        ff[w] = 0.0
    for i in range(L):
        s_i, f_i = s[i, :count], f[i, :count]
        for w in range(count):
            st = s_i[w] - s_mean[w]
            ft = f_i[w] - f_mean[w]
            cross[w] += st * ft
            ss[w] += st * st
            ff[w] += ft * ft
    c = pairs[0, start:end]
    for w in range(count):
        c[w] = _correlation(cross[w], ss[w], ff[w])


@jit
def _block_pairs(win: np.ndarray, stats: np.ndarray, equal: np.ndarray, count: int,
                 records: np.ndarray, pairs: np.ndarray, joint: np.ndarray, fg: np.ndarray,
                 logs: np.ndarray) -> None:
    """Each window pair's (pair p = k size + w: source k's window w against F's) correlation,
    staircase, phi and its staircase cells' joint pdfs (into ``joint``), with the arguments of
    the logarithms to take (``logs``: |joint pdf|, last row |1 - phi|; 1 where 0). The
    entropies of the windows (``stats[:, 2]``) from their log pdfs first. ``records``: F's
    window w in row w, pair p's oriented source in row size + p (:func:`_orient_record`); the
    two pairs of a window walked together (:func:`_walk_two`)."""
    size = stats.shape[2]
    for k in range(3):
        _entropy_block(win[k, 1], win[k, 2], L, 0, count, stats[k, 2])
    for k in range(2):
        _correlation_block(win[k, 1], stats[k, 0], win[2, 1], stats[2, 0], count, pairs,
                           k * size)
    c = pairs[0]
    f = win[2]
    for w in range(count):
        _copy_record(f, w, records, w)
        for k in range(2):
            p = k * size + w
            _orient_record(win[k], w, not c[p] >= 0, records, size + p)
    for w in range(count):
        pa, pb = w, size + w
        walks = _walk_two(records, w, records, size + pa, not c[pa] >= 0, pa, size + pb,
                          not c[pb] >= 0, pb, joint, fg)
        for k in range(2):
            p = k * size + w
            if equal[k, w]:
                pairs[1, p] = 0.0
                pairs[2, p] = 1.0
                for t in range(SLOTS):
                    joint[t, p] = 0.0
                    fg[t, p] = 0.0
                logs[SLOTS, p] = 1.0
                continue
            total, fg_sum, fg_log = walks[k]
            phi = _phi(c[p], total - stats[2, 4, w] * stats[k, 4, w], stats[2, 1, w],
                       stats[k, 1, w])
            pairs[1, p] = phi
            pairs[2, p] = 1 - phi
            pairs[3, p] = fg_sum
            pairs[4, p] = fg_log
            logs[SLOTS, p] = abs(1 - phi) if 1 - phi != 0 else 1.0
    for k in range(2):
        pk = slice(k * size, k * size + count)
        phi, kk = pairs[1, pk], pairs[2, pk]
        for t in range(SLOTS):
            joint_t, fg_t, logs_t = joint[t, pk], fg[t, pk], logs[t, pk]
            for p in range(count):
                jpdf = phi[p] * joint_t[p] + kk[p] * fg_t[p]
                joint_t[p] = jpdf
                logs_t[p] = abs(jpdf) if jpdf != 0 else 1.0
        logs[:, k * size + count:(k + 1) * size] = 1.0  # past the last block's windows


@jit
def _fmi_block(s_stats: np.ndarray, f_stats: np.ndarray, equal: np.ndarray, count: int,
               pairs: np.ndarray, log_k: np.ndarray, start: int) -> None:
    """FMI of pairs ``start + w`` (source window w against F's, w < ``count``) into
    ``pairs[1]``, from 1 - phi, the staircase sums and cells' entropy (``pairs[2:5]``,
    ``pairs[0]``) and ln|1 - phi| (``log_k``): 1 for a pair of equal windows (whatever
    the rest holds for it)."""
    end = start + count
    ent, fmi, kk, fg_sum, fg_log = (pairs[0, start:end], pairs[1, start:end],
                                    pairs[2, start:end], pairs[3, start:end],
                                    pairs[4, start:end])
    log_k = log_k[start:end]
    f_mass, s_mass, f_ent, s_ent = (f_stats[3, :count], s_stats[3, :count], f_stats[2, :count],
                                    s_stats[2, :count])
    equal = equal[:count]
    for w in range(count):
        joint = _joint_base(kk[w], log_k[w], f_mass[w], s_mass[w], f_ent[w], s_ent[w],
                            fg_sum[w], fg_log[w])
        value = _nfmi_value(s_ent[w], f_ent[w], joint + ent[w])
        fmi[w] = 1.0 if equal[w] else value


@jit
def _block_values(total: float, stats: np.ndarray, equal: np.ndarray, count: int,
                  pairs: np.ndarray, joint: np.ndarray, logs: np.ndarray) -> float:
    """``total`` plus (FMI(A,F) + FMI(B,F)) / 2 of each of a block's windows, in order, from
    :func:`_block_pairs` and the logarithms of its ``logs``: the staircase cells' entropy
    terms and each pair's FMI in vectorised loops over the windows, then the sum."""
    size = stats.shape[2]
    ent = pairs[0]  # c is no longer needed: the staircase cells' -J log|J|
    for k in range(2):  # -0.0 where J = 0 (its log 0): no term
        _entropy_block(joint, logs, SLOTS, k * size, count, ent)
    fmi = pairs[1]  # phi is no longer needed: the pairs' FMI
    for k in range(2):
        _fmi_block(stats[k], stats[2], equal[k], count, pairs, logs[SLOTS], k * size)
    for w in range(count):
        total += (fmi[w] + fmi[size + w]) / 2
    return total


# ---- 0/1 feature images (FMI_pixel) ----

@jit
def _codes(img: np.ndarray) -> np.ndarray:
    """Every 'valid' 0/1 window of ``img`` as a 9-bit number (bit k = value k in :func:`_load`'s
    order), window (r, c) at [c, r]: each pixel's column of three as 3 bits, then three
    neighbouring columns side by side (written 16 rows at a time: the transposed stores stay
    in a few cache lines)."""
    m, n = img.shape
    column = np.empty((m - 2, n), np.int16)
    for r in range(m - 2):
        for c in range(n):
            column[r, c] = (int(img[r, c] != 0.0) | (int(img[r + 1, c] != 0.0) << 1)
                            | (int(img[r + 2, c] != 0.0) << 2))
    codes = np.empty((n - 2, m - 2), np.int16)
    for r0 in range(0, m - 2, 16):
        for c in range(n - 2):
            for r in range(r0, min(r0 + 16, m - 2)):
                codes[c, r] = column[r, c] | (column[r, c + 1] << 3) | (column[r, c + 2] << 6)
    return codes


@jit
def _decode(code: int, out: np.ndarray) -> None:
    for k in range(L):
        out[k] = float((code >> k) & 1)


FULL = (1 << L) - 1  #: the code of a window of ones (what a constant window normalises to)


@jit
def _pattern_side(code: int, sides: np.ndarray, side_stats: np.ndarray, known: np.ndarray,
                  w: np.ndarray) -> None:
    """:func:`_side` of pattern ``code`` into ``sides[code]``, ``side_stats[code]`` (once:
    ``known[code]`` set), ``w``: scratch."""
    if not known[code]:
        _decode(code, w)
        _side(w, sides[code], side_stats[code])
        known[code] = True


@jit
def _pattern_fmi(table: np.ndarray, code_s: int, code_f: int, sides: np.ndarray,
                 side_stats: np.ndarray, known: np.ndarray, w: np.ndarray, g: np.ndarray,
                 mass: np.ndarray, fg: np.ndarray) -> float:
    """FMI of the source pattern ``code_s`` against F's ``code_f`` (both normalised, as the
    loop does, each pattern once: :func:`_pattern_side`), computed and stored in ``table``
    (the caller looks it up first: NaN there means not computed yet)."""
    _pattern_side(code_f, sides, side_stats, known, w)
    _pattern_side(code_s, sides, side_stats, known, w)
    value = _pair_fmi(sides[code_s], side_stats[code_s], sides[code_f], side_stats[code_f], g,
                      mass, fg)
    table[code_s, code_f] = value
    return value


@jit
def binary_map_sum(a: np.ndarray, b: np.ndarray, f: np.ndarray) -> float:
    """:func:`window_map_sum` of 0/1 feature images: a 0/1 window is one of 512 patterns, so
    each pattern's normalised pdf and statistics and each (source pattern, F pattern) pair's
    FMI are computed once, by the same functions, and looked up after (the equal-window rules
    applied to the patterns as the loop does); the windows are summed in the same order, so
    the total is the same bit for bit."""
    m, n = a.shape
    if m < 3 or n < 3:
        return 0.0
    table = np.full((FULL + 1, FULL + 1), np.nan)
    sides = np.empty((FULL + 1, 3, L + 1, 1))
    sides[:, 0, L] = np.inf  # the walk's sentinel (:func:`_side_arrays`)
    sides[:, 1:, L] = 0.0
    side_stats = np.empty((FULL + 1, 5))
    known = np.zeros(FULL + 1, np.bool_)
    w, g = np.empty(L), _side_arrays()
    mass = np.empty((SLOTS, 1))
    fg = np.empty((SLOTS, 1))
    codes_a, codes_b, codes_f = _codes(a), _codes(b), _codes(f)
    total = 0.0
    for c in range(n - 2):
        column_a, column_b, column_f = codes_a[c], codes_b[c], codes_f[c]
        for r in range(m - 2):
            code_a, code_b, code_f = column_a[r], column_b[r], column_f[r]
            a_equal = code_a == code_f
            f_normalised = FULL if code_f == 0 else code_f
            if a_equal:
                fmi_af = 1.0
            else:
                fmi_af = table[code_a, code_f]
                if fmi_af != fmi_af:  # NaN: not computed yet
                    fmi_af = _pattern_fmi(table, code_a, code_f, sides, side_stats, known, w,
                                          g, mass, fg)
            if code_b == (code_f if a_equal else f_normalised):
                fmi_bf = 1.0
            else:
                fmi_bf = table[code_b, code_f]
                if fmi_bf != fmi_bf:
                    fmi_bf = _pattern_fmi(table, code_b, code_f, sides, side_stats, known, w,
                                          g, mass, fg)
            total += (fmi_af + fmi_bf) / 2
    return total


# ---- the wavelet feature image (FMI_w) ----

@jit
def dwt_columns(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, out_lo: np.ndarray,
                out_hi: np.ndarray) -> None:
    """One level of the DWT of every column of ``x`` (at least as long as the filters):
    PyWavelets' ``downsampling_convolution`` (step 2, mode ``'symmetric'``) with the
    decomposition filters ``lo`` and ``hi``, each output's taps added in its order (the
    in-signal taps, then the mirrored ones on the left edge; the mirrored taps, highest first,
    then the others on the right edge), so the same numbers bit for bit; all columns at once."""
    n, cols = x.shape
    taps = lo.size
    for o in range(out_lo.shape[0]):
        i = 2 * o + 1
        a = out_lo[o]
        d = out_hi[o]
        for c in range(cols):
            a[c] = 0.0
            d[c] = 0.0
        if i < n:  # in-signal taps first (all of them away from the edges)
            first, last = 0, min(i + 1, taps)
        else:  # the mirrored taps i - n .. 0 first, at rows n - 1 - j
            _add_taps(a, d, lo, hi, x, i - n, -1, n - 1, -1, i - n + 1)
            first, last = i - n + 1, taps
        _add_taps(a, d, lo, hi, x, first, 1, i - first, -1, last - first)
        if i < taps:  # then the mirrored taps i + 1 .. on the left edge, at rows j - i - 1
            _add_taps(a, d, lo, hi, x, i + 1, 1, 0, 1, taps - i - 1)


@jit
def _add_taps(a: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray, x: np.ndarray,
              k0: int, dk: int, r0: int, dr: int, count: int) -> None:
    """``a += lo[k] * x[r]`` and ``d += hi[k] * x[r]`` for the ``count`` taps k = k0 + t dk at
    rows r = r0 + t dr, t = 0, 1, ..., added in that order (one rounding per product and per
    addition, as one tap at a time), four taps per pass over the row (fewer loads and stores
    of ``a`` and ``d``)."""
    cols = a.size
    t = 0
    while t + 4 <= count:
        k, r = k0 + t * dk, r0 + t * dr
        x0, x1, x2, x3 = x[r], x[r + dr], x[r + 2 * dr], x[r + 3 * dr]
        h0, h1, h2, h3 = lo[k], lo[k + dk], lo[k + 2 * dk], lo[k + 3 * dk]
        for c in range(cols):
            a[c] = (((a[c] + h0 * x0[c]) + h1 * x1[c]) + h2 * x2[c]) + h3 * x3[c]
        h0, h1, h2, h3 = hi[k], hi[k + dk], hi[k + 2 * dk], hi[k + 3 * dk]
        for c in range(cols):
            d[c] = (((d[c] + h0 * x0[c]) + h1 * x1[c]) + h2 * x2[c]) + h3 * x3[c]
        t += 4
    while t < count:
        k, r = k0 + t * dk, r0 + t * dr
        row = x[r]
        h_lo, h_hi = lo[k], hi[k]
        for c in range(cols):
            a[c] += h_lo * row[c]
        for c in range(cols):
            d[c] += h_hi * row[c]
        t += 1


# ---- the edge feature image (FMI_pixel) ----

@jit
def sobel_gradients(x: np.ndarray, bx: np.ndarray, by: np.ndarray, b: np.ndarray) -> None:
    """``scipy.ndimage.correlate(x, op.T)``, ``correlate(x, op)`` (op = ``fspecial('sobel')/8``,
    mode ``'nearest'``) into ``bx``, ``by``, and b = bx^2 + by^2: each sum over the nonzero
    taps in scipy's (row-major) order, so the same numbers bit for bit."""
    m, n = x.shape
    for r in range(m):
        r0, r2 = max(r - 1, 0), min(r + 1, m - 1)
        for c in range(n):
            c0, c2 = max(c - 1, 0), min(c + 1, n - 1)
            gx = 0.0
            gx += x[r0, c0] * 0.125
            gx += x[r0, c2] * -0.125
            gx += x[r, c0] * 0.25
            gx += x[r, c2] * -0.25
            gx += x[r2, c0] * 0.125
            gx += x[r2, c2] * -0.125
            gy = 0.0
            gy += x[r0, c0] * 0.125
            gy += x[r0, c] * 0.25
            gy += x[r0, c2] * 0.125
            gy += x[r2, c0] * -0.125
            gy += x[r2, c] * -0.25
            gy += x[r2, c2] * -0.125
            bx[r, c] = gx
            by[r, c] = gy
            b[r, c] = gx * gx + gy * gy


@jit
def thin_edges(bx: np.ndarray, by: np.ndarray, b: np.ndarray, cutoff: float,
               out: np.ndarray) -> None:
    """``out`` = 1 where b > cutoff and b is a horizontal maximum with |bx| >= |by| - 100 eps
    or a vertical one with |by| >= |bx| - 100 eps (see ``feature_mi.matlab_sobel_edges``),
    else 0: the pixels away from the border in vectorised row passes
    (:func:`_thin_interior`), the border ones one by one."""
    m, n = b.shape
    for r in range(m):
        if 0 < r < m - 1 and n > 2:
            _thin_interior(bx[r, 1:n - 1], by[r, 1:n - 1], b[r - 1, 1:n - 1], b[r, 0:n - 2],
                           b[r, 1:n - 1], b[r, 2:n], b[r + 1, 1:n - 1], cutoff,
                           out[r, 1:n - 1])
            _thin_pixel(bx, by, b, cutoff, out, r, 0)
            _thin_pixel(bx, by, b, cutoff, out, r, n - 1)
        else:
            for c in range(n):
                _thin_pixel(bx, by, b, cutoff, out, r, c)


@jit
def _thin_interior(bx: np.ndarray, by: np.ndarray, up: np.ndarray, left: np.ndarray,
                   v: np.ndarray, right: np.ndarray, down: np.ndarray, cutoff: float,
                   out: np.ndarray) -> None:
    """:func:`thin_edges`' rule on a row's interior pixels (``v``: their b, the others their
    neighbours' b; all one length)."""
    for c in range(v.size):
        out[c] = _edge_rule(bx[c], by[c], v[c], left[c], right[c], up[c], down[c], cutoff)


@jit
def _thin_pixel(bx: np.ndarray, by: np.ndarray, b: np.ndarray, cutoff: float, out: np.ndarray,
                r: int, c: int) -> None:
    """:func:`thin_edges`' rule at pixel (r, c), -inf outside the image."""
    m, n = b.shape
    left = b[r, c - 1] if c > 0 else -np.inf
    right = b[r, c + 1] if c < n - 1 else -np.inf
    up = b[r - 1, c] if r > 0 else -np.inf
    down = b[r + 1, c] if r < m - 1 else -np.inf
    out[r, c] = _edge_rule(bx[r, c], by[r, c], b[r, c], left, right, up, down, cutoff)


@jit
def _edge_rule(bx: float, by: float, v: float, left: float, right: float, up: float,
               down: float, cutoff: float) -> float:
    """:func:`thin_edges`' rule at one pixel of strength ``v`` with neighbours' strengths
    ``left`` .. ``down``: 1.0 or 0.0, the comparisons combined without branches."""
    tol = 100 * np.finfo(np.float64).eps
    ax, ay = abs(bx), abs(by)
    horizontal = (ax >= ay - tol) & (left <= v) & (v > right)
    vertical = (ay >= ax - tol) & (up <= v) & (v > down)
    return 1.0 if (v > cutoff) & (horizontal | vertical) else 0.0
