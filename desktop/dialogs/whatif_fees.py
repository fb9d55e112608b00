"""The what-if preview's fee rows: the taker fee to open and to close, the rate used and where it comes from
(the market's own fee, else the venue's base rate for a regular account: engine.funding.fees), and the
break-even price before and after the trade (entry moved by the fees to open and close; no funding in it)."""

from __future__ import annotations

from engine.book.formats import money, quoted_price
from engine.book.trade_plan import TradePlan
from engine.funding.fees import TakerFee, position_break_even, taker_fee, trade_fee
from engine.margin.model import Book, MarketSpec, Position, quote_currency_of

NOTHING = "—"


def _amounts(plan: TradePlan, before: Position | None, after: Position | None) -> tuple[float, float]:
    """(contracts opened, contracts closed) by the trade; for an opening trade the contracts closed are the
    whole position after it (the fee to close it later, at the same price)."""
    held = before.contracts if before is not None else 0.0
    if plan.action in ("open", "add"):
        return plan.traded, after.contracts if after is not None else plan.traded
    if plan.action == "flip":
        return plan.traded - held, held
    return 0.0, plan.traded  # reduce, close


def _fee_text(contracts: float, market: MarketSpec, plan: TradePlan, fee: TakerFee, currency: str) -> str:
    if contracts <= 0:
        return NOTHING
    return money(trade_fee(contracts, market, plan.trade_price, fee.rate), currency)


def fee_rows(book: Book, index: int | None, plan: TradePlan | None, currency: str) -> list[list[str]]:
    """[title, before, after] rows of the trade's fees and the break-even price (empty without a plan)."""
    if plan is None:
        return []
    before = book.positions[index] if index is not None else None
    after = plan.after.positions[plan.target] if plan.target is not None else None
    subject = after or before
    assert subject is not None  # a plan trades or opens a position
    market = plan.after.market_of(subject) if after is not None else book.market_of(subject)
    fee = taker_fee(plan.after.account(subject.account).exchange, market)
    if fee is None:
        return [["Taker fee", "", f"no known taker rate on {plan.after.account(subject.account).exchange}"]]
    opened, closed = _amounts(plan, before, after)
    quote = quote_currency_of(subject.symbol)

    def even(b: Book, p: Position | None) -> str:
        price = position_break_even(b, p) if p is not None else None
        return f"{quoted_price(price, quote)} (fees only)" if price is not None else NOTHING

    return [
        ["Taker fee to open", "", _fee_text(opened, market, plan, fee, currency)],
        ["Taker fee to close", "", _fee_text(closed, market, plan, fee, currency)],
        ["Taker rate", "", fee.describe()],
        ["Break-even price", even(book, before), even(plan.after, after)],
    ]
