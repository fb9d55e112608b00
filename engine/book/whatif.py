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

from engine.book.book_rules import build_book
from engine.book.formats import contracts as contracts_text
from engine.book.formats import money
from engine.margin.exposure import exposure, initial_margin_at_entry
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, PriceKey, Side
from engine.margin.risk import BookRisk, evaluate_book


class WhatIfRefused(ValueError):
    """The exchange would not allow this change; the message gives the reason.

    field names the input the reason is about ("contracts", "price", "leverage", "symbol", "side",
    "margin_mode", "isolated_margin", "amount", "action"), so a form can show it beside that input.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class TradeResult:
    book: Book
    realized_pnl: float
    """Credited to (or debited from) the account's wallet, in its settlement currency."""


def _positive(value: float, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise WhatIfRefused(f"{what} must be a finite number greater than 0", field=what)


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
    return TradeResult(checked(_replace_position(book, index, new), index, opening=False), 0.0)


def reduce_position(book: Book, index: int, contracts: float, price: float) -> TradeResult:
    """Close part (or all) of the position at price; realized PnL goes to the wallet."""
    _check_amount(contracts, price)
    p = book.positions[index]
    if contracts > p.contracts * (1 + 1e-12):
        raise WhatIfRefused(
            f"cannot reduce by {contracts_text(contracts)}: the position holds {p.contracts:g}", field="contracts"
        )
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
        raise WhatIfRefused(
            "a hedge-mode account holds both sides separately: close this side and open the other", field="action"
        )
    if contracts <= p.contracts:
        raise WhatIfRefused(f"a flip needs more than the {contracts_text(p.contracts)} held", field="contracts")
    if any(
        j != index and q.account == p.account and q.symbol == p.symbol for j, q in enumerate(book.positions)
    ):  # a real position and a hypothetical one on the same symbol: flipping one would hold both sides
        raise WhatIfRefused(
            f"another position of account '{p.account}' also holds {p.symbol}: in one-way mode a flip would "
            "leave both sides held",
            field="action",
        )
    closed = close_position(book, index, price)
    # The old side's take-profit and stop-loss close with it (on the exchange too): the new side has none yet.
    remainder = replace(
        p, side=p.side.opposite, contracts=contracts - p.contracts, entry_price=price, take_profit=None, stop_loss=None
    )
    if p.margin_mode is MarginMode.ISOLATED:
        remainder = replace(remainder, isolated_margin=initial_margin_at_entry(remainder, book.market_of(p)))
    positions = list(closed.book.positions)
    positions.insert(index, remainder)
    after = Book(closed.book.accounts, tuple(positions), book.markets)
    return TradeResult(checked(after, index), closed.realized_pnl)


def apply_trade(book: Book, index: int, side: Side, contracts: float, price: float) -> TradeResult:
    """A trade on an existing position as a one-way account executes it: add, reduce, close or flip."""
    p = book.positions[index]
    if side is p.side:
        return add_to_position(book, index, contracts, price)
    if contracts <= p.contracts * (1 + 1e-12):
        return reduce_position(book, index, contracts, price)
    return flip_position(book, index, contracts, price)


def open_position(book: Book, position: Position, market_overrides: Mapping[str, MarketSpec] | None = None) -> Book:
    """Add a new position (real or hypothetical) to the book; isolated margin defaults to the entry IM.

    The market comes from the book, else as the portfolio file resolves a symbol: its `markets` entries
    (market_overrides, Portfolio.market_overrides) before the bundled tables; it is added to the book.
    Refused (WhatIfRefused naming the field) exactly where engine.book.book_rules refuses the position in a
    portfolio file: another settlement currency than the account's, a leverage above the market's or the
    tier's maximum at its notional, a size beyond the last tier, in one-way mode the other side or the other
    margin mode of a held symbol, isolated margins beyond the wallet.
    """
    if position.account not in {a.name for a in book.accounts}:
        raise WhatIfRefused(f"unknown account '{position.account}'", field="account")
    _check_amount(position.contracts, position.entry_price)
    _positive(position.leverage, "leverage")
    if position.margin_mode is MarginMode.ISOLATED and position.isolated_margin:
        _positive(position.isolated_margin, "isolated_margin")
    return checked(
        Book(book.accounts, (*book.positions, position), book.markets), len(book.positions), market_overrides
    )


def checked(
    book: Book, index: int, market_overrides: Mapping[str, MarketSpec] | None = None, *, opening: bool = True
) -> Book:
    """The book after a trade on (or the opening of) book.positions[index], as engine.book.book_rules builds it
    (the position's market added, an isolated margin of 0 made its initial margin at entry).

    Raises WhatIfRefused with the first rule the traded position breaks, naming its field ('entry_price'
    reads 'price': the trade's price). Rules other positions already broke before the trade are not the
    trade's doing and do not refuse it. opening=False for an add to a held position: its margin need not
    cover the initial margin at entry (funding may have taken some), as the exchange allows.
    """
    result = build_book(
        book.accounts, book.positions, market_overrides, markets=book.markets, opening=(index,), margin_floor=opening
    )
    mine = [v for v in result.violations if v.where == index]
    if mine:
        v = mine[0]
        other = None if v.other is None else _other_label(v.other)
        field = {"entry_price": "price"}.get(v.field, v.field)
        # beside the price field, a bare "is out of range" would have no subject: the (averaged) entry price is it
        message = f"the entry price after the trade {v.bare(other)}" if v.field == "entry_price" else v.bare(other)
        raise WhatIfRefused(message, field=field)
    # Violations of other positions only (a book saved under older rules) are not the trade's doing.
    built = result.book or result.draft
    if built is None:  # cannot happen: the traded position has its market, else it was refused above
        raise WhatIfRefused("the book cannot be evaluated after this trade", field="action")
    return built


def _other_label(index: int) -> str:
    return f"position {index + 1} of the book"


def account_book(book: Book, name: str) -> Book:
    """The account alone, with its positions in book order.

    Accounts are independent in the margin equation, so its figures are exactly those in the whole book,
    and marks are needed only for its own symbols.
    """
    return Book((book.account(name),), tuple(p for p in book.positions if p.account == name), book.markets)


@dataclass(frozen=True, slots=True)
class MarginLimits:
    """How much isolated margin the exchange lets a position take or give back now (settlement currency)."""

    addable: float
    """The account's available balance."""
    removable: float
    """What may go while the margin less any unrealized loss still covers the initial margin at the mark."""
    initial_margin: float
    """The position's initial margin at the mark (notional / leverage)."""


def index_in_account(book: Book, index: int) -> int:
    """The position's index in account_book(book, its account)."""
    owner = book.positions[index].account
    return sum(1 for p in book.positions[:index] if p.account == owner)


def isolated_margin_limits(
    book: Book, index: int, prices: Mapping[PriceKey, float], risk: BookRisk | None = None
) -> MarginLimits:
    """Limits of an isolated position's margin at the given marks (only its own account's marks are needed).

    risk: its account's risk at those marks when the caller has it (evaluate_book(account_book(...)))."""
    p = book.positions[index]
    if p.margin_mode is not MarginMode.ISOLATED:
        raise WhatIfRefused("only an isolated position has its own margin to adjust")
    if risk is None:
        risk = evaluate_book(account_book(book, p.account), prices)
    position_risk = risk.positions[index_in_account(book, index)]
    required = position_risk.initial_margin
    loss = min(0.0, position_risk.unrealized_pnl)
    return MarginLimits(
        addable=risk.account(p.account).available_balance,
        removable=max(0.0, p.isolated_margin + loss - required),
        initial_margin=required,
    )


def adjust_isolated_margin(
    book: Book, index: int, delta: float, prices: Mapping[PriceKey, float], limits: MarginLimits | None = None
) -> Book:
    """Add (delta > 0) or remove (delta < 0) isolated margin, as the exchange would allow it.

    Adding is limited by the account's available balance; removing is refused once the position's
    margin would fall below its initial margin at the current mark (notional / leverage). limits: the
    position's isolated_margin_limits at these prices when the caller has them.
    """
    p = book.positions[index]
    if p.margin_mode is not MarginMode.ISOLATED:
        raise WhatIfRefused("only an isolated position has its own margin to adjust")
    if isinstance(delta, bool) or not isinstance(delta, int | float) or not math.isfinite(delta):
        raise WhatIfRefused("the margin change must be a finite number", field="amount")
    if delta == 0:
        return book
    account: Account = book.account(p.account)
    limits = limits or isolated_margin_limits(book, index, prices)
    currency = account.currency
    if delta > 0:
        if delta > limits.addable * (1 + 1e-12):
            raise WhatIfRefused(
                f"only {money(limits.addable, currency)} is available to add to this position", field="amount"
            )
    elif -delta > limits.removable * (1 + 1e-12):
        # What stays must cover the initial margin at the mark after any unrealized loss.
        raise WhatIfRefused(
            f"at most {money(limits.removable, currency)} can be removed: the margin less the unrealized loss may "
            f"not fall below the position's initial margin of {money(limits.initial_margin, currency)} at the "
            "current mark",
            field="amount",
        )
    return _replace_position(book, index, replace(p, isolated_margin=p.isolated_margin + delta))
