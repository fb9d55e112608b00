"""The whole-book recompute over numpy arrays, for the live view.

A book is compiled once (its layout does not change with prices); each price update is then a
fixed number of array operations over all legs. Liquidation prices come from the same closed form
as the scalar path (engine.margin.liquidation), in two vectorised ways:

- Newton on tiers, for a single leg whose maintenance margin is continuous across tiers (Binance's
  cumulative amounts): the root on the current tier's line, then the tier at that root, until they
  agree. The surplus is monotone there, so the root is unique and this is exact in a few steps.
- A segment scan for everything else (the two legs of a hedge-mode pair, tier tables whose
  maintenance jumps at a boundary as on OKX and Gate): the same walk over tier segments as the scalar
  solver, with each segment's line precomputed at compile time (only the backing moves with prices).

Results agree with engine.margin.risk.evaluate_book to 1e-9 relative (tested on random books).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.margin.layout import BookLayout, LegLayout, book_layout
from engine.margin.liquidation import Leg, liquidation_price
from engine.margin.model import Book, MarginMode, PriceKey
from engine.margin.roe import fixed_roe_base
from engine.margin.rules import profile_of
from engine.margin.segment_scan import SegmentScan, in_range, tiers_continuous
from engine.margin.vector_risk import VectorRisk

_MAX_NEWTON_STEPS = 16


class CompiledBook:
    """A book laid out as arrays; recompute() evaluates it at a vector of marks.

    Construction raises what engine.margin.layout.book_layout raises when no layout is given (nothing for a
    book that passed engine.book.book_rules).
    """

    def __init__(self, book: Book, layout: BookLayout | None = None) -> None:
        self.book = book
        self.layout = layout = layout or book_layout(book)
        self.price_keys: list[PriceKey] = book.price_keys()
        key_index = {key: i for i, key in enumerate(self.price_keys)}
        account_index = {a.name: i for i, a in enumerate(book.accounts)}
        legs = layout.legs
        self.n_accounts = len(book.accounts)
        self.leg_price = np.array([key_index[leg.price_key] for leg in legs], dtype=np.intp)
        self.leg_inverse = np.array([leg.inverse for leg in legs], dtype=bool)
        self.any_inverse = bool(self.leg_inverse.any())
        self.leg_account = np.array([account_index[leg.account] for leg in legs], dtype=np.intp)
        self.leg_cross = np.array([leg.cross for leg in legs], dtype=bool)
        self.leg_group = np.array([leg.group for leg in legs], dtype=np.intp)
        self.n_groups = len(layout.groups)
        self.leg_slope = np.array([leg.leg.pnl_slope for leg in legs], dtype=float)
        self.leg_offset = np.array([leg.leg.pnl_offset for leg in legs], dtype=float)
        self.leg_nu = np.array([leg.leg.nu for leg in legs], dtype=float)
        self.leg_collateral = np.array([leg.collateral for leg in legs], dtype=float)
        fixed = [leg.leg.fixed_maintenance for leg in legs]
        self.leg_is_fixed = np.array([f is not None for f in fixed], dtype=bool)
        self.leg_fixed = np.array([f or 0.0 for f in fixed], dtype=float)
        self.cross_wallet = np.array([layout.cross_wallet[a.name] for a in book.accounts], dtype=float)
        self.account_has_cross = np.bincount(self.leg_account[self.leg_cross], minlength=self.n_accounts) > 0
        self.wallet = np.array([a.wallet_balance for a in book.accounts], dtype=float)

        self._compile_tiers(legs)
        self._compile_solvers(layout)
        self._compile_positions(book, layout, account_index)

    def _compile_tiers(self, legs: Sequence[LegLayout]) -> None:
        """Every leg's tiers as flat arrays, in the two orders the solvers read (legs x tiers, tiers x legs)."""
        n_legs = len(legs)
        n_tiers = max((len(leg.leg.tiers) for leg in legs), default=1)
        # Tier bounds column by column (tiers x legs): a short loop over tiers beats a 2-D compare.
        self.n_tiers = n_tiers
        self.tier_lower_by_column = np.full((n_tiers, n_legs), np.inf)
        rate = np.zeros((n_legs, n_tiers))
        amount = np.zeros((n_legs, n_tiers))
        for k, leg in enumerate(legs):
            for t, tier in enumerate(leg.leg.tiers):
                self.tier_lower_by_column[t, k] = tier.lower
                rate[k, t] = tier.rate
                amount[k, t] = tier.amount
        self.tier_rate = rate.ravel()
        self.tier_amount = amount.ravel()
        self.tier_base = np.arange(n_legs, dtype=np.intp) * n_tiers
        """Flat index of each leg's first tier in tier_rate / tier_amount (legs x tiers, as the stress search reads)."""
        # recompute reads the same figures tier by tier (tiers x legs: flat = tier * legs + leg): most legs sit
        # in the first few tiers, so its gathers stay within a few contiguous rows (twice as fast as legs x tiers).
        self.n_legs = n_legs
        self.leg_ids = np.arange(n_legs, dtype=np.intp)
        self.rate_by_tier = rate.T.ravel()
        self.amount_by_tier = amount.T.ravel()
        # Each flat tier's notional interval [floor, ceiling): a notional still inside the interval of a tier
        # it was in has the same tier (checked in four array operations instead of two per tier). This holds
        # when every leg's tier bounds are non-decreasing; otherwise every tier is counted afresh.
        self.tiers_ordered = bool(np.all(self.tier_lower_by_column[1:] >= self.tier_lower_by_column[:-1]))
        floor = self.tier_lower_by_column.copy()
        floor[0] = -np.inf  # the count starts at the first tier whatever its lower bound
        ceiling = np.full((n_tiers, n_legs), np.inf)
        ceiling[:-1] = self.tier_lower_by_column[1:]
        self.tier_floor = floor.ravel()
        self.tier_ceiling = ceiling.ravel()
        self._root_hint: np.ndarray | None = None
        """Per Newton leg, the flat tier its root was last found in: roots move little between two recomputes."""

    def _compile_solvers(self, layout: BookLayout) -> None:
        """Which groups the segment scan solves (hedge pairs, tiers whose maintenance jumps) and the Newton
        legs' inputs, gathered once."""
        legs = layout.legs
        scan = {g for g, members in enumerate(layout.groups) if len(members) > 1}
        continuous: dict[int, bool] = {}  # per tiers tuple: the legs on one market share one

        def jumps(leg: Leg) -> bool:
            key = id(leg.tiers)
            if key not in continuous:
                continuous[key] = tiers_continuous(leg)
            return not continuous[key]

        scan |= {leg.group for leg in legs if leg.leg.fixed_maintenance is None and jumps(leg.leg)}
        self.scan = SegmentScan(layout, sorted(scan))
        self.in_scan = np.isin(self.leg_group, self.scan.groups)
        self.scan_legs = np.flatnonzero(self.in_scan)
        self.scan_row_of_leg = np.searchsorted(self.scan.groups, self.leg_group[self.scan_legs])
        # A group's surplus is its legs' sum, added in leg order as bincount would (0.0 + first + second):
        # with groups of one or two legs, two gathers over the pairs instead of a bincount over every group.
        members = layout.groups
        self.pairs_only = all(len(g) <= 2 for g in members)
        pairs = [g for g in members if len(g) == 2]
        self.pair_first = np.array([g[0] for g in pairs], dtype=np.intp)
        self.pair_second = np.array([g[1] for g in pairs], dtype=np.intp)
        self.newton_legs = np.flatnonzero(~self.in_scan)
        self.any_fixed = bool(self.leg_is_fixed.any())
        # The first Newton step covers nearly every leg: gather its inputs once, here.
        nl = self.newton_legs
        self.newton_bounds = np.ascontiguousarray(self.tier_lower_by_column[:, nl])
        self.newton_slope = self.leg_slope[nl]
        self.newton_offset = self.leg_offset[nl]
        self.newton_nu = self.leg_nu[nl]
        self.newton_is_fixed = self.leg_is_fixed[nl]
        self.newton_fixed = self.leg_fixed[nl]
        self.newton_base = nl  # a leg's flat index in tier 0 (tiers x legs) is the leg's own

    def _compile_positions(self, book: Book, layout: BookLayout, account_index: Mapping[str, int]) -> None:
        """Per-position arrays (their leg, account, PnL line, ROE base, collateral) and the per-account bins."""
        positions = book.positions
        exposures = layout.exposures
        account_of = {a.name: a for a in book.accounts}
        self.pos_leg = np.array(layout.leg_of_position, dtype=np.intp)
        self.pos_account = np.array([account_index[p.account] for p in positions], dtype=np.intp)
        self.pos_slope = np.array([e.pnl_slope for e in exposures], dtype=float)
        self.pos_offset = np.array([e.pnl_offset for e in exposures], dtype=float)
        self.pos_nu = np.array([e.nu for e in exposures], dtype=float)
        self.pos_leverage = np.array([p.leverage for p in positions], dtype=float)
        self.pos_cross = np.array([p.margin_mode is MarginMode.CROSS for p in positions], dtype=bool)
        roe_bases = [
            fixed_roe_base(e, p, book.market_of(p), profile_of(account_of[p.account]))
            for e, p in zip(exposures, positions, strict=True)
        ]
        self.pos_roe_at_mark = np.array([b is None for b in roe_bases], dtype=bool)
        self.pos_roe_base = np.array([np.nan if b is None else b for b in roe_bases], dtype=float)
        self.any_fixed_roe = not bool(self.pos_roe_at_mark.all())
        self.pos_collateral = np.array(
            [0.0 if p.margin_mode is MarginMode.CROSS else p.isolated_margin for p in positions]
        )
        self.pos_share = self.pos_nu / self.leg_nu[self.pos_leg]
        # Sums per account, several at once: bin = account * fields + field. Neighbouring terms then land in
        # different bins, so the adds do not wait on each other (one bincount per field, on a book grouped by
        # account, adds into one bin in a chain); each bin still adds its terms in book order, bit for bit.
        self.leg_account_by_2 = (self.leg_account[:, None] * 2 + np.arange(2)).ravel()
        self.pos_account_by_4 = (self.pos_account[:, None] * 4 + np.arange(4)).ravel()
        # Usually every position is its own leg: then the leg arrays are the position arrays, bit for bit.
        self.one_leg_per_position = bool(np.array_equal(self.pos_leg, np.arange(len(layout.legs))))

    def prices_from(self, prices: Mapping[PriceKey, float]) -> np.ndarray:
        """A mark vector in this book's price_keys order from a {(exchange, symbol): mark} mapping; NaN for a
        key without a mark (recompute then leaves what depends on it NaN)."""
        return np.array([prices.get(key, np.nan) for key in self.price_keys], dtype=float)

    def _tier(self, notional: np.ndarray, bounds: np.ndarray) -> np.ndarray:
        """Index of the tier each notional falls in; bounds: the matching columns of the tier lower bounds."""
        small = self.n_tiers < 127
        tier = np.zeros(notional.shape, dtype=np.int8 if small else np.intp)
        above = np.empty(notional.shape, dtype=bool)
        step = above.view(np.int8) if small else above  # bool as int8: an int8 add, no casting loop
        for row in bounds[1:]:
            np.less_equal(row, notional, out=above)
            np.add(tier, step, out=tier)
        return tier

    def _flat(self, legs: np.ndarray, tier: np.ndarray) -> np.ndarray:
        """Flat indices (tiers x legs) into rate_by_tier, amount_by_tier and the tier intervals."""
        flat = np.multiply(tier, self.n_legs, dtype=np.intp)
        flat += legs
        return flat

    def _inside(self, flat: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """bool per leg: the notional lies in the interval of the flat tier given (so _tier would answer it;
        False for NaN). Only meaningful when tiers_ordered."""
        return (self.tier_floor.take(flat) <= notional) & (notional < self.tier_ceiling.take(flat))

    def _root_tiers(self, local: np.ndarray, notional: np.ndarray) -> np.ndarray:
        """The flat tier of each notional, for the Newton legs at positions `local`: the hint's where it still
        holds, counted for the others (the same index either way, only cheaper)."""
        hint = self._root_hint
        flat = (hint if hint is not None else self.newton_base)[local]
        moved = np.flatnonzero(~self._inside(flat, notional))
        if len(moved):
            at = local[moved]
            flat[moved] = self._flat(self.newton_base[at], self._tier(notional[moved], self.newton_bounds[:, at]))
        if hint is None:
            hint = self._root_hint = self.newton_base.copy()
        # Changed in place: a recompute running meanwhile reads, for each leg, one of its own tiers, which is
        # all a hint needs to be (a wrong one is only counted again).
        hint[local] = flat
        return flat

    def recompute(self, marks: np.ndarray) -> VectorRisk:
        """Evaluate the book at marks: float64, shape (len(self.price_keys),), in self.price_keys order, each
        in its contract's quote currency, NaN for a missing mark. Raises IndexError for a shorter vector.

        A figure that overflows (absurd marks or sizes) comes out inf/NaN, never as a warning or an error:
        engine.margin.live_risk gives such rows their reason."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._recompute(marks)

    def _recompute(self, marks: np.ndarray) -> VectorRisk:
        """recompute's body: legs (tiers, maintenance, backing, liquidation prices), then accounts, then
        positions, as one sequence of array operations.

        Long because it is the live view's hot path (benchmarked per refresh): split into methods, a dozen
        intermediate arrays would travel between them, and the order of the steps is the argument.
        """
        leg_mark = marks[self.leg_price]
        z = np.where(self.leg_inverse, 1.0 / leg_mark, leg_mark) if self.any_inverse else leg_mark
        notional = self.leg_nu * z
        flat = self._flat(self.leg_ids, self._tier(notional, self.tier_lower_by_column))
        mm = notional * self.rate_by_tier.take(flat) - self.amount_by_tier.take(flat)
        if self.any_fixed:
            mm = np.where(self.leg_is_fixed, self.leg_fixed, mm)
        pnl = self.leg_slope * z + self.leg_offset
        surplus = pnl - mm

        n = self.n_accounts
        cross_terms = np.empty((len(z), 2))
        cross_terms[:, 0] = np.where(self.leg_cross, surplus, 0.0)
        cross_terms[:, 1] = np.where(self.leg_cross, pnl, 0.0)
        cross_sums = np.bincount(self.leg_account_by_2, weights=cross_terms.ravel(), minlength=2 * n).reshape(n, 2)
        cross_surplus = self.cross_wallet + cross_sums[:, 0]
        if self.pairs_only:
            own_surplus = surplus + 0.0  # as bincount's 0.0 + term (-0.0 becomes 0.0)
            pair_sum = own_surplus[self.pair_first] + surplus[self.pair_second]
            own_surplus[self.pair_first] = pair_sum
            own_surplus[self.pair_second] = pair_sum
        else:
            own_surplus = np.bincount(self.leg_group, weights=surplus, minlength=self.n_groups)[self.leg_group]
        account_surplus = cross_surplus[self.leg_account]
        backing = np.where(self.leg_cross, account_surplus - own_surplus, self.leg_collateral)
        # A cross leg is safe exactly when its cross account is: the two can never disagree.
        safe = np.where(self.leg_cross, account_surplus, backing + own_surplus) > 0

        root_z = np.full(len(z), np.nan)
        unsettled = self._newton(root_z, backing, flat)
        with np.errstate(invalid="ignore"):
            root_z = np.where(np.isfinite(root_z) & (root_z > 0), root_z, np.nan)
        liq = in_range(np.where(self.leg_inverse, 1.0 / root_z, root_z) if self.any_inverse else root_z)
        if len(self.scan.groups):
            self._scan(liq, backing, leg_mark)
        for k in unsettled:  # a leg Newton did not settle (never seen in tests): the scalar solver decides
            self._scalar(int(k), liq, backing, leg_mark)
        distance = np.abs(leg_mark - liq) / leg_mark
        distance = np.where(safe, distance, -distance)

        if self.one_leg_per_position:
            pos_notional, pos_pnl, pos_mm = notional, pnl, mm
            pos_mark, pos_liq, pos_distance = leg_mark, liq, distance
        else:
            pos_leg = self.pos_leg
            pos_z = z[pos_leg]
            pos_notional = self.pos_nu * pos_z
            pos_pnl = self.pos_slope * pos_z + self.pos_offset
            pos_mm = mm[pos_leg] * self.pos_share
            pos_mark, pos_liq, pos_distance = leg_mark[pos_leg], liq[pos_leg], distance[pos_leg]
        pos_im = pos_notional / self.pos_leverage
        terms = np.empty((len(pos_pnl), 4))
        terms[:, 0], terms[:, 1], terms[:, 2] = pos_pnl, pos_im, pos_mm
        terms[:, 3] = np.where(self.pos_cross, pos_pnl - pos_im, 0.0)
        sums = np.bincount(self.pos_account_by_4, weights=terms.ravel(), minlength=4 * n).reshape(n, 4)
        acc_pnl, acc_im, acc_mm, cross_free = sums[:, 0], sums[:, 1], sums[:, 2], sums[:, 3]
        equity = self.wallet + acc_pnl

        # The account's ratio is its cross ratio (engine.margin.risk): isolated collateral never dilutes it.
        # Maintenance as balance less surplus: the ratio is exactly 1 where the surplus is 0.
        cross_balance = self.cross_wallet + cross_sums[:, 1]
        cross_mm = cross_balance - cross_surplus
        has_cross = self.account_has_cross
        cross_known = np.isfinite(cross_surplus)
        # -inf (an overflowing loss) is liquidated too; NaN (a missing mark) is unknown.
        liquidated = has_cross & (cross_surplus <= 0)
        # A denormal balance overflows the ratio: no ratio (NaN), as engine.margin.risk._ratio says None; the
        # account is liquidated all the same (its surplus is below 0), which is what its level follows.
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.where(has_cross & cross_known & (cross_balance > 0), cross_mm / cross_balance, np.nan)
            own_balance = self.pos_collateral + pos_pnl
            own_ratio = np.where(np.isfinite(own_balance) & (own_balance > 0), pos_mm / own_balance, np.nan)
            # ROE's base per exchange (engine.margin.rules.RoeBase): the initial margin at the mark, or a fixed one.
            roe = pos_pnl / (
                np.where(self.pos_roe_at_mark, pos_im, self.pos_roe_base) if self.any_fixed_roe else pos_im
            )
        ratio[np.isinf(ratio)] = np.nan
        own_ratio[np.isinf(own_ratio)] = np.nan
        pos_ratio = np.where(self.pos_cross, ratio[self.pos_account], own_ratio)
        return VectorRisk(
            mark_price=pos_mark,
            notional=pos_notional,
            unrealized_pnl=pos_pnl,
            roe=roe,
            initial_margin=pos_im,
            maintenance_margin=pos_mm,
            liquidation_price=pos_liq,
            distance_to_liquidation=pos_distance,
            account_unrealized_pnl=acc_pnl,
            account_equity=equity,
            account_initial_margin=acc_im,
            account_maintenance_margin=acc_mm,
            account_margin_ratio=ratio,
            account_available_balance=np.maximum(0.0, self.cross_wallet + cross_free),
            position_margin_ratio=pos_ratio,
            account_cross_margin_balance=np.where(has_cross, cross_balance, np.nan),
            account_cross_maintenance_margin=np.where(has_cross, cross_mm, np.nan),
            account_liquidated=liquidated,
            account_cross_known=cross_known | ~has_cross,
            account_has_cross=has_cross,
        )

    def _newton(self, root_z: np.ndarray, backing: np.ndarray, flat_at_mark: np.ndarray) -> np.ndarray:
        """Fill root_z for the Newton legs; return the legs that did not settle."""
        active = self.newton_legs
        local = np.arange(len(active))  # positions within the Newton arrays still unsettled
        flat = flat_at_mark[active]
        b = backing[active]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for step in range(_MAX_NEWTON_STEPS):
                if not len(local):
                    break
                whole = step == 0  # the first step takes the precomputed arrays as they are
                slope = self.newton_slope if whole else self.newton_slope[local]
                nu = self.newton_nu if whole else self.newton_nu[local]
                bl = b if whole else b[local]
                # Same association as the scalar segment line: (offset + amount) + backing.
                offset = self.newton_offset if whole else self.newton_offset[local]
                amount, rate = self.amount_by_tier.take(flat), self.rate_by_tier.take(flat)
                candidate = -((offset + amount) + bl) / (slope - nu * rate)
                if self.any_fixed:
                    is_fixed = self.newton_is_fixed if whole else self.newton_is_fixed[local]
                    fixed = self.newton_fixed if whole else self.newton_fixed[local]
                    candidate = np.where(is_fixed, -((offset - fixed) + bl) / slope, candidate)
                at_root = nu * candidate
                if self.tiers_ordered:  # settled where the root stays in the tier it was computed on
                    done = self._inside(flat, at_root) | ~np.isfinite(candidate)
                    if self.any_fixed:
                        done |= is_fixed
                    again = np.flatnonzero(~done)
                    if whole:  # root_z is NaN until a leg settles
                        candidate[again] = np.nan
                        root_z[active] = candidate
                        local = again
                    else:
                        root_z[active[local[done]]] = candidate[done]
                        local = local[again]
                    if len(local):
                        flat = self._root_tiers(local, at_root[again])
                    continue
                bounds = self.newton_bounds if whole else self.newton_bounds[:, local]
                base = self.newton_base if whole else self.newton_base[local]
                new_flat = self._flat(base, self._tier(at_root, bounds))
                done = (new_flat == flat) | ~np.isfinite(candidate)
                if self.any_fixed:
                    done |= is_fixed
                root_z[active[local[done]]] = candidate[done]
                local, flat = local[~done], new_flat[~done]
        return active[local]

    def _scan(self, liq: np.ndarray, backing: np.ndarray, leg_mark: np.ndarray) -> None:
        first = self.scan.first_leg
        chosen = self.scan.nearest_prices(backing[first], self.leg_inverse[first], leg_mark[first])
        liq[self.scan_legs] = chosen[self.scan_row_of_leg]

    def _scalar(self, k: int, liq: np.ndarray, backing: np.ndarray, leg_mark: np.ndarray) -> None:
        members = self.layout.groups[int(self.leg_group[k])]
        legs = [self.layout.legs[m].leg for m in members]
        price = liquidation_price(legs, float(backing[k]), float(leg_mark[k]), bool(self.leg_inverse[k]))
        for m in members:
            liq[m] = np.nan if price is None else price
