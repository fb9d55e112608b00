"""The funding projection in words, for the window's position chart and risk ladder: what funding does to one
position (per day; isolated: its liquidation price in 7 days) and to an account (per day; cross: the days until
funding alone brings its cross margin ratio to the warning level), if today's rates and marks hold.

The figures are engine.funding.projection's (isolated_liquidation_after, days_to_warning) and each position's
funding per day (engine.funding.payments: - side × notional at the mark × rate × 24 / interval hours); money is
in the account's settlement currency, signed for the trader (+ received, - paid), prices in the quote currency.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from engine.book.formats import money, quoted_price
from engine.funding.rates import FundingRate
from engine.funding.text import rate_text
from engine.margin.live_risk import VectorPositions
from engine.margin.model import Book, MarginMode, PriceKey, Side, quote_currency_of
from engine.margin.risk import AccountRisk, BookRisk, PositionRisk

NO_RATE = "no funding rate (none from the exchange, typed or in the file)"


def position_per_day(r: PositionRisk, rate: FundingRate) -> float:
    """Settlement currency per day, + received / - paid (PositionRisk.notional is contracts × size × mark, or
    / mark for inverse contracts: engine.funding.payments.funding_notional); NaN without a mark."""
    return -r.position.side.sign * r.notional * rate.per_day if not r.missing else math.nan


@dataclass(frozen=True, slots=True)
class AccountFunding:
    """An account's funding per day (settlement currency, + received): every position's, and its cross positions'
    alone (NaN when one of them has no rate or no mark); without_rate: symbols that have none."""

    per_day: float
    cross_per_day: float
    without_rate: tuple[str, ...]


def account_funding(book: Book, risk: BookRisk, account: str, rates: Mapping[PriceKey, FundingRate]) -> AccountFunding:
    """The account's funding per day from the rows of `risk` (an evaluation of `book`) at these rates.

    Only the account's rows are read: on the vectorised path (VectorPositions) every other row would be made
    into a PositionRisk for nothing (a 1,000-position book's chart paid 14 ms a frame for it)."""
    exchange = book.account(account).exchange
    total = cross = 0.0
    without: dict[str, None] = {}
    rows = risk.positions
    positions = rows.positions if isinstance(rows, VectorPositions) else [r.position for r in rows]
    for i, p in enumerate(positions):
        if p.account != account:
            continue
        r = rows[i]
        rate = rates.get((exchange, p.symbol))
        per_day = math.nan if rate is None else position_per_day(r, rate)
        if rate is None:
            without[p.symbol] = None
        total += per_day
        if p.margin_mode is MarginMode.CROSS:
            cross += per_day
    return AccountFunding(total, cross, tuple(without))


def _signed(value: float, currency: str) -> str:
    """'-36.60 USDT/day (paid)', '+12.00 USDT/day (received)'."""
    if not math.isfinite(value):
        return "— (a mark is missing)"
    words = "paid" if value < 0 else "received" if value > 0 else "nothing paid"
    return f"{'+' if value > 0 else ''}{money(value, currency)}/day ({words})"


def warning_words(a: AccountRisk, cross_per_day: float, warning_ratio: float) -> str:
    """'cross margin at its warning level (70% margin ratio) by funding alone in 42.3 days' (or why never)."""
    from engine.funding.projection import days_to_warning  # with the first rate (start-up time)

    w = days_to_warning(a, cross_per_day, warning_ratio)
    level = f"its warning level ({warning_ratio:.0%} margin ratio)"
    if w.days is None:
        return f"cross margin never at {level} by funding alone: {w.reason}"
    return f"cross margin at {level} by funding alone in {w.days:,.1f} days"


def position_note(
    book: Book,
    r: PositionRisk,
    rate: FundingRate | None,
    a: AccountRisk,
    cross_per_day: float,
    warning_ratio: float,
    now: float,
) -> str:
    """One line for the position chart: the rate, the position's funding per day, and the projection (isolated:
    its liquidation price in PROJECTION_DAYS days and which way it moved; cross: its account's days to warning)."""
    if rate is None:
        return f"Funding: {NO_RATE}."
    from engine.funding.projection import PROJECTION_DAYS, isolated_liquidation_after  # with the first rate

    currency = a.account.currency
    per_day = position_per_day(r, rate)
    head = f"Funding {rate_text(rate, now)}: {_signed(per_day, currency)}"
    if r.position.margin_mode is MarginMode.CROSS:
        return f"{head}; {r.position.account}'s {warning_words(a, cross_per_day, warning_ratio)}."
    later = isolated_liquidation_after(book, r, per_day, PROJECTION_DAYS)
    quote = quote_currency_of(r.position.symbol)
    days = f"in {PROJECTION_DAYS:g} days at today's rate and mark"
    if later is None or r.liquidation_price is None:
        return f"{head}; liquidation price {days}: {quoted_price(later, quote)}."
    moved = later - r.liquidation_price
    toward = moved > 0 if r.position.side is Side.LONG else moved < 0
    direction = "no move" if moved == 0 else "toward the mark" if toward else "away from the mark"
    return f"{head}; liquidation price {days}: {quoted_price(later, quote)} ({moved:+,.2f} {quote}, {direction})."


def account_note(funding: AccountFunding, a: AccountRisk, warning_ratio: float) -> str:
    """One line for the risk ladder: the account's funding per day (all positions, its cross ones) and the days
    until funding alone brings its cross margin ratio to the warning level."""
    currency = a.account.currency
    if funding.without_rate:
        head = f"Funding of {a.account.name}: {NO_RATE} for {', '.join(funding.without_rate)}"
    else:
        head = f"Funding of {a.account.name}: {_signed(funding.per_day, currency)}"
    if not a.has_cross:
        return f"{head}; no cross position."
    if funding.without_rate:
        return f"{head}; the cross projection needs every rate."
    cross = _signed(funding.cross_per_day, currency)
    return f"{head}; cross positions {cross}; {warning_words(a, funding.cross_per_day, warning_ratio)}."
