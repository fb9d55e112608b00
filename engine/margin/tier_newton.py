"""Newton on tiers, for engine.margin.vectorised: the liquidation roots of single legs whose maintenance margin is
continuous across tiers (Binance's cumulative amounts).

Each step solves a leg's surplus line on one tier (engine.margin.liquidation.segment_line: PnL less maintenance
plus backing, a line in z on a tier) and moves the leg to the tier of that root, until the two agree; the first
step starts at the tier of the mark. The surplus is monotone there, so the root is unique and this is exact in
a few steps.
"""

from __future__ import annotations

import numpy as np

from engine.margin.tier_arrays import TierArrays

MAX_STEPS = 16


class TierNewton:
    """The Newton legs of a compiled book (legs: ascending leg indices) and each tier's line.

    slope, offset, nu, is_fixed, fixed: per leg of the book (PnL line, size, fixed maintenance), as
    engine.margin.liquidation.Leg has them."""

    def __init__(
        self,
        tiers: TierArrays,
        legs: np.ndarray,
        slope: np.ndarray,
        offset: np.ndarray,
        nu: np.ndarray,
        is_fixed: np.ndarray,
        fixed: np.ndarray,
    ) -> None:
        self.tiers, self.legs = tiers, legs
        self.nu = nu[legs]
        self.at_once = is_fixed[legs]
        """Per Newton leg: settled at its first root (a fixed maintenance has one line), or skipped."""
        self.any_at_once = bool(self.at_once.any())
        self.solved_later = ~self.at_once
        # Each tier's line (flat, tiers x legs, every leg of the book): root z = (constant + backing) / divisor,
        # the same bits as -((offset + amount) + backing) / (slope - nu * rate): both sums are the ones computed
        # here, and negating before or after a division rounds alike. A fixed maintenance: one line on every tier.
        n = tiers.n_tiers
        slope, offset, nu, is_fixed = np.tile(slope, n), np.tile(offset, n), np.tile(nu, n), np.tile(is_fixed, n)
        self.line_constant = np.where(is_fixed, offset - np.tile(fixed, n), offset + tiers.amount)
        self.line_divisor = np.where(is_fixed, -slope, -(slope - nu * tiers.rate))
        self.hint: np.ndarray | None = None
        """Per Newton leg, the flat tier its root was last found in: roots move little between two recomputes."""

    def skip(self, skipped: np.ndarray) -> None:
        """Take these Newton legs (bool per leg, in self.legs order) as settled at once: another solver answers
        them, their roots here are meaningless and never counted as unsettled."""
        self.at_once = self.at_once | skipped
        self.any_at_once = bool(self.at_once.any())
        self.solved_later = ~self.at_once

    def solve(self, backing: np.ndarray, flat: np.ndarray, at_mark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Roots in z of the Newton legs (in self.legs order; NaN where a leg did not settle, or none) and the
        legs that did not settle (book leg indices). backing, flat (each leg's flat tier at the mark): per
        Newton leg; at_mark: (4, Newton legs), the line constant, divisor, floor and ceiling of that tier."""
        constant, divisor, floor, ceiling = at_mark
        root = constant + backing
        root /= divisor
        local, ahead = self._unsettled(np.arange(len(self.legs)), flat, root, (floor, ceiling))
        if len(local):
            root[local] = np.nan  # NaN until the leg settles
        for _ in range(MAX_STEPS - 1):
            if not len(local):
                break
            flat = self._root_tiers(local, ahead) if self.tiers.ordered else ahead
            candidate = self.line_constant.take(flat)
            candidate += backing.take(local)
            candidate /= self.line_divisor.take(flat)
            again, ahead = self._unsettled(local, flat, candidate)
            if len(again) < len(local):
                root[local] = candidate
                root[local[again]] = np.nan
            local = local[again]
        return root, self.legs[local]

    def _root_tiers(self, local: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """The flat tier of each notional, for the Newton legs at positions `local`: the hint's where it still
        holds, counted for the others (the same index either way, only cheaper)."""
        legs = self.legs[local]
        hint = self.hint
        flat = self.tiers.from_guess(legs, notional, legs if hint is None else hint[local])
        if hint is None:
            hint = self.hint = self.legs.copy()
        # Changed in place: a recompute running meanwhile reads, for each leg, one of its own tiers, which is
        # all a hint needs to be (a wrong one is only counted again).
        hint[local] = flat
        return flat

    def _unsettled(
        self, local: np.ndarray, flat: np.ndarray, candidate: np.ndarray, bounds: tuple[np.ndarray, ...] = ()
    ) -> tuple[np.ndarray, ...]:
        """Of the Newton legs at positions `local` with roots `candidate` found on tiers `flat`: the positions
        in `local` of those whose root lies outside that tier (to solve again), and what the next step starts
        from for them: their root's notional when tiers are ordered, else its flat tier, counted. bounds: the
        tiers' (floor, ceiling) if already gathered."""
        whole = len(local) == len(self.legs)
        at_root = (self.nu if whole else self.nu.take(local)) * candidate
        if self.tiers.ordered and bounds:
            settled = bounds[0] <= at_root
            settled &= at_root < bounds[1]
        elif self.tiers.ordered:
            settled = self.tiers.inside(flat, at_root)
        else:
            next_flat = self.tiers.counted(self.legs[local], at_root)
            settled = next_flat == flat
        unsettled = np.isfinite(candidate)  # a NaN or infinite root settles (there is none)
        np.greater(unsettled, settled, out=unsettled)  # finite and outside: for bools, a > b is a and not b
        if self.any_at_once:
            unsettled &= self.solved_later if whole else self.solved_later.take(local)
        again = np.flatnonzero(unsettled)
        return again, (at_root if self.tiers.ordered else next_flat).take(again)
