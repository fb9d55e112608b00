"""Risk of a whole book at given marks, position by position and account by account (scalar path).

This is the reference implementation: readable, one position at a time. engine.vectorised computes
the same numbers over numpy arrays for the live view and must agree with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from engine.liquidation import (
    Leg,
    brackets_for,
    distance_to_liquidation,
    liquidation_price,
    margin_surplus,
    to_z,
)
from engine.model import Account, Book, MarginMode, MarketSpec, Position, PriceKey
from engine.rules import MaintenanceBasis, profile_for


class MissingPriceError(KeyError):
    """No mark price for a symbol the book holds."""

    def __init__(self, key: PriceKey) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no mark price for {self.key[1]} on {self.key[0]}"


@dataclass(frozen=True, slots=True)
class Exposure:
    """A position in the solver's variable z (price, or 1/price for inverse contracts)."""

    pnl_slope: float
    pnl_offset: float
    nu: float
    z_entry: float


def exposure(position: Position, market: MarketSpec) -> Exposure:
    size = position.contracts * market.contract_size  # base units (linear) or USD (inverse)
    sign = position.side.sign
    entry = position.entry_price
    if market.inverse:
        return Exposure(-sign * size, sign * size / entry, size, 1.0 / entry)
    return Exposure(sign * size, -sign * size * entry, size, entry)


def entry_notional(position: Position, market: MarketSpec) -> float:
    e = exposure(position, market)
    return e.nu * e.z_entry


def initial_margin_at_entry(position: Position, market: MarketSpec) -> float:
    """The isolated margin a position gets when the file gives none: entry notional / leverage."""
    return entry_notional(position, market) / position.leverage


@dataclass(frozen=True, slots=True)
class PositionRisk:
    position: Position
    mark_price: float
    notional: float
    """Settlement currency, at the mark."""
    unrealized_pnl: float
    roe: float
    """Unrealized PnL / initial margin at entry (entry notional / leverage), a fraction."""
    initial_margin: float
    """Notional at the mark / leverage."""
    maintenance_margin: float
    liquidation_price: float | None
    distance_to_liquidation: float | None
    """Signed fraction of the mark; positive while safe, <= 0 once past the liquidation price."""


@dataclass(frozen=True, slots=True)
class AccountRisk:
    account: Account
    wallet_balance: float
    unrealized_pnl: float
    equity: float
    """Margin balance: wallet balance + unrealized PnL of every position."""
    initial_margin: float
    maintenance_margin: float
    margin_ratio: float | None
    """Maintenance margin / equity; liquidation at >= 1. None when equity <= 0."""
    available_balance: float
    """Cross wallet + cross PnL - cross initial margin, floored at 0."""
    estimate: bool


@dataclass(frozen=True, slots=True)
class BookRisk:
    accounts: tuple[AccountRisk, ...]
    positions: tuple[PositionRisk, ...]

    def account(self, name: str) -> AccountRisk:
        return next(a for a in self.accounts if a.account.name == name)


def evaluate_book(book: Book, prices: Mapping[PriceKey, float]) -> BookRisk:
    """Risk numbers of every position and account at the given marks (keyed by exchange, symbol)."""
    accounts = {a.name: a for a in book.accounts}
    marks: list[float] = []
    exposures: list[Exposure] = []
    for position in book.positions:
        key = (accounts[position.account].exchange, position.symbol)
        if key not in prices:
            raise MissingPriceError(key)
        marks.append(float(prices[key]))
        exposures.append(exposure(position, book.markets[key]))

    # Group positions into legs: an isolated position is its own leg; cross positions of one symbol
    # and side in an account form one leg, since the exchange holds them as one position whose tier
    # follows the total notional.
    leg_members: dict[tuple, list[int]] = defaultdict(list)
    for i, position in enumerate(book.positions):
        if position.margin_mode is MarginMode.ISOLATED:
            leg_members[("isolated", i)].append(i)
        else:
            leg_members[("cross", position.account, position.symbol, position.side)].append(i)

    legs: dict[tuple, Leg] = {}
    for key, members in leg_members.items():
        first = book.positions[members[0]]
        account = accounts[first.account]
        market = book.markets[(account.exchange, first.symbol)]
        profile = profile_for(account.exchange)
        brackets = brackets_for(market, profile)
        slope = sum(exposures[i].pnl_slope for i in members)
        offset = sum(exposures[i].pnl_offset for i in members)
        nu = sum(exposures[i].nu for i in members)
        fixed = None
        if profile.basis(first.margin_mode) is MaintenanceBasis.ENTRY:
            fixed = sum(Leg(0.0, 0.0, exposures[i].nu, brackets).maintenance(exposures[i].z_entry) for i in members)
        legs[key] = Leg(slope, offset, nu, brackets, fixed)

    z_of = {
        key: to_z(marks[members[0]], book.markets[_key_of(book, accounts, members[0])].inverse)
        for key, members in leg_members.items()
    }
    leg_pnl = {key: legs[key].pnl(z_of[key]) for key in legs}
    leg_mm = {key: legs[key].maintenance(z_of[key]) for key in legs}

    # Cross backing per account: the cross wallet (wallet less isolated margins) plus every cross leg.
    cross_wallet = {name: a.wallet_balance for name, a in accounts.items()}
    for position in book.positions:
        if position.margin_mode is MarginMode.ISOLATED:
            cross_wallet[position.account] -= position.isolated_margin
    cross_surplus = dict(cross_wallet)
    for key in legs:
        if key[0] == "cross":
            cross_surplus[key[1]] += leg_pnl[key] - leg_mm[key]

    # Liquidation per group: isolated legs alone; cross legs of one symbol together (hedge mode).
    group_legs: dict[tuple, list[tuple]] = defaultdict(list)
    for key in legs:
        group_legs[key[:3] if key[0] == "cross" else key].append(key)
    liquidation: dict[tuple, tuple[float | None, float | None]] = {}
    for group, keys in group_legs.items():
        i = leg_members[keys[0]][0]
        inverse = book.markets[_key_of(book, accounts, i)].inverse
        mark = marks[i]
        if group[0] == "cross":
            backing = cross_surplus[group[1]] - sum(leg_pnl[k] - leg_mm[k] for k in keys)
        else:
            backing = book.positions[i].isolated_margin
        group_legs_list = [legs[k] for k in keys]
        liq = liquidation_price(group_legs_list, backing, mark, inverse)
        safe = margin_surplus(group_legs_list, backing, to_z(mark, inverse)) > 0
        for k in keys:
            liquidation[k] = (liq, distance_to_liquidation(mark, liq, safe))

    position_risks: list[PositionRisk] = []
    leg_of = {i: key for key, members in leg_members.items() for i in members}
    for i, position in enumerate(book.positions):
        market = book.markets[_key_of(book, accounts, i)]
        e = exposures[i]
        z = to_z(marks[i], market.inverse)
        key = leg_of[i]
        notional = e.nu * z
        pnl = e.pnl_slope * z + e.pnl_offset
        share = e.nu / legs[key].nu if legs[key].nu else 0.0
        entry_margin = e.nu * e.z_entry / position.leverage
        liq, distance = liquidation[key]
        position_risks.append(
            PositionRisk(
                position=position,
                mark_price=marks[i],
                notional=notional,
                unrealized_pnl=pnl,
                roe=pnl / entry_margin,
                initial_margin=notional / position.leverage,
                maintenance_margin=leg_mm[key] * share,
                liquidation_price=liq,
                distance_to_liquidation=distance,
            )
        )

    account_risks = []
    for name, account in accounts.items():
        mine = [r for r in position_risks if r.position.account == name]
        cross = [r for r in mine if r.position.margin_mode is MarginMode.CROSS]
        pnl = sum(r.unrealized_pnl for r in mine)
        equity = account.wallet_balance + pnl
        maintenance = sum(r.maintenance_margin for r in mine)
        available = cross_wallet[name] + sum(r.unrealized_pnl - r.initial_margin for r in cross)
        account_risks.append(
            AccountRisk(
                account=account,
                wallet_balance=account.wallet_balance,
                unrealized_pnl=pnl,
                equity=equity,
                initial_margin=sum(r.initial_margin for r in mine),
                maintenance_margin=maintenance,
                margin_ratio=maintenance / equity if equity > 0 else None,
                available_balance=max(0.0, available),
                estimate=profile_for(account.exchange).estimate,
            )
        )
    return BookRisk(tuple(account_risks), tuple(position_risks))


def _key_of(book: Book, accounts: Mapping[str, Account], i: int) -> PriceKey:
    position = book.positions[i]
    return (accounts[position.account].exchange, position.symbol)
