"""The block path's vectorised pair loops (``_fmi_kernels._entropy_block``,
``_correlation_block``, ``_fmi_block``) against the per-window formulas they stand for (added
in the same order in plain Python, or the scalar kernels), bit for bit; columns past ``count``
are left alone."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fusionbench.metrics import _fmi_kernels as K


def _block(rng: np.random.Generator, size: int) -> np.ndarray:
    """(L, size) of window pdfs with zero entries (small integers, each column normalised)."""
    x = rng.integers(0, 4, (K.L, size)).astype(float) + (rng.random((K.L, size)) < 0.1)
    x[:, x.sum(axis=0) == 0] = 1.0
    return x / x.sum(axis=0)


@pytest.mark.parametrize("count", [1, 7, 37, 40])
def test_entropy_block_is_each_columns_sum_in_order(count: int) -> None:
    rng = np.random.default_rng(count)
    size, start = 40 + 3, 3 if count < 40 else 0
    x = _block(rng, size)
    logs = np.log(np.where(x != 0, x, 1.0))
    out = np.full(size, -7.0)
    K._entropy_block(x, logs, K.L, start, count, out)
    for w in range(size):
        if start <= w < start + count:
            expected = 0.0
            for i in range(K.L):
                expected += -x[i, w] * logs[i, w]
            assert out[w] == expected
        else:
            assert out[w] == -7.0


@pytest.mark.parametrize("count", [1, 9, 40])
def test_correlation_block_is_pair_fmis_correlation(count: int) -> None:
    """c of window w (into ``pairs[0, start + w]``) as ``_pair_fmi`` forms it, with an exactly
    uncorrelated pair (cross sum 0: c = 0) among them."""
    rng = np.random.default_rng(100 + count)
    size = 40
    s, f = _block(rng, size), _block(rng, size)
    f[:, 0] = 1 / K.L  # flat F window: every centred value 0, so the cross sum is 0
    s_mean, f_mean = s.sum(axis=0) / K.L, f.sum(axis=0) / K.L
    f_mean[0] = f[0, 0]
    start = size if count < size else 0
    pairs = np.full((5, 2 * size), -7.0)
    K._correlation_block(s, s_mean, f, f_mean, count, pairs, start)
    for w in range(count):
        cross = ss = ff = 0.0
        for i in range(K.L):
            st, ft = s[i, w] - s_mean[w], f[i, w] - f_mean[w]
            cross += st * ft
            ss += st * st
            ff += ft * ft
        expected = 0.0 if cross == 0 else cross / math.sqrt(ss * ff)
        assert pairs[0, start + w] == expected
    assert pairs[0, start] == 0.0  # the flat F window's pair
    untouched = np.ones(2 * size, bool)
    untouched[start:start + count] = False
    assert (pairs[:4, untouched] == -7.0).all() and (pairs[4] == -7.0).all()


def test_fmi_block_is_the_per_pair_formula_and_one_for_equal_windows() -> None:
    """FMI of each pair (``_joint_base`` then ``_nfmi_value``, as the window loop forms it)
    into ``pairs[1]``; 1 for a pair of equal windows whatever its other entries hold."""
    rng = np.random.default_rng(7)
    size, count, start = 12, 10, 12
    s_stats, f_stats = rng.random((5, size)), rng.random((5, size))
    pairs = rng.random((5, 2 * size))
    pairs[2, start + 1] = 0.0  # phi = 1: no independent part
    log_k = np.log(np.where(pairs[2] != 0, np.abs(pairs[2]), 1.0))
    equal = np.zeros(size, np.bool_)
    equal[3] = True
    before = pairs.copy()
    K._fmi_block(s_stats, f_stats, equal, count, pairs, log_k, start)
    for w in range(count):
        p = start + w
        joint = K._joint_base(before[2, p], log_k[p], f_stats[3, w], s_stats[3, w],
                              f_stats[2, w], s_stats[2, w], before[3, p], before[4, p])
        expected = 1.0 if equal[w] else K._nfmi_value(s_stats[2, w], f_stats[2, w],
                                                       joint + before[0, p])
        assert pairs[1, p] == expected
    keep = np.ones(2 * size, bool)
    keep[start:start + count] = False
    assert (pairs[1, keep] == before[1, keep]).all()
    assert (pairs[[0, 2, 3, 4]] == before[[0, 2, 3, 4]]).all()
