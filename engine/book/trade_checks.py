"""What an exchange checks before it takes an order, beyond the book rules: margin and the price band.

A what-if trade that passes engine.book.book_rules may still be one the exchange would refuse at the moment:

- margin: an order that adds exposure needs its initial margin out of the account's available balance
  (Binance, "How to Calculate the Cost Required to Open a Position in Perpetual Futures Contracts",
  https://www.binance.com/en/support/faq/87fa7ee33b574f7084d42bd2ce2e463b, last updated 2024-08-14, read
  2026-11-30: "Cost = Initial Margin + Open Loss"). The free margin after the trade counts the new
  position's unrealized PnL at the mark, so the open loss of a trade priced against the mark is in it (an
  open gain is counted too, where Binance would not credit it). A trade that only frees margin (reduce,
  close) is always taken.
- price: a limit order far from the mark is refused or capped by the exchange's price protection (Binance's
  per-symbol "limit price cap/floor" in its futures trading rules, 5% to 15% of the mark). A what-if at
  such a price is most often a typo (an extra digit), so beyond PRICE_BAND of the mark the user confirms
  it; 10% is the middle of the exchanges' own caps and more than a large day's move of BTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.book.whatif import account_book
from engine.margin.model import Book, MarginMode, PriceKey
from engine.margin.risk import BookRisk, evaluate_book

PRICE_BAND = 0.10
"""A trade price more than this fraction away from the mark asks for confirmation."""


@dataclass(frozen=True, slots=True)
class TradeMargin:
    """The account's free margin before and after a trade, in its settlement currency.

    free = wallet - isolated margins + the cross positions' (unrealized PnL - initial margin at the mark):
    what is left to open with; the exchange shows it clipped at 0 as the available balance.
    """

    before: float
    after: float

    @property
    def needed(self) -> float:
        """The margin the trade takes (negative when it frees margin)."""
        return self.before - self.after

    @property
    def refused(self) -> bool:
        """The exchange would refuse the order: it takes margin and leaves less than none free."""
        return self.after < 0 and self.needed > 1e-12 * max(1.0, abs(self.before))


def free_margin(book: Book, risk: BookRisk, account: str) -> float:
    """The account's free margin (see TradeMargin) from its evaluated risk; risk covers the account's
    positions in book order (evaluate_book of account_book(book, account), or of the whole book)."""
    wallet = book.account(account).wallet_balance
    free = wallet
    for r in risk.positions:
        p = r.position
        if p.account != account:
            continue
        if p.margin_mode is MarginMode.ISOLATED:
            free -= p.isolated_margin
        else:
            free += r.unrealized_pnl - r.initial_margin
    return free


def trade_margin(
    before: Book,
    after: Book,
    account: str,
    prices: Mapping[PriceKey, float],
    risks: tuple[BookRisk, BookRisk] | None = None,
) -> TradeMargin:
    """The account's free margin before and after a trade at these marks (MissingPriceError without one).

    risks: the account's risk before and after when the caller has them (evaluate_book of account_book)."""
    if risks is None:
        risks = (
            evaluate_book(account_book(before, account), prices),
            evaluate_book(account_book(after, account), prices),
        )
    return TradeMargin(free_margin(before, risks[0], account), free_margin(after, risks[1], account))


def far_from_mark(trade_price: float, mark: float | None) -> float | None:
    """How far the trade price is from the mark (a signed fraction of the mark) when that is more than
    PRICE_BAND, else None (also None without a mark: nothing to compare with)."""
    if mark is None or not mark > 0:
        return None
    away = trade_price / mark - 1
    return away if abs(away) > PRICE_BAND * (1 + 1e-9) else None  # exactly 10% (66,000 on 60,000) is within
