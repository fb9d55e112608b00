"""What a what-if trade would do to the book, and what "Apply as hypothetical" and "Apply as real" mean for it.

A plan is the engine's answer to one trade (open a position, or add to, reduce, close or flip
book.positions[index]): the previewed book, and for each choice either the book to save or the reason it is
refused. The what-if dialog shows the plan and saves what plan.decide(choice, margin) gives; it decides nothing.
The trades themselves are engine.book.whatif's, checked by engine.book.book_rules; the exchange's margin check
is engine.book.trade_checks'.

What "Apply as hypothetical" means. A hypothetical position stands for a trade the trader imagines on top of
the real book, and the book's "without hypothetical" view must give back the real figures. So applying as
hypothetical only ever adds or edits positions flagged hypothetical; it never touches a real position or the
wallet:

- open: the new position, flagged hypothetical.
- add to a real cross position: the added contracts as their own hypothetical position (same account, symbol,
  side and leverage, entry at the trade price). The engine sums the cross positions of one account, symbol and
  side into one leg, so real + hypothetical gives exactly the previewed figures.
- add to a real isolated position, or reduce, close or flip a real position: refused. An isolated add merges
  into the position's own margin, which a separate position cannot show; reducing, closing and flipping take
  contracts away, which one-way mode could only write as the opposite side of the same symbol (the exchange
  and the portfolio file refuse it) and hedge mode as a new opposite position with margin of its own, which is
  not a reduction.
- any trade on a hypothetical position: that hypothetical position changes (still flagged). An imagined trade
  realizes nothing, so the wallet is left as it is. "Apply as real" is refused for it.

"Apply as real" gives the engine's book after the trade, its realized PnL credited to the wallet; refused when
the exchange would refuse the order for want of margin (TradeMargin.refused).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from engine.book.formats import contracts as contracts_text
from engine.book.formats import money, quoted_price
from engine.book.trade_checks import TradeMargin
from engine.book.whatif import (
    TradeResult,
    add_to_position,
    close_position,
    flip_position,
    open_position,
    reduce_position,
)
from engine.margin.model import Book, MarginMode, MarketSpec, Position, quote_currency_of

Choice = Literal["hypothetical", "real"]
Action = Literal["open", "add", "reduce", "close", "flip"]
TRADE_ACTIONS: tuple[Action, ...] = ("add", "reduce", "close", "flip")

HYPOTHETICAL_STAYS = "Apply as real is not offered: this position is hypothetical, so its trades stay hypothetical."
ISOLATED_ADD = (
    "Apply as hypothetical is not offered: an isolated add merges into this position's own margin and "
    "liquidation price, which a separate hypothetical position cannot show."
)
_TAKING = {"reduce": "reducing", "close": "closing", "flip": "flipping"}


def refusals(position: Position | None, action: Action) -> tuple[str, str]:
    """Why "Apply as hypothetical" and "Apply as real" are refused for this kind of trade, whatever its numbers:
    (hypothetical, real), "" where the choice is offered. position: the traded one, None to open a position.
    The margin refusal depends on the numbers and is added by TradePlan.decide."""
    if position is None:
        return "", ""
    if position.hypothetical:
        return "", HYPOTHETICAL_STAYS
    if action == "add" and position.margin_mode is MarginMode.ISOLATED:
        return ISOLATED_ADD, ""
    if action != "add":
        return (
            f"Apply as hypothetical is not offered: a hypothetical position can only add to the book, and "
            f"{_TAKING[action]} takes contracts from a real position.",
            "",
        )
    return "", ""


def margin_refusal(margin: TradeMargin, currency: str) -> str:
    """The exchange's refusal of an order the account cannot fund, in words with the amounts in `currency`."""
    short = money(-margin.after, currency)
    needed = money(margin.needed, currency)
    available = money(max(0.0, margin.before), currency)
    return (
        f"The exchange would refuse this trade: it needs {needed} of initial margin and the account has "
        f"{available} available ({short} short)."
    )


@dataclass(frozen=True, slots=True)
class Decision:
    """What one Apply button does: `book` to save, or None and `refusal` saying why not."""

    book: Book | None
    refusal: str


@dataclass(frozen=True)
class TradePlan:
    """A trade as the engine answers it, and what each choice would give.

    after: the previewed book. target: index in `after` of the traded or opened position, None once it is
    closed. realized_pnl: in the account's settlement currency; credited says whether it went to the wallet
    (not for a trade on a hypothetical position). books/refused: per choice, the book to save or the reason.
    """

    action: Action
    after: Book
    target: int | None
    realized_pnl: float
    credited: bool
    description: str
    """'add BTC/USDT:USDT long: 0.5 contracts at 64,000.00 USDT' (without the choice)."""
    books: Mapping[Choice, Book | None]
    refused: Mapping[Choice, str]
    traded: float = 0.0
    """Contracts bought or sold by the trade (a close: all it held; a flip: all of them, across zero)."""
    trade_price: float = 0.0
    """Quote currency: the price the fees of the trade are taken at (engine.funding.fees)."""

    def decide(self, choice: Choice, margin: TradeMargin | None = None, currency: str = "") -> Decision:
        """The book to save for `choice`, or the refusal. margin: the account's free margin before and after
        (trade_checks.trade_margin); a real trade it cannot fund is refused in `currency`'s amounts."""
        if self.refused[choice]:
            return Decision(None, self.refused[choice])
        if choice == "real" and margin is not None and margin.refused:
            return Decision(None, f"Apply as real is refused. {margin_refusal(margin, currency)}")
        return Decision(self.books[choice], "")


def _trade(book: Book, index: int, action: Action, contracts: float, trade_price: float) -> TradeResult:
    if action == "add":
        return add_to_position(book, index, contracts, trade_price)
    if action == "reduce":
        return reduce_position(book, index, contracts, trade_price)
    if action == "flip":
        return flip_position(book, index, contracts, trade_price)
    if action == "close":
        return close_position(book, index, trade_price)
    raise ValueError(f"not a trade on a position: {action!r}")


def plan_trade(
    book: Book,
    index: int,
    action: Action,
    contracts: float,
    trade_price: float,
    market_overrides: Mapping[str, MarketSpec] | None = None,
) -> TradePlan:
    """The plan of a trade on book.positions[index]: contracts > 0 (ignored by close, which takes them all) at
    trade_price (quote currency, > 0). Raises WhatIfRefused naming the field where engine.book.whatif and the
    book rules refuse the trade, ValueError for an unknown action, IndexError for a bad index."""
    p = book.positions[index]
    result = _trade(book, index, action, contracts, trade_price)
    traded = p.contracts if action == "close" else contracts
    target = index if len(result.book.positions) == len(book.positions) else None
    at = f"{contracts_text(contracts)} at {quoted_price(trade_price, quote_currency_of(p.symbol))}"
    description = f"{action} {p.symbol} {p.side.value}: {at}"
    no_hypothetical, no_real = refusals(p, action)
    if p.hypothetical:
        # An imagined trade realizes nothing: the wallet stays the real one.
        after = Book(book.accounts, result.book.positions, result.book.markets)
        books: dict[Choice, Book | None] = {"hypothetical": after, "real": None}
        refused: dict[Choice, str] = {"hypothetical": "", "real": no_real}
        return TradePlan(
            action, after, target, result.realized_pnl, False, description, books, refused, traded, trade_price
        )
    hypothetical = None
    if not no_hypothetical:  # a real cross add: the added contracts as their own hypothetical position
        delta = replace(p, contracts=contracts, entry_price=trade_price, hypothetical=True, note="what-if add")
        hypothetical = open_position(book, delta, market_overrides)
    books = {"hypothetical": hypothetical, "real": result.book}
    refused = {"hypothetical": no_hypothetical, "real": ""}
    return TradePlan(
        action, result.book, target, result.realized_pnl, True, description, books, refused, traded, trade_price
    )


def plan_open(book: Book, position: Position, market_overrides: Mapping[str, MarketSpec] | None = None) -> TradePlan:
    """The plan of opening `position` (its entry price is the trade price). Raises WhatIfRefused naming the field
    where the book rules refuse it (engine.book.whatif.open_position)."""
    real = open_position(book, position, market_overrides)
    hypothetical = open_position(book, replace(position, hypothetical=True, note="what-if open"), market_overrides)
    entry = quoted_price(position.entry_price, quote_currency_of(position.symbol))
    at = f"{contracts_text(position.contracts)} at {entry}"
    description = f"open {position.symbol} {position.side.value}: {at}"
    books: dict[Choice, Book | None] = {"hypothetical": hypothetical, "real": real}
    refused: dict[Choice, str] = {"hypothetical": "", "real": ""}
    target = len(real.positions) - 1
    return TradePlan(
        "open", real, target, 0.0, False, description, books, refused, position.contracts, position.entry_price
    )
