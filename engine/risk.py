"""Risk of a whole book at given marks, position by position and account by account (scalar path).

This is the reference implementation: plain Python, one leg at a time. engine.vectorised computes
the same numbers over numpy arrays for the live view and is tested against this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.layout import BookLayout, book_layout
from engine.liquidation import distance_to_liquidation, liquidation_price, margin_surplus, to_z
from engine.model import Account, Book, MarginMode, Position, PriceKey
from engine.rules import profile_for


class MissingPriceError(KeyError):
    """No mark price for a symbol the book holds."""

    def __init__(self, key: PriceKey) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no mark price for {self.key[1]} on {self.key[0]}"


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
    positions: Sequence[PositionRisk]
    """A tuple, or engine.live_risk.VectorPositions (made when read) from the vectorised engine."""

    def account(self, name: str) -> AccountRisk:
        return next(a for a in self.accounts if a.account.name == name)


def evaluate_book(book: Book, prices: Mapping[PriceKey, float], layout: BookLayout | None = None) -> BookRisk:
    """Risk numbers of every position and account at the given marks (keyed by exchange, symbol)."""
    layout = layout or book_layout(book)
    for key in book.price_keys():
        if key not in prices:
            raise MissingPriceError(key)

    z = [to_z(float(prices[leg.price_key]), leg.inverse) for leg in layout.legs]
    pnl = [leg.leg.pnl(z[k]) for k, leg in enumerate(layout.legs)]
    mm = [leg.leg.maintenance(z[k]) for k, leg in enumerate(layout.legs)]

    # Sum the cross legs from zero and add the wallet last: the vectorised path (np.bincount) does the
    # same, so both give the same bits even where the terms nearly cancel.
    cross_sum = dict.fromkeys(layout.cross_wallet, 0.0)
    for k, leg in enumerate(layout.legs):
        if leg.cross:
            cross_sum[leg.account] += pnl[k] - mm[k]
    cross_surplus = {name: layout.cross_wallet[name] + total for name, total in cross_sum.items()}

    liquidation: list[tuple[float | None, float | None]] = [(None, None)] * len(layout.legs)
    for members in layout.groups:
        first = layout.legs[members[0]]
        if first.cross:
            backing = cross_surplus[first.account] - sum(pnl[k] - mm[k] for k in members)
        else:
            backing = first.collateral
        mark = float(prices[first.price_key])
        legs = [layout.legs[k].leg for k in members]
        liq = liquidation_price(legs, backing, mark, first.inverse)
        safe = margin_surplus(legs, backing, to_z(mark, first.inverse)) > 0
        for k in members:
            liquidation[k] = (liq, distance_to_liquidation(mark, liq, safe))

    position_risks: list[PositionRisk] = []
    for i, position in enumerate(book.positions):
        k = layout.leg_of_position[i]
        leg = layout.legs[k]
        e = layout.exposures[i]
        notional = e.nu * z[k]
        upnl = e.pnl_slope * z[k] + e.pnl_offset
        liq, distance = liquidation[k]
        position_risks.append(
            PositionRisk(
                position=position,
                mark_price=float(prices[leg.price_key]),
                notional=notional,
                unrealized_pnl=upnl,
                roe=upnl / (e.entry_notional / position.leverage),
                initial_margin=notional / position.leverage,
                maintenance_margin=mm[k] * (e.nu / leg.leg.nu),
                liquidation_price=liq,
                distance_to_liquidation=distance,
            )
        )

    account_risks = []
    for account in book.accounts:
        mine = [r for r in position_risks if r.position.account == account.name]
        cross = [r for r in mine if r.position.margin_mode is MarginMode.CROSS]
        upnl = sum(r.unrealized_pnl for r in mine)
        equity = account.wallet_balance + upnl
        maintenance = sum(r.maintenance_margin for r in mine)
        available = layout.cross_wallet[account.name] + sum(r.unrealized_pnl - r.initial_margin for r in cross)
        account_risks.append(
            AccountRisk(
                account=account,
                wallet_balance=account.wallet_balance,
                unrealized_pnl=upnl,
                equity=equity,
                initial_margin=sum(r.initial_margin for r in mine),
                maintenance_margin=maintenance,
                margin_ratio=maintenance / equity if equity > 0 else None,
                available_balance=max(0.0, available),
                estimate=profile_for(account.exchange).estimate,
            )
        )
    return BookRisk(tuple(account_risks), tuple(position_risks))


def evaluate_priced_accounts(book: Book, prices: Mapping[PriceKey, float]) -> tuple[BookRisk, list[PriceKey]]:
    """Risk of the accounts whose marks have all arrived, and the keys still missing.

    Accounts are independent in the margin equation, so evaluating each complete account on its own
    is exact; an account with any mark missing is left out rather than shown with a made-up price.
    """
    missing = [key for key in book.price_keys() if key not in prices]
    if not missing:
        return evaluate_book(book, prices), []
    exchange_of = {a.name: a.exchange for a in book.accounts}
    blocked = {p.account for p in book.positions if (exchange_of[p.account], p.symbol) in missing}
    accounts = tuple(a for a in book.accounts if a.name not in blocked)
    positions = tuple(p for p in book.positions if p.account not in blocked)
    return evaluate_book(Book(accounts, positions, book.markets), prices), missing
