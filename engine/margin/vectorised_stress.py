"""The uniform move to liquidation of every account at once, over the compiled book's arrays.

Same question as engine.margin.stress.uniform_move_to_liquidation (the move of all an account's cross marks
at which its cross surplus reaches zero, nearest to the current marks), answered for all accounts in
array operations: the surplus of every account at every grid move in one matrix, the first sign change
on each side, then the Illinois variant of regula falsi run for all accounts together (a handful of surplus
evaluations where bisection took ~40). The live window refreshes it every few seconds without stalling the
GUI thread (the scalar search costs ~40 ms per account on a large book).
"""

from __future__ import annotations

import numpy as np

from engine.margin.stress import FURTHEST_FALL, GRID
from engine.margin.tier_crossings import INSIDE, crossing_moves
from engine.margin.vectorised import CompiledBook

_TOLERANCE = 1e-13
"""The search stops when every bracket is this narrow (a move, as a fraction): far below what is shown."""
_ILLINOIS_ROUNDS = 32
"""Rounds of regula falsi at most, then bisection: under 10 suffice where the surplus is continuous; where the
root is a jump of the maintenance at a tier boundary (OKX, Gate) it narrows about as fast as bisection."""
_ROUNDS = _ILLINOIS_ROUNDS + 48
"""Rounds in all: 48 bisections narrow any grid step (at most 0.05) to 2e-16, so the search always ends."""
_NUDGE = 0.4 * _TOLERANCE
"""How far inside its bracket a regula falsi point is kept, so that a point at the root closes the bracket."""
_CHUNK = 24
"""Grid moves scanned at a time."""
_ALL = slice(None)


class MoveSearch:
    """Cross legs of a compiled book, gathered once; `moves(marks)` answers for every account.

    The same question as engine.margin.stress.uniform_move_to_liquidation, for all accounts at once: a scan
    over the same GRID, then the Illinois variant of regula falsi down to _TOLERANCE (see _narrow)."""

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
        steps = np.array([*(g for g in GRID if g < FURTHEST_FALL), FURTHEST_FALL])
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

    def _first_hit(self, base: np.ndarray, grid: np.ndarray, now: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per account, the index of the first grid move at which its surplus is <= 0 (-1: none), with the
        surplus there and at the move before it (`now`, the surplus at no move, before the first): three
        arrays of shape (accounts,), the surpluses NaN where the index is -1.

        The grid is scanned a chunk at a time, and each chunk only for the legs of the accounts still
        looking: most accounts are found in the first chunk, and the far end of the grid (to +900%) is
        only paid for by the accounts that get that far."""
        first = np.full(self.n_accounts, -1)
        at_first = np.full(self.n_accounts, np.nan)
        before_first = np.full(self.n_accounts, np.nan)
        previous = now  # the surplus at the last move scanned, right for every account still looking
        looking = self.has_cross.copy()
        every = np.arange(self.n_accounts)
        for start in range(0, len(grid), _CHUNK):
            legs = np.flatnonzero(looking[self.account])
            if not len(legs):
                break
            chunk = grid[start : start + _CHUNK]
            surplus = self._surplus(base[legs][None, :] * (1 + chunk[:, None]), legs)  # (chunk, accounts)
            hit = surplus <= 0
            newly = looking & hit.any(axis=0)
            index = hit.argmax(axis=0)
            first[newly] = start + index[newly]
            at_first[newly] = surplus[index, every][newly]
            before = np.where(index > 0, surplus[np.maximum(index - 1, 0), every], previous)
            before_first[newly] = before[newly]
            previous = surplus[-1]
            looking &= ~newly
        return first, at_first, before_first

    def _first_pieces(
        self, base: np.ndarray, grid: np.ndarray, now: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, bool]:
        """The grid's brackets corrected for the tier crossings (engine.margin.tier_crossings): a liquidated stretch
        can lie between two grid moves (it ends where a leg drops to a lower tier), and a grid step can hold a
        crossing. Each account's surplus is read just before and just after every crossing between the marks and
        its grid hit (the grid's end without one): the first liquidated point of grid and reads together closes
        the bracket, the point before it opens it, so no crossing is left inside. Returns lo, hi (NaN: none
        found) and whether any bracket changed (its surpluses are then to be read again)."""
        reads = self._crossing_reads(base, grid, now, np.where(np.isnan(hi), grid[-1], hi))
        if reads is None:
            return lo, hi, False
        owner, at, surplus = reads
        lo, hi = lo.copy(), hi.copy()
        liquidated = np.flatnonzero(surplus <= 0)
        accounts, first = np.unique(owner[liquidated], return_index=True)
        hi[accounts] = at[liquidated[first]]  # nearer than the grid's hit: the reads lie before it
        distance = np.abs(grid)  # the grid goes out from the marks
        # return_index: a plain np.unique asks numpy.ma whether the array is masked, which imports it (~20 ms of
        # the GUI thread, after the window's first paint); the accounts are the same, in the same order
        for a in np.unique(owner, return_index=True)[0]:
            if np.isnan(hi[a]):
                continue
            mine = at[owner == a]
            before = mine[np.abs(mine) < abs(hi[a])]
            k = int(np.searchsorted(distance, abs(hi[a])))
            candidates = [*before[-1:], grid[k - 1] if k > 0 else 0.0]
            lo[a] = max(candidates, key=abs)
        return lo, hi, True

    def _lines_at_marks(self, base: np.ndarray, tier: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per account, (a, b, c) of its surplus a + b(1 + move) + c/(1 + move) while no leg changes tier: each
        leg's surplus is a + k z at its tier at the marks (`tier`), z = mark (1 + move) (linear: into b) or
        1/(mark (1 + move)) (inverse: into c); the cross wallet is in a."""
        c, linear, account, n = self.compiled, ~self.inverse, self.account, self.n_accounts
        rate, amount = c.tier_rate[self.base + tier], c.tier_amount[self.base + tier]
        a_leg = self.offset + np.where(self.is_fixed, -self.fixed, amount)
        k_leg = self.slope - np.where(self.is_fixed, 0.0, rate * self.nu)
        a0 = np.bincount(account, a_leg, n) + c.cross_wallet
        b0 = np.bincount(account, np.where(linear, k_leg * base, 0.0), n)
        c0 = np.bincount(account, np.where(linear, 0.0, k_leg / base), n)
        return a0, b0, c0

    def _crossing_reads(
        self, base: np.ndarray, grid: np.ndarray, now: np.ndarray, end: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(account, move, surplus) read just before and just after each move strictly between 0 and the account's
        `end` at which one of its legs changes tier, in order out from the marks per account; None when no leg
        crosses a bound there. The surplus is not evaluated leg by leg at each read (a thousand-leg account on
        a table with ten bounds was a 3 s search): between crossings it is a + b(1 + move) + c/(1 + move) (b from
        the linear legs, c from the inverse ones), so a, b and c are taken at the marks and changed at each
        crossing by the tier's change of maintenance rate and amount, in order (running sums)."""
        account, up = self.account, bool(grid[-1] > 0)
        searching = self.has_cross & (now > 0)  # False for NaN: an account with a missing mark
        low, high = np.fmin(0.0, end)[account], np.fmax(0.0, end)[account]
        moves = crossing_moves(self.nu, base, self.bounds[1:], self.inverse)  # (tiers - 1, legs)
        inside = (moves > low) & (moves < high) & ~self.is_fixed & (self.nu > 0) & searching[account]
        if not inside.any():  # False for NaN and inf moves (a padded tier)
            return None
        c, linear = self.compiled, ~self.inverse
        z = np.where(self.inverse, 1.0 / base, base)
        tier = (self.bounds[1:] <= self.nu * z).sum(axis=0)  # each leg's tier at the marks, as _surplus counts
        rising = linear == up  # (legs,)
        ahead = np.arange(1, len(self.bounds))[:, None]  # the tier whose lower bound each row of `moves` is
        inside &= np.where(rising, ahead > tier, ahead <= tier)  # a bound met at the marks (move ~0) was crossed
        if not inside.any():
            return None
        a0, b0, c0 = self._lines_at_marks(base, tier)
        # Each crossing's change, going out: a rising notional (linear up, inverse down) enters the tier above.
        rows, legs = np.nonzero(inside)
        at = moves[rows, legs]
        rising = rising[legs]
        old = self.base[legs] + np.where(rising, rows, rows + 1)
        new = self.base[legs] + np.where(rising, rows + 1, rows)
        da = c.tier_amount[new] - c.tier_amount[old]
        dk = -(c.tier_rate[new] - c.tier_rate[old]) * self.nu[legs]
        db = np.where(linear[legs], dk * base[legs], 0.0)
        dc = np.where(linear[legs], 0.0, dk / base[legs])
        owner = account[legs]
        order = np.lexsort((np.abs(at), owner))
        owner, at, da, db, dc = owner[order], at[order], da[order], db[order], dc[order]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        block = np.repeat(starts, np.diff(np.r_[starts, len(owner)]))  # each crossing's account's first one
        sums = [np.cumsum(d) - (np.cumsum(d) - d)[block] for d in (da, db, dc)]  # within the account, inclusive
        last = np.r_[(owner[1:] != owner[:-1]) | (at[1:] != at[:-1]), True]  # last of crossings at one move
        first = np.r_[True, last[:-1]]  # first of crossings at one move
        after = [s[last] for s in sums]
        before = [(s - d)[first] for s, d in zip(sums, (da, db, dc), strict=True)]
        owner, at = owner[last], at[last]
        # Read INSIDE before and after each crossing, or half way to its neighbour when that is nearer.
        same = np.r_[owner[1:] == owner[:-1], False]  # the next crossing is the same account's
        previous = np.where(np.r_[False, same[:-1]], np.r_[0.0, at[:-1]], 0.0)
        following = np.where(same, np.r_[at[1:], 0.0], end[owner])
        step = 1.0 if up else -1.0
        read_before = at - step * np.minimum(INSIDE, np.abs(at - previous) / 2)
        read_after = at + step * np.minimum(INSIDE, np.abs(following - at) / 2)
        reads = []
        for coefficients, move in ((before, read_before), (after, read_after)):
            x = 1.0 + move
            a_, b_, c_ = (base_ + s for base_, s in zip((a0[owner], b0[owner], c0[owner]), coefficients, strict=True))
            reads.append((move, a_ + b_ * x + c_ / x))
        move = np.column_stack([reads[0][0], reads[1][0]]).ravel()  # before, after, before, after…
        surplus = np.column_stack([reads[0][1], reads[1][1]]).ravel()
        owner = np.repeat(owner, 2)
        keep = (move * step > 0) & (np.abs(move) < np.abs(end[owner]))
        return owner[keep], move[keep], surplus[keep]

    def _narrow(
        self, base: np.ndarray, lo: np.ndarray, hi: np.ndarray, f_lo: np.ndarray, f_hi: np.ndarray
    ) -> np.ndarray:
        """The midpoint of a bracket narrower than _TOLERANCE around each account's root, shape (accounts,).

        lo, hi: per account, a move at which the surplus is > 0 and one at which it is <= 0 (either may be
        the larger), NaN for an account not searched (its answer stays NaN); f_lo, f_hi: the surplus there.
        The Illinois variant of regula falsi (Dowell & Jarratt 1971, "A modified regula falsi method for
        computing the root of an equation", BIT 11, 168-174; Wikipedia "Regula falsi", Illinois algorithm):
        the false-position point lo - f_lo (hi - lo) / (f_hi - f_lo) replaces the end whose surplus has its
        sign, and when the same end is replaced twice in a row the surplus kept at the other end is halved,
        so the kept end moves too (order 1.44 near a simple root, where plain regula falsi is linear). The
        surplus is piecewise linear in the move for linear contracts (exact in one step on one tier
        segment) and smooth for inverse ones. The bisection midpoint is taken instead when the point is
        NaN or outside the bracket, and after _ILLINOIS_ROUNDS; a point is kept _NUDGE inside its bracket, so
        that one landing on the root (surplus 0 there: the next point would be that same end) closes it."""
        side = np.zeros(len(lo))  # +1: lo was replaced last, -1: hi was, 0: neither yet
        active = np.abs(hi - lo) > _TOLERANCE  # False for NaN: accounts not searched
        for round_ in range(_ROUNDS):
            if not active.any():
                break
            mid = (lo + hi) / 2
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                point = lo - f_lo * (hi - lo) / (f_hi - f_lo)
            low, high = np.minimum(lo, hi), np.maximum(lo, hi)
            inside = (point >= low) & (point <= high)  # False for NaN; at an end: that end's surplus is 0
            point = np.clip(point, low + _NUDGE, high - _NUDGE)
            point = np.where(inside & (round_ < _ILLINOIS_ROUNDS), point, mid)
            point = np.where(active, point, 0.0)
            f_point = self._surplus((base * (1 + point)[self.account])[None, :])[0]
            safe = f_point > 0
            to_lo, to_hi = active & safe, active & ~safe
            f_hi = np.where(to_lo & (side == 1), f_hi / 2, f_hi)
            f_lo = np.where(to_hi & (side == -1), f_lo / 2, f_lo)
            lo, f_lo = np.where(to_lo, point, lo), np.where(to_lo, f_point, f_lo)
            hi, f_hi = np.where(to_hi, point, hi), np.where(to_hi, f_point, f_hi)
            side = np.where(to_lo, 1, np.where(to_hi, -1, side))
            active &= np.abs(hi - lo) > _TOLERANCE
        return (lo + hi) / 2

    def moves(self, marks: np.ndarray) -> list[float | None]:
        """Per account (book order): the signed move that liquidates it, 0.0 when already there, None when
        it has no cross position, a cross mark is missing (NaN in `marks`), or no move within -99%..+900%
        liquidates it. marks: float64 (len(compiled.price_keys),), in the compiled book's price-key order.
        The move is found to _TOLERANCE, as the scalar engine.margin.stress.uniform_move_to_liquidation."""
        if not len(self.legs):
            return [None] * self.n_accounts
        base = marks[self.price]
        now = self._surplus(base[None, :])[0]
        best = np.full(self.n_accounts, np.nan)
        for grid in (self.down, self.up):
            first, f_hi, f_lo = self._first_hit(base, grid, now)
            found = (first >= 0) & (now > 0)  # an account already liquidated answers 0.0, unsearched
            hi = np.where(found, grid[np.maximum(first, 0)], np.nan)
            lo = np.where(found, np.where(first > 0, grid[np.maximum(first - 1, 0)], 0.0), np.nan)
            new_lo, new_hi, changed = self._first_pieces(base, grid, now, lo, hi)
            if changed:  # the surplus at the new ends, read leg by leg (the running sums only chose them)
                ends = self._surplus(base[None, :] * (1 + np.stack([new_lo, new_hi])[:, self.account]))
                kept = (ends[0] > 0) & (ends[1] <= 0)  # else a read within rounding of zero: the grid's bracket
                lo, hi = np.where(kept, new_lo, lo), np.where(kept, new_hi, hi)
                f_lo, f_hi = np.where(kept, ends[0], f_lo), np.where(kept, ends[1], f_hi)
            found = ~np.isnan(hi) & (now > 0)
            root = self._narrow(base, lo, hi, f_lo, f_hi)
            closer = found & (np.isnan(best) | (np.abs(root) < np.abs(best)))
            best = np.where(closer, root, best)
        best = np.where(now <= 0, 0.0, best)
        best = np.where(np.isnan(now), np.nan, best)
        return [None if not self.has_cross[a] or np.isnan(best[a]) else float(best[a]) for a in range(self.n_accounts)]
