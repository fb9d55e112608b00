"""The liquidation equation, solved in closed form per maintenance tier.

A position (or a group sharing one liquidation price) is liquidated where

    collateral + unrealized PnL(mark)  =  maintenance margin(mark)

Everything is written in one variable z: z = price for linear contracts and z = 1/price for inverse
ones. In z both the PnL and the notional are linear (PnL = slope*z + offset, notional = nu*z), so on
each tier the equation is a straight line with one closed-form root. Tiers are chosen by the
notional *at the root*: the solver walks every tier segment, keeps the roots that fall inside their
own segment (plus any tier boundary where a maintenance jump flips the sign, as on OKX and Gate,
whose tiers apply one rate to the whole notional), and reports the one nearest the mark.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

from engine.margin.model import MarketSpec
from engine.margin.rules import RuleProfile


@dataclass(frozen=True, slots=True)
class AppliedTier:
    """A tier as the engine applies it: maintenance = notional * rate - amount, rate fee-inclusive."""

    lower: float
    upper: float
    rate: float
    amount: float

    def maintenance(self, notional: float) -> float:
        """Maintenance margin at this notional (both in the settlement currency), as if the notional were in
        this tier (the caller picks the tier: applied_tier_index)."""
        return notional * self.rate - self.amount


def applied_tiers(market: MarketSpec, profile: RuleProfile, *, with_fee: bool = True) -> tuple[AppliedTier, ...]:
    """The market's tiers as the exchange applies them (one AppliedTier per tier, same order and bounds).

    Rates are RuleProfile.effective_rate (taker fee included where the profile adds it, unless not with_fee).
    For Hyperliquid the amounts are derived so the maintenance margin is continuous at each tier's lower bound:
    amount_k = amount_(k-1) + lower_k * (rate_k - rate_(k-1)): Hyperliquid's maintenance deduction, by the
    rule of Binance's cum (resources/tiers/binancecoinm.json cites it). The rate itself: Hyperliquid docs
    "Liquidations" (resources/tiers/hyperliquid.json).

    Raises ValueError when the profile derives rates from max leverage and neither the tier nor the
    market gives one (RuleProfile.effective_rate).
    """
    if profile.maintenance_share_of_max_leverage_margin is None:  # effective_rate's rate, without a call per tier
        if with_fee and profile.adds_fee(market):
            fee = market.taker_fee
            return tuple(
                AppliedTier(t.min_notional, t.max_notional, t.maintenance_margin_rate + fee, t.maintenance_amount)
                for t in market.tiers
            )
        return tuple(
            AppliedTier(t.min_notional, t.max_notional, t.maintenance_margin_rate, t.maintenance_amount)
            for t in market.tiers
        )
    # Rates derived from max leverage: the deductions follow from them, so that the maintenance
    # margin stays continuous across tiers (Hyperliquid's "maintenance deduction").
    tiers: list[AppliedTier] = []
    for t in market.tiers:
        rate = profile.effective_rate(t, market, with_fee=with_fee)
        amount = tiers[-1].amount + t.min_notional * (rate - tiers[-1].rate) if tiers else 0.0
        tiers.append(AppliedTier(t.min_notional, t.max_notional, rate, amount))
    return tuple(tiers)


def applied_tier_index(tiers: Sequence[AppliedTier], notional: float) -> int:
    """Index of the tier holding this notional; above the last cap the last tier applies."""
    return max(0, bisect.bisect_right(tiers, notional, key=_LOWER) - 1)  # no list of the bounds made per call


_LOWER = operator.attrgetter("lower")


@dataclass(frozen=True, slots=True)
class Leg:
    """Same-side exposure of one symbol, in z: PnL = pnl_slope*z + pnl_offset, notional = nu*z.

    fixed_maintenance is set when the maintenance margin does not move with the mark (Bybit isolated,
    taken at entry); otherwise it is notional * rate - amount of the tier the notional falls in.
    """

    pnl_slope: float
    pnl_offset: float
    nu: float
    tiers: tuple[AppliedTier, ...]
    fixed_maintenance: float | None = None

    def pnl(self, z: float) -> float:
        """Unrealized PnL at z, in the settlement currency."""
        return self.pnl_slope * z + self.pnl_offset

    def maintenance(self, z: float) -> float:
        """Maintenance margin at z, in the settlement currency (the tier of the notional nu*z)."""
        if self.fixed_maintenance is not None:
            return self.fixed_maintenance
        notional = self.nu * z
        return self.tiers[applied_tier_index(self.tiers, notional)].maintenance(notional)


def margin_surplus(legs: Sequence[Leg], backing: float, z: float) -> float:
    """Equity minus maintenance margin at z; backing = collateral - maintenance held by others."""
    return backing + sum(leg.pnl(z) - leg.maintenance(z) for leg in legs)  # sum from 0, as np.bincount does


def breakpoints(legs: Sequence[Leg]) -> list[float]:
    """Every z where some leg changes tier, ascending."""
    points = {b.lower / leg.nu for leg in legs if leg.fixed_maintenance is None and leg.nu > 0 for b in leg.tiers[1:]}
    return sorted(p for p in points if p > 0 and math.isfinite(p))


def segment_edges(legs: Sequence[Leg]) -> list[float]:
    """0, every tier breakpoint, infinity: the segments on which the surplus is one straight line."""
    return [0.0, *breakpoints(legs), math.inf]


def segment_midpoint(lo: float, hi: float) -> float:
    """Where to pick a segment's tiers: at an edge itself nu*z may round into the tier below."""
    return (lo + hi) / 2 if hi < math.inf else 2 * lo + 1


def segment_line(legs: Sequence[Leg], backing: float, z_in_segment: float) -> tuple[float, float]:
    """Coefficients (a, b) of the surplus a*z + b on the segment that holds z_in_segment."""
    a = 0.0
    b = backing
    for leg in legs:
        a += leg.pnl_slope
        b += leg.pnl_offset
        if leg.fixed_maintenance is not None:
            b -= leg.fixed_maintenance
        else:
            tier = leg.tiers[applied_tier_index(leg.tiers, leg.nu * z_in_segment)]
            a -= leg.nu * tier.rate
            b += tier.amount
    return a, b


def liquidation_roots(legs: Sequence[Leg], backing: float) -> list[float]:
    """Every z > 0 where the surplus reaches zero: segment roots and sign-flipping tier jumps."""
    edges = segment_edges(legs)
    # Lines are built without the backing, which is added last: the vectorised scan precomputes them
    # that way, and the same order of operations keeps both paths equal to the last bit.
    lines = [segment_line(legs, 0.0, segment_midpoint(lo, hi)) for lo, hi in itertools.pairwise(edges)]
    lines = [(a, c + backing) for a, c in lines]
    roots: list[float] = []
    for (lo, hi), (a, b) in zip(itertools.pairwise(edges), lines, strict=False):
        if a != 0.0:
            z = -b / a
            if lo <= z <= hi and z > 0:
                roots.append(z)
    for k, edge in enumerate(edges[1:-1]):
        (a_left, b_left), (a_right, b_right) = lines[k], lines[k + 1]
        left, right = a_left * edge + b_left, a_right * edge + b_right
        if (left > 0) != (right > 0) and right != 0.0:
            roots.append(edge)
    return sorted(set(roots))


def to_price(z: float, inverse: bool) -> float:
    """The price of the solver's variable: z itself (linear), 1/z (inverse). ZeroDivisionError at z = 0
    for an inverse contract (the solver's roots are > 0)."""
    return 1.0 / z if inverse else z


def to_z(price: float, inverse: bool) -> float:
    """The solver's variable of a price: the price (linear), 1/price (inverse). ZeroDivisionError at
    price 0 for an inverse contract (marks and entries are > 0)."""
    return 1.0 / price if inverse else price


PRICE_RANGE = (1e-12, 1e12)
"""A root outside this range is no liquidation price: it is rounding at z -> 0 or z -> infinity (a 1x inverse
short gave 4.6e20), where no market trades; the price store refuses marks outside the same band."""


def liquidation_price(legs: Sequence[Leg], backing: float, mark: float, inverse: bool) -> float | None:
    """The liquidation price nearest the mark, or None where no positive price liquidates.

    legs: the legs of one group (engine.margin.layout); backing: the collateral less the maintenance held by
    others, settlement currency; mark: price; inverse: whether z = 1/price. The price is in the contract's
    quote currency. Raises nothing: a leg whose surplus never reaches 0 (or only outside PRICE_RANGE) gives None."""
    roots = liquidation_roots(legs, backing)
    prices = [price for z in roots if PRICE_RANGE[0] <= (price := to_price(z, inverse)) <= PRICE_RANGE[1]]
    if not prices:
        return None
    return min(prices, key=lambda price: abs(price - mark))


def distance_to_liquidation(mark: float, liquidation: float | None, safe: bool) -> float | None:
    """Relative move of the mark, in the direction that hurts, that reaches the liquidation price.

    Positive while safe, <= 0 once past it: (mark - liq)/mark for a long, (liq - mark)/mark for a
    short; a group sharing one price takes the side its liquidation lies on. A fraction (0.05 = 5%);
    `safe`: the group is above water at the mark (surplus > 0). mark must be > 0 (ZeroDivisionError at 0);
    None when there is no liquidation price.
    """
    if liquidation is None:
        return None
    gap = abs(mark - liquidation) / mark
    return gap if safe else -gap
