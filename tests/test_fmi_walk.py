"""FMI's staircase walk on window records (``_fmi_kernels``): the bound's staircase against the
9 x 9 Frechet-bound table the original forms, and the two-pair walk of the block path against
single walks, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from fusionbench.metrics import _fmi_kernels as K


def _side(window: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A window's side array (cdf, pdf, log pdf; normalised as the loop does) and stats."""
    side, stats = K._side_arrays(), np.empty(5)
    K._side(window.astype(float), side, stats)
    return side, stats


def _windows(rng: np.random.Generator) -> np.ndarray:
    """A 3 x 3 window (column-major, 9 values): small integers, so ties and zero pdf entries
    (the staircase's empty cells) are common."""
    return rng.integers(0, 4, 9).astype(float)


def _records(f_side: np.ndarray, s_side: np.ndarray, lower: bool) -> np.ndarray:
    """Row 0: F's record; row 1: the source's, oriented for the bound."""
    rec = np.empty((2, K.RECORD))
    rec[:, K.L] = np.inf
    rec[:, K.PDF + K.L] = 0.0
    rec[:, K.LOG + K.L] = 0.0
    K._copy_record(f_side, 0, rec, 0)
    K._orient_record(s_side, 0, lower, rec, 1)
    return rec


@pytest.mark.parametrize("seed", range(4))
def test_walk_finds_the_mass_of_the_frechet_bound_table(seed: int) -> None:
    """The staircase's masses are the original's bound differences (four-term, over the 9 x 9
    table of min(F_i, S_j) or max(F_i + S_j - 1, 0)) cell by cell, its sums the table's:
    the bound over all 81 cells, f_i s_j and f_i s_j (log f_i + log s_j) over the cells with
    mass."""
    rng = np.random.default_rng(seed)
    checked = 0
    for trial in range(200):
        f_side, _ = _side(_windows(rng))
        s_side, _ = _side(_windows(rng))
        lower = bool(trial % 2)
        f_cdf, f_pdf, f_log = f_side[0, :9, 0], f_side[1, :9, 0], f_side[2, :9, 0]
        s_cdf, s_pdf, s_log = s_side[0, :9, 0], s_side[1, :9, 0], s_side[2, :9, 0]
        bound = (np.maximum(f_cdf[:, None] + s_cdf[None, :] - 1, 0) if lower
                 else np.minimum(f_cdf[:, None], s_cdf[None, :]))
        padded = np.zeros((10, 10))
        padded[1:, 1:] = bound
        table = padded[1:, 1:] - padded[:-1, 1:] - padded[1:, :-1] + padded[:-1, :-1]
        mass, fg = np.zeros((K.SLOTS, 1)), np.zeros((K.SLOTS, 1))
        rec = _records(f_side, s_side, lower)
        total, fg_sum, fg_log = K._walk(rec, 0, rec, 1, lower, mass, fg, 0)
        cells = np.abs(table) > 1e-13
        assert np.sort(mass[mass > 0]) == pytest.approx(np.sort(table[cells]), abs=1e-15)
        products = np.outer(f_pdf, s_pdf)
        assert total == pytest.approx(bound.sum(), rel=1e-14)
        assert fg_sum == pytest.approx(products[cells].sum(), rel=1e-14, abs=1e-300)
        logs = f_log[:, None] + s_log[None, :]
        assert fg_log == pytest.approx((products * logs)[cells].sum(), rel=1e-13, abs=1e-300)
        checked += cells.sum() < K.SLOTS  # some cells empty: ties in the cdfs
    assert checked > 20


@pytest.mark.parametrize("seed", range(3))
def test_walk_of_two_pairs_is_two_single_walks_bit_for_bit(seed: int) -> None:
    """The block path walks a window's two pairs slot by slot together: the same masses,
    products and sums as one walk at a time, exactly, for every combination of bounds."""
    rng = np.random.default_rng(seed)
    for trial in range(100):
        f_side, _ = _side(_windows(rng) if trial % 3 else rng.random(9))
        sides = [_side(_windows(rng))[0], _side(rng.random(9))[0]]
        lowers = [bool(trial & 1), bool(trial & 2)]
        rec = np.empty((3, K.RECORD))
        rec[:, K.L] = np.inf
        rec[:, K.PDF + K.L] = 0.0
        rec[:, K.LOG + K.L] = 0.0
        K._copy_record(f_side, 0, rec, 0)
        for k in range(2):
            K._orient_record(sides[k], 0, lowers[k], rec, 1 + k)
        mass, fg = np.full((K.SLOTS, 2), np.nan), np.full((K.SLOTS, 2), np.nan)
        got = K._walk_two(rec, 0, rec, 1, lowers[0], 0, 2, lowers[1], 1, mass, fg)
        for k in range(2):
            one_mass, one_fg = np.zeros((K.SLOTS, 1)), np.zeros((K.SLOTS, 1))
            want = K._walk(rec, 0, rec, 1 + k, lowers[k], one_mass, one_fg, 0)
            assert got[k] == want
            assert np.array_equal(mass[:, k], one_mass[:, 0])
            assert np.array_equal(fg[:, k], one_fg[:, 0])
