"""Every leg's tier table as flat arrays, for the vectorised engine (engine.margin.vectorised): the tier a
notional falls in, counted or confirmed from a guess.

A leg's tier at a notional is the number of its tier lower bounds, after the first, at or below the notional
(as engine.margin.liquidation.applied_tier_index picks it). Legs with fewer tiers than the
longest are padded with tiers whose lower bound is +inf (rate and amount 0), which no finite notional reaches.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from engine.margin.liquidation import Leg

_COUNT_BY_COLUMN = 8
"""Count tiers column by column (a short loop over tiers) for more than 1/8 of the legs; row by row below."""


def _padded_rows(legs: Sequence[Leg], n_tiers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every leg's tier lower bounds, rates and amounts, legs x tiers (float64, C order), each leg's padded to
    n_tiers (lower bound +inf, rate and amount 0). Each distinct tiers tuple is listed once (the legs of one market,
    or of markets sharing a table, share theirs: engine.margin.layout) and the legs' rows gathered from those."""
    table_of: dict[int, int] = {}
    lowers: list[float] = []
    rates: list[float] = []
    amounts: list[float] = []
    order = []
    for leg in legs:
        table = table_of.get(id(leg.tiers))
        if table is None:
            table = table_of[id(leg.tiers)] = len(table_of)
            pad = n_tiers - len(leg.tiers)
            lowers += [t.lower for t in leg.tiers] + [np.inf] * pad
            rates += [t.rate for t in leg.tiers] + [0.0] * pad
            amounts += [t.amount for t in leg.tiers] + [0.0] * pad
        order.append(table)
    rows = np.array(order, dtype=np.intp)

    def gathered(values: list[float]) -> np.ndarray:
        return np.array(values, dtype=float).reshape(-1, n_tiers)[rows]

    return gathered(lowers), gathered(rates), gathered(amounts)


class TierArrays:
    """The tier tables of legs (in the given order) as flat arrays.

    Flat indices run tiers x legs (flat = tier * n_legs + leg) unless named otherwise: most legs sit in the
    first few tiers, so gathers stay within a few contiguous rows."""

    def __init__(self, legs: Sequence[Leg]) -> None:
        n_legs = len(legs)
        n_tiers = max((len(leg.tiers) for leg in legs), default=1)
        self.n_legs, self.n_tiers = n_legs, n_tiers
        lowers, rate, amount = _padded_rows(legs, n_tiers)
        self.lower_by_column = np.ascontiguousarray(lowers.T)
        """Lower bounds in notional (settlement currency), tiers x legs."""
        self.upper_bounds_by_leg = np.ascontiguousarray(self.lower_by_column[1:].T)
        """The bounds after the first, legs x tiers (a few legs' tiers counted at once)."""
        self.rate_by_leg = rate.ravel()
        """Maintenance rates, legs x tiers (flat = leg * n_tiers + tier, as the stress search reads)."""
        self.amount_by_leg = amount.ravel()
        """Maintenance amounts (settlement currency), legs x tiers."""
        self.leg_base = np.arange(n_legs, dtype=np.intp) * n_tiers
        """Flat index (legs x tiers) of each leg's first tier."""
        self.rate = rate.T.ravel()
        self.amount = amount.T.ravel()
        self.ordered = bool(np.all(self.lower_by_column[1:] >= self.lower_by_column[:-1]))
        """Every leg's bounds are non-decreasing: a notional inside a tier's [floor, ceiling) is in that tier
        (checked in four array operations instead of two per tier). Otherwise tiers are always counted."""
        floor = self.lower_by_column.copy()
        floor[0] = -np.inf  # the count starts at the first tier whatever its lower bound
        ceiling = np.full((n_tiers, n_legs), np.inf)
        ceiling[:-1] = self.lower_by_column[1:]
        self.floor = floor.ravel()
        self.ceiling = ceiling.ravel()

    def count(self, notional: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Tier index of each notional (int8, or intp from 127 tiers); bounds: the matching columns of
        lower_by_column (tiers x notionals). NaN counts as tier 0."""
        small = self.n_tiers < 127
        tier = np.zeros(notional.shape, dtype=np.int8 if small else np.intp)
        above = np.empty(notional.shape, dtype=bool)
        step = above.view(np.int8) if small else above  # bool as int8: an int8 add, no casting loop
        for row in bounds[1:]:
            np.less_equal(row, notional, out=above)
            np.add(tier, step, out=tier)
        return tier

    def flat(self, legs: np.ndarray, tier: np.ndarray) -> np.ndarray:
        """Flat indices (tiers x legs) of the given tiers of the given legs."""
        flat = np.multiply(tier, self.n_legs, dtype=np.intp)
        flat += legs
        return flat

    def counted(self, legs: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """Flat tier index of each leg at its notional, counted (the same numbers as count); legs: distinct
        leg indices, ascending."""
        if len(legs) == self.n_legs:  # every leg, in order
            return self.flat(legs, self.count(notional, self.lower_by_column))
        if len(legs) * _COUNT_BY_COLUMN > self.n_legs:
            return self.flat(legs, self.count(notional, self.lower_by_column[:, legs]))
        above = self.upper_bounds_by_leg.take(legs, axis=0) <= notional[:, None]
        return self.flat(legs, np.add.reduce(above, axis=1, dtype=np.intp))

    def inside(self, flat: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """bool per leg: the notional lies in the interval of the flat tier given (so count would answer it;
        False for NaN). Only meaningful when ordered."""
        inside = self.floor.take(flat) <= notional
        inside &= notional < self.ceiling.take(flat)
        return inside

    def from_guess(self, legs: np.ndarray, notional: np.ndarray, guess: np.ndarray) -> np.ndarray:
        """Flat tier index of each leg (distinct, ascending) at its notional: the guess (flat, one per leg, any of
        the leg's tiers)
        where it holds, counted elsewhere; the same numbers as counting all, only cheaper when most guesses
        hold. Returns a new array."""
        if not self.ordered:
            return self.counted(legs, notional)
        flat = guess.copy()
        moved = np.flatnonzero(~self.inside(flat, notional))
        if len(moved):
            flat[moved] = self.counted(legs[moved], notional[moved])
        return flat
