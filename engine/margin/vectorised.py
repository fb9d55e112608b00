"""The whole-book recompute over numpy arrays, for the live view.

A book is compiled once (its layout does not change with prices); each price update is then a
fixed number of array operations over all legs. Liquidation prices come from the same closed form
as the scalar path (engine.margin.liquidation), in two vectorised ways:

- Newton on tiers (engine.margin.tier_newton), for a single leg whose maintenance margin is continuous
  across tiers (Binance's cumulative amounts): the root on the current tier's line, then the tier at that
  root, until they agree. The surplus is monotone there, so the root is unique and this is exact in a few steps.
- A segment scan (engine.margin.segment_scan) for everything else (the two legs of a hedge-mode pair, tier tables whose
  maintenance jumps at a boundary as on OKX and Gate): the same walk over tier segments as the scalar
  solver, with each segment's line precomputed at compile time (only the backing moves with prices).

Every per-account sum is taken in one gather and one reduce (engine.margin.account_sums), and each leg's tier
at the mark is the last recompute's where it still holds (engine.margin.tier_arrays): the same bits, cheaper.
Results agree with engine.margin.risk.evaluate_book to 1e-9 relative (tested on random books).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from engine.margin.account_sums import AccountSums
from engine.margin.layout import BookLayout, LegLayout, book_layout
from engine.margin.liquidation import liquidation_price
from engine.margin.model import Book, MarginMode, PriceKey
from engine.margin.roe import fixed_roe_base
from engine.margin.rules import profile_of
from engine.margin.segment_scan import SegmentScan, in_range, tiers_continuous
from engine.margin.tier_arrays import TierArrays
from engine.margin.tier_newton import TierNewton
from engine.margin.vector_risk import VectorRisk

_RATE, _AMOUNT, _CONSTANT, _DIVISOR, _FLOOR, _CEILING = range(6)
"""Rows of CompiledBook.tier_figures."""


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
        self.isolated_legs = np.flatnonzero(~self.leg_cross)
        self.isolated_leg_collateral = self.leg_collateral[self.isolated_legs]
        self.account_has_cross = np.bincount(self.leg_account[self.leg_cross], minlength=self.n_accounts) > 0
        self.wallet = np.array([a.wallet_balance for a in book.accounts], dtype=float)

        self._compile_tiers(legs)
        self._compile_solvers(layout)
        self._compile_positions(book, layout, account_index)

    def _compile_tiers(self, legs: Sequence[LegLayout]) -> None:
        """Every leg's tiers as flat arrays (engine.margin.tier_arrays)."""
        self.tiers = tiers = TierArrays([leg.leg for leg in legs])
        # The names the stress and odds searches read (legs x tiers: tier_rate, tier_amount, tier_base).
        self.n_tiers, self.n_legs, self.tiers_ordered = tiers.n_tiers, tiers.n_legs, tiers.ordered
        self.tier_lower_by_column = tiers.lower_by_column
        self.tier_rate, self.tier_amount, self.tier_base = tiers.rate_by_leg, tiers.amount_by_leg, tiers.leg_base
        self.leg_ids = np.arange(self.n_legs, dtype=np.intp)
        self._at_mark: tuple[np.ndarray, np.ndarray] | None = None
        """The last recompute's flat tier per leg at the mark and tier_figures' columns there (never changed in
        place: a recompute running meanwhile keeps the pair it took; marks move little between recomputes)."""

    def _compile_solvers(self, layout: BookLayout) -> None:
        """Which groups the segment scan solves (hedge pairs, tiers whose maintenance jumps) and the Newton
        legs' inputs, gathered once."""
        legs = layout.legs
        scan = {g for g, members in enumerate(layout.groups) if len(members) > 1}
        jumps: dict[int, bool] = {}  # per tiers tuple: the legs on one market (or one shared table) share one
        for leg in legs:
            if leg.leg.fixed_maintenance is None and id(leg.leg.tiers) not in jumps:
                jumps[id(leg.leg.tiers)] = not tiers_continuous(leg.leg)
        scan |= {leg.group for leg in legs if leg.leg.fixed_maintenance is None and jumps[id(leg.leg.tiers)]}
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
        # Newton runs over every leg when the scanned ones are few (taken as settled at once: the scan's roots
        # replace theirs), cheaper than gathering the others' inputs out and their roots back.
        few = len(self.scan_legs) * 4 <= self.n_legs
        self.newton_legs = nl = self.leg_ids if few else np.flatnonzero(~self.in_scan)
        self.all_newton = len(nl) == self.n_legs
        self.any_fixed = bool(self.leg_is_fixed.any())
        self.newton_inverse = self.leg_inverse[nl]
        self.newton = TierNewton(
            self.tiers, nl, self.leg_slope, self.leg_offset, self.leg_nu, self.leg_is_fixed, self.leg_fixed
        )
        self.newton.skip(self.in_scan[nl])  # every leg when few are scanned: the scanned ones are skipped
        # Each leg's figures on a tier, gathered in one go (rows: _RATE, _AMOUNT, _CONSTANT, _DIVISOR, _FLOOR,
        # _CEILING; columns: flat tiers); a recompute reuses the last one's at the mark where the tier still holds.
        t, n = self.tiers, self.newton
        self.tier_figures = np.stack([t.rate, t.amount, n.line_constant, n.line_divisor, t.floor, t.ceiling])

    def _compile_positions(self, book: Book, layout: BookLayout, account_index: Mapping[str, int]) -> None:
        """Per-position arrays (their leg, account, PnL line, ROE base, collateral) and the per-account sums."""
        positions = book.positions
        exposures = layout.exposures
        profile_of_account = {a.name: profile_of(a) for a in book.accounts}  # the last of a name, as before
        self.pos_leg = np.array(layout.leg_of_position, dtype=np.intp)
        self.pos_account = np.array([account_index[p.account] for p in positions], dtype=np.intp)
        self.pos_slope = np.array([e.pnl_slope for e in exposures], dtype=float)
        self.pos_offset = np.array([e.pnl_offset for e in exposures], dtype=float)
        self.pos_nu = np.array([e.nu for e in exposures], dtype=float)
        self.pos_leverage = np.array([p.leverage for p in positions], dtype=float)
        self.pos_cross = np.array([p.margin_mode is MarginMode.CROSS for p in positions], dtype=bool)
        roe_bases = [
            fixed_roe_base(e, p, book.market_of(p), profile_of_account[p.account])
            for e, p in zip(exposures, positions, strict=True)
        ]
        self.pos_roe_at_mark = np.array([b is None for b in roe_bases], dtype=bool)
        self.pos_roe_base = np.array([np.nan if b is None else b for b in roe_bases], dtype=float)
        self.any_fixed_roe = not bool(self.pos_roe_at_mark.all())
        self.pos_collateral = np.array(
            [0.0 if p.margin_mode is MarginMode.CROSS else p.isolated_margin for p in positions]
        )
        self.pos_share = self.pos_nu / self.leg_nu[self.pos_leg]
        # Usually every position is its own leg: then the leg arrays are the position arrays, bit for bit.
        self.one_leg_per_position = bool(np.array_equal(self.pos_leg, np.arange(len(layout.legs))))
        self.pos_isolated = np.flatnonzero(~self.pos_cross)
        self.isolated_collateral = self.pos_collateral[self.pos_isolated]
        self._compile_sums(len(positions))

    def _compile_sums(self, n_positions: int) -> None:
        """The per-account sums (engine.margin.account_sums), all taken at once before the liquidation prices:
        cross surplus and cross PnL over the cross legs; PnL, initial and maintenance margin over all
        positions; PnL less initial margin over the cross positions. _rows names the buffer rows they read."""
        one = self.one_leg_per_position  # then a position's PnL and maintenance are its leg's: one row each
        names = ["surplus", "pnl", "im", "free"] + ([] if one else ["pos_pnl", "pos_mm"])
        self._rows = row = dict(zip(names, range(len(names)), strict=True))
        if one:
            row["pos_pnl"], row["pos_mm"] = row["pnl"], len(names)
        cross_legs, cross_positions = np.flatnonzero(self.leg_cross), np.flatnonzero(self.pos_cross)
        positions = np.arange(n_positions)
        figures = [
            (row["surplus"], cross_legs, self.leg_account[cross_legs]),
            (row["pnl"], cross_legs, self.leg_account[cross_legs]),
            (row["pos_pnl"], positions, self.pos_account),
            (row["im"], positions, self.pos_account),
            (row["pos_mm"], positions, self.pos_account),
            (row["free"], cross_positions, self.pos_account[cross_positions]),
        ]
        self.sums = AccountSums(self.n_accounts, max(self.n_legs, n_positions), figures)

    def prices_from(self, prices: Mapping[PriceKey, float]) -> np.ndarray:
        """A mark vector in this book's price_keys order from a {(exchange, symbol): mark} mapping; NaN for a
        key without a mark (recompute then leaves what depends on it NaN)."""
        return np.array([prices.get(key, np.nan) for key in self.price_keys], dtype=float)

    def _mark_tiers(self, notional: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat tier (tiers x legs) of every leg at its notional at the marks, and tier_figures' columns there
        (6 x legs): the last recompute's where the tier still holds (the same numbers either way, only cheaper)."""
        last = self._at_mark
        if last is None or not self.tiers_ordered:
            flat = self.tiers.counted(self.leg_ids, notional)
            figures = self.tier_figures.take(flat, axis=1)
        else:
            flat, figures = last
            inside = figures[_FLOOR] <= notional
            inside &= notional < figures[_CEILING]
            moved = np.flatnonzero(~inside)
            if len(moved):
                flat, figures = flat.copy(), figures.copy()
                flat[moved] = moved_flat = self.tiers.counted(moved, notional[moved])
                figures[:, moved] = self.tier_figures.take(moved_flat, axis=1)
        self._at_mark = flat, figures
        return flat, figures

    def recompute(self, marks: np.ndarray) -> VectorRisk:
        """Evaluate the book at marks: float64, shape (len(self.price_keys),), in self.price_keys order, each
        in its contract's quote currency, NaN for a missing mark. Raises IndexError for a shorter vector.

        A figure that overflows (absurd marks or sizes) comes out inf/NaN, never as a warning or an error:
        engine.margin.live_risk gives such rows their reason."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._recompute(marks)

    def _recompute(self, marks: np.ndarray) -> VectorRisk:
        """recompute's body: legs (tiers, maintenance, PnL), every per-account sum, backing, liquidation
        prices, then the ratios, as one sequence of array operations.

        Long because it is the live view's hot path (benchmarked per refresh): split into methods, a dozen
        intermediate arrays would travel between them, and the order of the steps is the argument.
        """
        leg_mark = marks.take(self.leg_price)
        z = np.where(self.leg_inverse, 1.0 / leg_mark, leg_mark) if self.any_inverse else leg_mark
        notional = self.leg_nu * z
        flat, at_mark = self._mark_tiers(notional)
        n_legs, rows = self.n_legs, self._rows
        buffer = self.sums.buffer()  # the figures summed per account are written straight into it
        one = self.one_leg_per_position  # then the legs' maintenance is the positions': straight into the buffer
        mm = np.multiply(notional, at_mark[_RATE], out=buffer[rows["pos_mm"], :n_legs] if one else None)
        mm -= at_mark[_AMOUNT]
        if self.any_fixed:
            np.copyto(mm, self.leg_fixed, where=self.leg_is_fixed)
        pnl = np.multiply(self.leg_slope, z, out=buffer[rows["pnl"], :n_legs])
        pnl += self.leg_offset
        surplus = np.subtract(pnl, mm, out=buffer[rows["surplus"], :n_legs])
        if one:
            pos_notional, pos_pnl, pos_mm = notional, pnl, mm
        else:
            n = len(self.pos_leg)
            pos_z = z[self.pos_leg]
            pos_notional = self.pos_nu * pos_z
            pos_pnl = np.multiply(self.pos_slope, pos_z, out=buffer[rows["pos_pnl"], :n])
            pos_pnl += self.pos_offset
            pos_mm = np.multiply(mm[self.pos_leg], self.pos_share, out=buffer[rows["pos_mm"], :n])
        width = len(pos_pnl)
        pos_im = np.divide(pos_notional, self.pos_leverage, out=buffer[rows["im"], :width])
        np.subtract(pos_pnl, pos_im, out=buffer[rows["free"], :width])
        cross_sums, cross_pnl, acc_pnl, acc_im, acc_mm, cross_free = self.sums.sums(buffer)
        cross_surplus = self.cross_wallet + cross_sums

        if self.pairs_only:
            own_surplus = surplus + 0.0  # as bincount's 0.0 + term (-0.0 becomes 0.0)
            pair_sum = own_surplus[self.pair_first] + surplus[self.pair_second]
            own_surplus[self.pair_first] = pair_sum
            own_surplus[self.pair_second] = pair_sum
        else:
            own_surplus = np.bincount(self.leg_group, weights=surplus, minlength=self.n_groups)[self.leg_group]
        account_surplus = cross_surplus.take(self.leg_account)
        backing = account_surplus - own_surplus  # a cross leg's; an isolated leg's is its collateral
        backing.put(self.isolated_legs, self.isolated_leg_collateral)
        # A cross leg is safe exactly when its cross account is: the two can never disagree. An isolated leg
        # when its collateral and own surplus are above 0. (Selected as bools: cheaper than floats.)
        safe = (cross_surplus > 0).take(self.leg_account)
        safe &= self.leg_cross
        isolated_safe = self.leg_collateral + own_surplus > 0
        isolated_safe &= ~self.leg_cross
        safe |= isolated_safe

        every = self.all_newton
        root_z, unsettled = self.newton.solve(
            backing if every else backing.take(self.newton_legs),
            flat if every else flat.take(self.newton_legs),
            at_mark[_CONSTANT:] if every else at_mark[_CONSTANT:].take(self.newton_legs, axis=1),
        )
        # Roots <= 0 or not finite fall outside PRICE_RANGE (positive, finite) as prices too: in_range drops them.
        newton_liq = in_range(np.where(self.newton_inverse, 1.0 / root_z, root_z) if self.any_inverse else root_z)
        if every:
            liq = newton_liq
        else:
            liq = np.full(n_legs, np.nan)
            liq[self.newton_legs] = newton_liq
        if len(self.scan.groups):
            self._scan(liq, backing, leg_mark)
        for k in unsettled:  # a leg Newton did not settle (never seen in tests): the scalar solver decides
            self._scalar(int(k), liq, backing, leg_mark)
        distance = np.abs(leg_mark - liq)
        distance /= leg_mark
        distance = np.where(safe, distance, -distance)
        if self.one_leg_per_position:
            pos_mark, pos_liq, pos_distance = leg_mark, liq, distance
        else:
            pos_leg = self.pos_leg
            pos_mark, pos_liq, pos_distance = leg_mark[pos_leg], liq[pos_leg], distance[pos_leg]
        equity = self.wallet + acc_pnl

        # The account's ratio is its cross ratio (engine.margin.risk): isolated collateral never dilutes it.
        # Maintenance as balance less surplus: the ratio is exactly 1 where the surplus is 0.
        cross_balance = self.cross_wallet + cross_pnl
        cross_mm = cross_balance - cross_surplus
        has_cross = self.account_has_cross
        cross_known = np.isfinite(cross_surplus)
        # -inf (an overflowing loss) is liquidated too; NaN (a missing mark) is unknown.
        liquidated = has_cross & (cross_surplus <= 0)
        # A denormal balance overflows the ratio: no ratio (NaN), as engine.margin.risk._ratio says None; the
        # account is liquidated all the same (its surplus is below 0), which is what its level follows.
        ratio = np.where(has_cross & cross_known & (cross_balance > 0), cross_mm / cross_balance, np.nan)
        ratio[np.isinf(ratio)] = np.nan
        # ROE's base per exchange (engine.margin.rules.RoeBase): the initial margin at the mark, or a fixed one.
        roe = pos_pnl / (np.where(self.pos_roe_at_mark, pos_im, self.pos_roe_base) if self.any_fixed_roe else pos_im)
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
            position_margin_ratio=self._position_ratios(ratio, pos_pnl, pos_mm),
            account_cross_margin_balance=np.where(has_cross, cross_balance, np.nan),
            account_cross_maintenance_margin=np.where(has_cross, cross_mm, np.nan),
            account_liquidated=liquidated,
            account_cross_known=cross_known | ~has_cross,
            account_has_cross=has_cross,
        )

    def _position_ratios(self, ratio: np.ndarray, pos_pnl: np.ndarray, pos_mm: np.ndarray) -> np.ndarray:
        """Per position: its account's cross ratio (cross), or own maintenance / (own margin + uPnL) (isolated);
        NaN where that balance is <= 0 or not finite, or the ratio overflows."""
        pos_ratio = ratio.take(self.pos_account)
        iso = self.pos_isolated
        if len(iso):
            own_balance = self.isolated_collateral + pos_pnl.take(iso)
            own_ratio = pos_mm.take(iso) / own_balance
            valid = np.isfinite(own_balance) & (own_balance > 0) & ~np.isinf(own_ratio)
            pos_ratio[iso] = np.where(valid, own_ratio, np.nan)
        return pos_ratio

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
