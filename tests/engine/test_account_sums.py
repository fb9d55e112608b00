"""Per-account sums of the vectorised engine (engine.margin.account_sums) equal np.bincount's, bit for bit: the
padded gather-and-reduce and its bincount fallback alike, whatever the accounts' sizes and the figures' values
(signed zeros, infinities, NaN, magnitudes far apart so that any other order of the adds would show)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.margin.account_sums import AccountSums


def _figures(rng: np.random.Generator, n_rows: int, n_accounts: int, skew: bool) -> np.ndarray:
    """One account per row: spread evenly, or one account holding most rows (the fallback's case)."""
    if skew:
        return np.where(rng.random(n_rows) < 0.9, 0, rng.integers(0, n_accounts, n_rows))
    return rng.integers(0, n_accounts, n_rows)


def _values(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    values = rng.normal(size=shape) * 10.0 ** rng.uniform(-15, 15, size=shape)
    special = rng.random(shape)
    values[special < 0.05] = -0.0
    values[(special >= 0.05) & (special < 0.08)] = 0.0
    values[(special >= 0.08) & (special < 0.082)] = np.inf
    values[(special >= 0.082) & (special < 0.084)] = np.nan
    return values


@pytest.mark.parametrize(
    ("n_rows", "n_accounts", "skew"),
    [
        (2000, 37, False),
        (2000, 37, True),
        (500, 1, False),
        (3, 5, False),
        (0, 4, False),
        (6000, 2, True),
        (6000, 50, True),
    ],
)
def test_sums_equal_bincount_bit_for_bit(n_rows: int, n_accounts: int, skew: bool) -> None:
    rng = np.random.default_rng(n_rows + n_accounts + skew)
    account = _figures(rng, n_rows, n_accounts, skew)
    subset = np.flatnonzero(rng.random(n_rows) < 0.5)  # a figure over some rows only (the cross ones)
    figures = [(0, np.arange(n_rows), account), (1, subset, account[subset]), (0, subset, account[subset])]
    sums = AccountSums(n_accounts, n_rows, figures)
    assert sums.padded is not (skew and n_accounts > 2)  # both ways are exercised
    for _ in range(5):
        buffer = sums.buffer()
        buffer[:, :n_rows] = _values(rng, (2, n_rows))
        got = sums.sums(buffer)
        for f, (row, rows, _) in enumerate(figures):
            weights = np.zeros(n_rows)
            weights[rows] = buffer[row, rows]
            want = np.bincount(account, weights=weights, minlength=n_accounts)
            assert np.array_equal(got[f], want, equal_nan=True)
            assert np.array_equal(np.signbit(got[f]), np.signbit(want))  # zeros are 0.0, as bincount's


def test_a_single_column_is_summed_by_bincount_not_pairwise() -> None:
    """numpy reduces a single column pairwise, not row after row: that case goes to bincount."""
    rng = np.random.default_rng(5)
    values = _values(rng, (1, 3000))
    sums = AccountSums(1, 3000, [(0, np.arange(3000), np.zeros(3000, dtype=np.intp))])
    buffer = sums.buffer()
    buffer[0, :3000] = np.where(np.isfinite(values[0]), values[0], 1.0)
    want = np.bincount(np.zeros(3000, dtype=np.intp), weights=buffer[0, :3000])
    assert not sums.padded and np.array_equal(sums.sums(buffer)[0], want)


def test_rows_and_accounts_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="figure 0: 3 rows but 2 accounts"):
        AccountSums(2, 3, [(0, np.arange(3), np.array([0, 1]))])
