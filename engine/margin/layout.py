"""How a book's positions combine for the margin equation: legs and liquidation groups.

A *leg* is what the exchange holds as one position: an isolated position on its own, or all cross
positions of one account, symbol and side (their tier follows the total notional). A *group* shares
one liquidation price: an isolated leg alone, or the cross legs of one account and symbol (the long
and short of hedge mode). The scalar and the vectorised paths both start from this layout.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from engine.margin.exposure import Exposure, exposure
from engine.margin.liquidation import AppliedTier, Leg, applied_tiers
from engine.margin.model import Book, MarginMode, MarketSpec, PriceKey
from engine.margin.rules import MaintenanceBasis, RuleProfile, profile_of


@dataclass(frozen=True, slots=True)
class LegLayout:
    """One leg of the book: its equation (leg), the book indices of its positions (members), its group
    (index into BookLayout.groups), account, mark key, contract kind and margin mode."""

    leg: Leg
    members: tuple[int, ...]
    group: int
    account: str
    price_key: PriceKey
    inverse: bool
    cross: bool
    collateral: float
    """Isolated margin of an isolated leg; 0 for cross legs (the account backs them)."""


@dataclass(frozen=True, slots=True)
class BookLayout:
    """A book cut into legs and groups, for the scalar and the vectorised evaluations alike.

    exposures and leg_of_position are in book order (one per position); legs in first-seen order."""

    book: Book
    exposures: tuple[Exposure, ...]
    legs: tuple[LegLayout, ...]
    leg_of_position: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]
    """Leg indices of each group."""
    cross_wallet: dict[str, float]
    """Wallet balance less the isolated margins held in the account's isolated positions."""


def _leg(
    members: list[Exposure],
    market: MarketSpec,
    profile: RuleProfile,
    margin_mode: MarginMode,
    tiers: Callable[[bool], tuple[AppliedTier, ...]],
) -> Leg:
    """The equation of one leg: its exposures summed, its maintenance as the profile takes it.

    tiers(with_fee): the market's applied tiers (engine.margin.liquidation.applied_tiers), shared by its legs.
    - Deribit-style size increments (RuleProfile.size_rate): every tier's rate + the leg's size in the base
      currency x the increment; the size of a linear leg does not move with the mark, so these are the leg's
      own tiers and the equation stays linear in z on both paths.
    - Maintenance at entry (RuleProfile.basis): fixed at the tiers' maintenance of the leg's entry notional (the
      sum of its members': the exchange holds one position, whose tier follows its whole size, so two cross
      longs of 10 BTC are tiered as 20 BTC, not twice as 10).
      Where the profile also adds the fee to close, that part moves with the mark: the leg gets one tier of
      rate = fee and amount = -(maintenance at entry), so maintenance = fixed + notional x fee on both paths.
    """
    nu, slope, offset = _sums(members)
    size_rate = profile.size_rate(market)
    fee = profile.fee_rate(market)
    entry = profile.basis(margin_mode, market.inverse) is MaintenanceBasis.ENTRY
    applied = tiers(not (entry and fee))
    if size_rate:
        applied = tuple(replace(t, rate=t.rate + size_rate * nu) for t in applied)
    fixed = None
    if entry:
        entry_notional = sum([e.entry_notional for e in members])
        fixed = Leg(0.0, 0.0, nu, applied).maintenance(entry_notional / nu)  # at the leg's average entry
        if fee:
            applied, fixed = (AppliedTier(0.0, math.inf, fee, -fixed),), None
    return Leg(slope, offset, nu, applied, fixed)


def _sums(members: list[Exposure]) -> tuple[float, float, float]:
    """The members' nu, pnl_slope and pnl_offset, each summed as sum() adds them (from 0: 0.0 + the first, a -0.0
    included); a leg of one member (the usual one) without building lists."""
    if len(members) == 1:
        e = members[0]
        return 0.0 + e.nu, 0.0 + e.pnl_slope, 0.0 + e.pnl_offset
    return sum([e.nu for e in members]), sum([e.pnl_slope for e in members]), sum([e.pnl_offset for e in members])


def book_layout(book: Book) -> BookLayout:
    """The legs and liquidation groups of a book (module docstring); independent of prices.

    Raises KeyError when a position names an account or a market the book lacks; ValueError from
    RuleProfile.effective_rate (Hyperliquid tier without max leverage); ZeroDivisionError for an inverse
    position at entry 0. A book that passed engine.book.book_rules raises none of these.
    """
    exposures = tuple(exposure(position, book.market_of(position)) for position in book.positions)
    legs, group_count = _legs(book, exposures, _leg_members(book))
    leg_of_position = [0] * len(book.positions)
    for index, leg in enumerate(legs):
        for i in leg.members:
            leg_of_position[i] = index
    groups: list[list[int]] = [[] for _ in range(group_count)]
    for index, leg in enumerate(legs):
        groups[leg.group].append(index)
    return BookLayout(
        book=book,
        exposures=exposures,
        legs=tuple(legs),
        leg_of_position=tuple(leg_of_position),
        groups=tuple(tuple(g) for g in groups),
        cross_wallet=_cross_wallets(book),
    )


def _leg_members(book: Book) -> dict[tuple, list[int]]:
    """The book indices of each leg's positions, legs in first-seen order: ("isolated", i) for an isolated
    position, ("cross", account, symbol, side) for the cross positions the exchange holds as one."""
    leg_members: dict[tuple, list[int]] = defaultdict(list)
    for i, position in enumerate(book.positions):
        if position.margin_mode is MarginMode.ISOLATED:
            leg_members[("isolated", i)].append(i)
        else:
            leg_members[("cross", position.account, position.symbol, position.side)].append(i)
    return leg_members


def _legs(
    book: Book, exposures: tuple[Exposure, ...], leg_members: dict[tuple, list[int]]
) -> tuple[list[LegLayout], int]:
    """Each leg's layout (in leg_members' order) and the number of groups: a cross leg's group is its account
    and symbol (both sides of hedge mode), an isolated leg's its own."""
    accounts = {a.name: a for a in book.accounts}
    profiles = {name: profile_of(a) for name, a in accounts.items()}  # once per account, not per leg
    group_ids: dict[tuple, int] = {}
    # Per market and profile (the profile follows from the exchange and the account type): its legs share one,
    # and markets with one tiers tuple (a bundled table's, engine.margin.tiers) and the same figures share theirs.
    tiers_of: dict[tuple, tuple[AppliedTier, ...]] = {}
    shared: dict[tuple, tuple[AppliedTier, ...]] = {}
    legs: list[LegLayout] = []
    for key, members in leg_members.items():
        first = book.positions[members[0]]
        account = accounts[first.account]
        price_key = (account.exchange, first.symbol)
        market = book.markets[price_key]
        profile = profiles[first.account]

        def tiers(
            with_fee: bool, market=market, profile=profile, key=(price_key, account.account_type)
        ) -> tuple[AppliedTier, ...]:
            cached = tiers_of.get((key, with_fee))
            if cached is None:
                same = (id(market.tiers), key[0][0], key[1], with_fee, *_figures(market))
                cached = shared.get(same)
                if cached is None:
                    cached = shared[same] = applied_tiers(market, profile, with_fee=with_fee)
                tiers_of[(key, with_fee)] = cached
            return cached

        leg = _leg([exposures[i] for i in members], market, profile, first.margin_mode, tiers)
        cross = key[0] == "cross"
        legs.append(
            LegLayout(
                leg=leg,
                members=tuple(members),
                group=group_ids.setdefault(key[:3] if cross else key, len(group_ids)),
                account=first.account,
                price_key=price_key,
                inverse=market.inverse,
                cross=cross,
                collateral=0.0 if cross else first.isolated_margin,
            )
        )
    return legs, len(group_ids)


def _figures(market: MarketSpec) -> tuple:
    """What applied_tiers reads of a market besides its tiers, each bit for bit (a zero's sign kept)."""
    fee, cap = market.taker_fee, market.max_leverage
    return (fee, math.copysign(1.0, fee), cap, math.copysign(1.0, cap), market.inverse)


def _cross_wallets(book: Book) -> dict[str, float]:
    """Each account's wallet balance less the isolated margins of its isolated positions (in book order)."""
    cross_wallet = {a.name: a.wallet_balance for a in book.accounts}
    for position in book.positions:
        if position.margin_mode is MarginMode.ISOLATED:
            cross_wallet[position.account] -= position.isolated_margin
    return cross_wallet
