"""The uniform move to liquidation of every account at once, over the compiled book's arrays.

Same question as engine.margin.stress.uniform_move_to_liquidation (the move of all an account's cross marks
at which its cross surplus reaches zero, nearest to the current marks), answered for all accounts in
array operations: the surplus of every account at every grid move in one matrix, the first sign change
on each side, then a bisection run for all accounts together. The live window refreshes it every few
seconds without stalling the GUI thread (the scalar search costs ~40 ms per account on a large book).
"""

from __future__ import annotations

import numpy as np

from engine.margin.stress import GRID
from engine.margin.vectorised import CompiledBook

_BISECTIONS = 64
_TOLERANCE = 1e-13
"""Bisection stops when every bracket is this narrow (a move, as a fraction): far below what is shown."""
_CHUNK = 24
"""Grid moves scanned at a time."""
_ALL = slice(None)


class MoveSearch:
    """Cross legs of a compiled book, gathered once; `moves(marks)` answers for every account.

    The same question as engine.margin.stress.uniform_move_to_liquidation, for all accounts at once: a scan
    over the same GRID, then bisection to _TOLERANCE."""

    def __init__(self, compiled: CompiledBook) -> None:
        self.compiled = c = compiled
        legs = np.flatnonzero(c.leg_cross)
        self.legs = legs
        self.price = c.leg_price[legs]
        self.inverse = c.leg_inverse[legs]
        self.account = c.leg_account[legs]
        self.slope = c.leg_slope[legs]
        self.offset = c.leg_offset[legs]
        self.nu = c.leg_nu[legs]
        self.is_fixed = c.leg_is_fixed[legs]
        self.fixed = c.leg_fixed[legs]
        self.bounds = c.tier_lower_by_column[:, legs]
        self.base = c.tier_base[legs]
        self.n_accounts = c.n_accounts
        self.one_hot = np.zeros((len(legs), self.n_accounts))
        self.one_hot[np.arange(len(legs)), self.account] = 1.0
        self.has_cross = np.bincount(self.account, minlength=self.n_accounts) > 0
        steps = np.array([g for g in GRID if g < 0.99])
        self.down = -steps
        self.up = np.array(GRID)

    def _surplus(self, leg_mark: np.ndarray, legs: np.ndarray | slice = _ALL) -> np.ndarray:
        """Cross surplus per account for marks given per cross leg; leg_mark is (..., legs).

        legs: the cross legs leg_mark is for (all of them unless given); accounts without one of them
        get their whole cross wallet."""
        z = np.where(self.inverse[legs], 1.0 / leg_mark, leg_mark)
        notional = self.nu[legs] * z
        tier = np.zeros(notional.shape, dtype=np.intp)
        for row in self.bounds[1:, legs]:
            tier += row <= notional
        flat = self.base[legs] + tier
        mm = notional * self.compiled.tier_rate.take(flat) - self.compiled.tier_amount.take(flat)
        mm = np.where(self.is_fixed[legs], self.fixed[legs], mm)
        leg_surplus = self.slope[legs] * z + self.offset[legs] - mm
        finite = np.isfinite(leg_surplus)
        if finite.all():
            return leg_surplus @ self.one_hot[legs] + self.compiled.cross_wallet
        # A missing mark (NaN) leaves its own account unknown, never the others (NaN * 0 is NaN in a product).
        total = np.where(finite, leg_surplus, 0.0) @ self.one_hot[legs] + self.compiled.cross_wallet
        return np.where((~finite).astype(float) @ self.one_hot[legs] > 0, np.nan, total)

    def cross_surplus(self, leg_mark: np.ndarray, legs: np.ndarray | slice = _ALL) -> np.ndarray:
        """Cross surplus (settlement currency) per account, shape (..., accounts), for marks per cross leg,
        shape (..., len(legs)) in the order of self.legs[legs] (all cross legs unless `legs` is given: an
        account none of whose legs are given gets its whole cross wallet). NaN for an account with a NaN mark.
        The Monte Carlo of engine.margin.account_odds evaluates its paths through this."""
        return self._surplus(leg_mark, legs)

    def _first_hit(self, base: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """Per account, the index of the first grid move at which its surplus is <= 0 (-1: none).

        The grid is scanned a chunk at a time, and each chunk only for the legs of the accounts still
        looking: most accounts are found in the first chunk, and the far end of the grid (to +900%) is
        only paid for by the accounts that get that far."""
        first = np.full(self.n_accounts, -1)
        looking = self.has_cross.copy()
        for start in range(0, len(grid), _CHUNK):
            legs = np.flatnonzero(looking[self.account])
            if not len(legs):
                break
            chunk = grid[start : start + _CHUNK]
            hit = self._surplus(base[legs][None, :] * (1 + chunk[:, None]), legs) <= 0  # (chunk, accounts)
            newly = looking & hit.any(axis=0)
            first[newly] = start + hit.argmax(axis=0)[newly]
            looking &= ~newly
        return first

    def moves(self, marks: np.ndarray) -> list[float | None]:
        """Per account (book order): the signed move that liquidates it, 0.0 when already there, None when
        it has no cross position, a cross mark is missing (NaN in `marks`), or no move within -99%..+900%
        liquidates it. marks: float64 (len(compiled.price_keys),), in the compiled book's price-key order."""
        if not len(self.legs):
            return [None] * self.n_accounts
        base = marks[self.price]
        now = self._surplus(base[None, :])[0]
        best = np.full(self.n_accounts, np.nan)
        for grid in (self.down, self.up):
            first = self._first_hit(base, grid)
            found = first >= 0
            hi = np.where(found, grid[np.maximum(first, 0)], np.nan)
            lo = np.where(first > 0, grid[np.maximum(first - 1, 0)], 0.0)
            for _ in range(_BISECTIONS):  # until every bracket is narrower than _TOLERANCE
                if not np.any(found & (np.abs(hi - lo) > _TOLERANCE)):
                    break
                mid = (lo + hi) / 2
                mid_surplus = self._surplus((base * (1 + np.nan_to_num(mid)[self.account]))[None, :])[0]
                safe = mid_surplus > 0
                lo = np.where(found & safe, mid, lo)
                hi = np.where(found & ~safe, mid, hi)
            side = (lo + hi) / 2
            closer = found & (np.isnan(best) | (np.abs(side) < np.abs(best)))
            best = np.where(closer, side, best)
        best = np.where(now <= 0, 0.0, best)
        best = np.where(np.isnan(now), np.nan, best)
        return [None if not self.has_cross[a] or np.isnan(best[a]) else float(best[a]) for a in range(self.n_accounts)]
