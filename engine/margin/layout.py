"""How a book's positions combine for the margin equation: legs and liquidation groups.

A *leg* is what the exchange holds as one position: an isolated position on its own, or all cross
positions of one account, symbol and side (their tier follows the total notional). A *group* shares
one liquidation price: an isolated leg alone, or the cross legs of one account and symbol (the long
and short of hedge mode). The scalar and the vectorised paths both start from this layout.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from engine.margin.exposure import Exposure, exposure
from engine.margin.liquidation import AppliedTier, Leg, applied_tiers
from engine.margin.model import Book, MarginMode, PriceKey
from engine.margin.rules import MaintenanceBasis, profile_for


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


def book_layout(book: Book) -> BookLayout:
    """The legs and liquidation groups of a book (module docstring); independent of prices.

    Raises KeyError when a position names an account or a market the book lacks; ValueError from
    RuleProfile.effective_rate (Hyperliquid tier without max leverage); ZeroDivisionError for an inverse
    position at entry 0. A book that passed engine.book.book_rules raises none of these.
    """
    accounts = {a.name: a for a in book.accounts}
    exposures = []
    leg_members: dict[tuple, list[int]] = defaultdict(list)
    for i, position in enumerate(book.positions):
        exposures.append(exposure(position, book.market_of(position)))
        if position.margin_mode is MarginMode.ISOLATED:
            leg_members[("isolated", i)].append(i)
        else:
            leg_members[("cross", position.account, position.symbol, position.side)].append(i)

    group_ids: dict[tuple, int] = {}
    tiers_of: dict[PriceKey, tuple[AppliedTier, ...]] = {}  # per market: its legs share one
    legs: list[LegLayout] = []
    leg_of_position = [0] * len(book.positions)
    for key, members in leg_members.items():
        first = book.positions[members[0]]
        account = accounts[first.account]
        market = book.markets[(account.exchange, first.symbol)]
        profile = profile_for(account.exchange)
        price_key = (account.exchange, first.symbol)
        tiers = tiers_of.get(price_key)
        if tiers is None:
            tiers = tiers_of[price_key] = applied_tiers(market, profile)
        fixed = None
        if profile.basis(first.margin_mode) is MaintenanceBasis.ENTRY:
            fixed = sum(Leg(0.0, 0.0, exposures[i].nu, tiers).maintenance(exposures[i].z_entry) for i in members)
        leg = Leg(
            pnl_slope=sum(exposures[i].pnl_slope for i in members),
            pnl_offset=sum(exposures[i].pnl_offset for i in members),
            nu=sum(exposures[i].nu for i in members),
            tiers=tiers,
            fixed_maintenance=fixed,
        )
        cross = key[0] == "cross"
        group = group_ids.setdefault(key[:3] if cross else key, len(group_ids))
        for i in members:
            leg_of_position[i] = len(legs)
        legs.append(
            LegLayout(
                leg=leg,
                members=tuple(members),
                group=group,
                account=first.account,
                price_key=price_key,
                inverse=market.inverse,
                cross=cross,
                collateral=0.0 if cross else first.isolated_margin,
            )
        )

    groups: list[list[int]] = [[] for _ in group_ids]
    for index, leg in enumerate(legs):
        groups[leg.group].append(index)
    cross_wallet = {a.name: a.wallet_balance for a in book.accounts}
    for position in book.positions:
        if position.margin_mode is MarginMode.ISOLATED:
            cross_wallet[position.account] -= position.isolated_margin
    return BookLayout(
        book=book,
        exposures=tuple(exposures),
        legs=tuple(legs),
        leg_of_position=tuple(leg_of_position),
        groups=tuple(tuple(g) for g in groups),
        cross_wallet=cross_wallet,
    )
