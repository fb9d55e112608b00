"""What-if algebra on a book: trades and margin moves that return a new book, never mutating the old.

The desktop forms preview these before anything is saved; the engine then evaluates the new book
exactly as it evaluates the live one. wallet_balance is the whole wallet (isolated margins
included), so moving margin between the cross wallet and an isolated position leaves it unchanged
and only realized PnL changes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from engine.exposure import exposure, initial_margin_at_entry
from engine.model import Account, Book, MarginMode, Position, PositionMode, PriceKey, Side
from engine.risk import evaluate_book


class WhatIfRefused(ValueError):
    """The exchange would not allow this change; the message gives the reason."""


@dataclass(frozen=True, slots=True)
class TradeResult:
    book: Book
    realized_pnl: float
    """Credited to (or debited from) the account's wallet, in its settlement currency."""


def _positive(value: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise WhatIfRefused(f"{what} must be a finite number greater than 0")


def _check_amount(contracts: float, price: float) -> None:
    _positive(contracts, "contracts")
    _positive(price, "price")


def realized_pnl(position: Position, book: Book, contracts: float, price: float) -> float:
    """PnL of closing `contracts` of the position at `price`."""
    market = book.market_of(position)
    closed = replace(position, contracts=contracts)
    e = exposure(closed, market)
    z = 1.0 / price if market.inverse else price
    return e.pnl_slope * z + e.pnl_offset


def _replace_position(book: Book, index: int, new: Position | None, wallet_delta: float = 0.0) -> Book:
    positions = list(book.positions)
    owner = positions[index].account
    if new is None:
        del positions[index]
    else:
        positions[index] = new
    accounts = tuple(
        replace(a, wallet_balance=a.wallet_balance + wallet_delta) if a.name == owner else a for a in book.accounts
    )
    return Book(accounts, tuple(positions), book.markets)


def add_to_position(book: Book, index: int, contracts: float, price: float) -> TradeResult:
    """Buy more on the position's side: the entry becomes the size-weighted average."""
    _check_amount(contracts, price)
    p = book.positions[index]
    market = book.market_of(p)
    total = p.contracts + contracts
    if market.inverse:  # contracts are USD: average in 1/price
        entry = total / (p.contracts / p.entry_price + contracts / price)
    else:
        entry = (p.contracts * p.entry_price + contracts * price) / total
    new = replace(p, contracts=total, entry_price=entry)
    if p.margin_mode is MarginMode.ISOLATED:
        added = replace(p, contracts=contracts, entry_price=price)
        new = replace(new, isolated_margin=p.isolated_margin + initial_margin_at_entry(added, market))
    return TradeResult(_replace_position(book, index, new), 0.0)


def reduce_position(book: Book, index: int, contracts: float, price: float) -> TradeResult:
    """Close part (or all) of the position at price; realized PnL goes to the wallet."""
    _check_amount(contracts, price)
    p = book.positions[index]
    if contracts > p.contracts * (1 + 1e-12):
        raise WhatIfRefused(f"cannot reduce by {contracts:g} contracts: the position holds {p.contracts:g}")
    contracts = min(contracts, p.contracts)
    pnl = realized_pnl(p, book, contracts, price)
    remaining = p.contracts - contracts
    if remaining <= p.contracts * 1e-12:
        return TradeResult(_replace_position(book, index, None, pnl), pnl)
    new = replace(p, contracts=remaining)
    if p.margin_mode is MarginMode.ISOLATED:
        new = replace(new, isolated_margin=p.isolated_margin * remaining / p.contracts)
    return TradeResult(_replace_position(book, index, new, pnl), pnl)


def close_position(book: Book, index: int, price: float) -> TradeResult:
    return reduce_position(book, index, book.positions[index].contracts, price)


def flip_position(book: Book, index: int, contracts: float, price: float) -> TradeResult:
    """One-way mode: trade `contracts` against the position, more than it holds, ending on the other side."""
    _check_amount(contracts, price)
    p = book.positions[index]
    if book.account(p.account).position_mode is PositionMode.HEDGE:
        raise WhatIfRefused("a hedge-mode account holds both sides separately: close this side and open the other")
    if contracts <= p.contracts:
        raise WhatIfRefused(f"a flip needs more than the {p.contracts:g} contracts held")
    closed = close_position(book, index, price)
    remainder = replace(p, side=p.side.opposite, contracts=contracts - p.contracts, entry_price=price)
    if p.margin_mode is MarginMode.ISOLATED:
        remainder = replace(remainder, isolated_margin=initial_margin_at_entry(remainder, book.market_of(p)))
    positions = list(closed.book.positions)
    positions.insert(index, remainder)
    return TradeResult(Book(closed.book.accounts, tuple(positions), book.markets), closed.realized_pnl)


def apply_trade(book: Book, index: int, side: Side, contracts: float, price: float) -> TradeResult:
    """A trade on an existing position as a one-way account executes it: add, reduce, close or flip."""
    p = book.positions[index]
    if side is p.side:
        return add_to_position(book, index, contracts, price)
    if contracts <= p.contracts * (1 + 1e-12):
        return reduce_position(book, index, contracts, price)
    return flip_position(book, index, contracts, price)


def open_position(book: Book, position: Position) -> Book:
    """Add a new position (real or hypothetical) to the book; isolated margin defaults to the entry IM."""
    if position.account not in {a.name for a in book.accounts}:
        raise WhatIfRefused(f"unknown account '{position.account}'")
    _check_amount(position.contracts, position.entry_price)
    _positive(position.leverage, "leverage")
    if book.account(position.account).position_mode is PositionMode.ONEWAY:
        for held in book.positions:
            if held.account == position.account and held.symbol == position.symbol and held.side is not position.side:
                raise WhatIfRefused(
                    f"account '{position.account}' is in one-way mode and holds {held.side.value} "
                    f"{held.symbol}: trade against that position instead"
                )
    if position.margin_mode is MarginMode.ISOLATED and position.isolated_margin <= 0:
        market = book.markets[(book.account(position.account).exchange, position.symbol)]
        position = replace(position, isolated_margin=initial_margin_at_entry(position, market))
    return Book(book.accounts, (*book.positions, position), book.markets)


def adjust_isolated_margin(book: Book, index: int, delta: float, prices: Mapping[PriceKey, float]) -> Book:
    """Add (delta > 0) or remove (delta < 0) isolated margin, as the exchange would allow it.

    Adding is limited by the account's available balance; removing is refused once the position's
    margin would fall below its initial margin at the current mark (notional / leverage).
    """
    p = book.positions[index]
    if p.margin_mode is not MarginMode.ISOLATED:
        raise WhatIfRefused("only an isolated position has its own margin to adjust")
    if isinstance(delta, bool) or not isinstance(delta, int | float) or not math.isfinite(delta):
        raise WhatIfRefused("the margin change must be a finite number")
    if delta == 0:
        return book
    account: Account = book.account(p.account)
    risk = evaluate_book(book, prices)
    currency = account.currency
    if delta > 0:
        available = risk.account(account.name).available_balance
        if delta > available * (1 + 1e-12):
            raise WhatIfRefused(f"only {available:,.2f} {currency} is available to add to this position")
    else:
        # What stays must cover the initial margin at the mark after any unrealized loss.
        position_risk = risk.positions[index]
        required = position_risk.initial_margin
        loss = min(0.0, position_risk.unrealized_pnl)
        removable = max(0.0, p.isolated_margin + loss - required)
        if -delta > removable * (1 + 1e-12):
            raise WhatIfRefused(
                f"at most {removable:,.2f} {currency} can be removed: the margin less the unrealized loss may "
                f"not fall below the position's initial margin of {required:,.2f} {currency} at the current mark"
            )
    return _replace_position(book, index, replace(p, isolated_margin=p.isolated_margin + delta))
