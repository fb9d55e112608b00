"""Per-account sums for the vectorised engine (engine.margin.vectorised): several figures at once, each over its
own rows, in book order, bit for bit as np.bincount(account, weights=...) adds them.

bincount adds each account's terms one after another in row order (0.0 + t0 + t1 + ...). So does
np.add.reduce over the first axis of a C-contiguous (rows, columns) matrix: it adds row after row, vectorised
across the columns (tested bit for bit in tests/engine/test_account_sums.py). Each column is one (figure,
account), listing that account's rows in book order, padded with -0.0 (x + -0.0 == x for every x, -0.0 and
0.0 included); the sum starts at t0 instead of 0.0 + t0, which differs only in the sign of a zero sum, and the
final + 0.0 settles that. One gather and one reduce replace a bincount (a chain of dependent adds per bin).
When the accounts' row counts differ too much for a padded matrix (one large account among small ones), the
sums fall back to one bincount.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_PADDING_ALLOWED = 4
"""The padded matrix may hold this many times the terms (plus _PADDING_SLACK) before bincount takes over."""
_PADDING_SLACK = 4096


class AccountSums:
    """Sums per account of figures written into a buffer: figure f adds buffer[row, rows] by account.

    width: the length of the per-row figures (legs or positions); figures: per figure, (row, rows, accounts):
    the buffer row it reads, the row indices it adds (each < width) and the account (0 <= a < n_accounts) of
    each. Raises ValueError when rows and accounts differ in length.
    """

    def __init__(self, n_accounts: int, width: int, figures: Sequence[tuple[int, np.ndarray, np.ndarray]]) -> None:
        self.n_accounts, self.width, self.n_figures = n_accounts, width, len(figures)
        self.n_rows = max((row for row, _, _ in figures), default=-1) + 1
        span = width + 1  # each buffer row ends with a -0.0
        columns, flat, bins = [], [], []
        for f, (row, rows, accounts) in enumerate(figures):
            rows, accounts = np.asarray(rows, dtype=np.intp), np.asarray(accounts, dtype=np.intp)
            if rows.shape != accounts.shape:
                raise ValueError(f"figure {f}: {len(rows)} rows but {len(accounts)} accounts")
            order = np.lexsort((rows, accounts))  # by account, each account's rows in book order
            rows, accounts = rows[order], accounts[order]
            counts = np.bincount(accounts, minlength=n_accounts)
            rank = np.arange(len(rows)) - (np.cumsum(counts) - counts)[accounts]
            columns.append((rank, f * n_accounts + accounts, row * span + rows))
            flat.append(row * span + rows)
            bins.append(f * n_accounts + accounts)
        n_columns = len(figures) * n_accounts
        depth = max((int(rank.max()) + 1 for rank, _, _ in columns if len(rank)), default=0)
        terms = sum(len(rank) for rank, _, _ in columns)
        # A single column would be reduced pairwise (numpy's contiguous reduce), not row after row.
        self.padded = n_columns >= 2 and depth * n_columns <= _PADDING_ALLOWED * terms + _PADDING_SLACK
        if self.padded:
            self.index = np.full((depth, n_columns), width, dtype=np.intp)  # buffer[0, width] is -0.0
            for rank, column, source in columns:
                self.index[rank, column] = source
        else:  # one bincount over every term, in book order within each bin
            self.flat = np.concatenate(flat) if flat else np.zeros(0, dtype=np.intp)
            self.bins = np.concatenate(bins) if bins else np.zeros(0, dtype=np.intp)
            self.n_columns = n_columns

    def buffer(self) -> np.ndarray:
        """A fresh float64 (n_rows, width + 1) buffer, its last column -0.0: write the figures into
        buffer[row, :width] (e.g. with out=)."""
        buffer = np.empty((self.n_rows, self.width + 1))
        buffer[:, self.width] = -0.0
        return buffer

    def sums(self, buffer: np.ndarray) -> np.ndarray:
        """float64 (n_figures, n_accounts): each figure's sum per account (0.0 for an account without rows)."""
        flat = buffer.ravel()
        if self.padded:
            out = np.add.reduce(flat.take(self.index), axis=0)
            out += 0.0  # a zero sum is 0.0, as bincount's
        else:
            out = np.bincount(self.bins, weights=flat.take(self.flat), minlength=self.n_columns)
        return out.reshape(self.n_figures, self.n_accounts)
