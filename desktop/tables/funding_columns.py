"""The positions table's funding and fee columns: the rate per interval, the countdown to the next funding, the
funding per day in the account's settlement currency (signed: + received, - paid), from each row's
RowState.funding (engine.funding.rates) and its notional at the mark, and the break-even price on the taker
fees (RowState.break_even, engine.funding.fees). A rate from the exchange older than two intervals reads
'stale'; a rate from the file or typed says so."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from engine.book.formats import money, quoted_price
from engine.funding.rates import FundingRate
from engine.funding.text import countdown_text, rate_text
from engine.margin.model import Account, quote_currency_of
from engine.margin.risk import PositionRisk
from engine.monitor.frame import RowState


def funding_per_day(r: PositionRisk, rate: FundingRate) -> float:
    """Settlement currency per day, + received / - paid: - side × notional at the mark × rate × 24 / interval
    (engine.funding.payments; PositionRisk.notional is already contracts × size × mark, or / mark inverse)."""
    return -r.position.side.sign * r.notional * rate.per_day


def rate_cell(r: PositionRisk, a: Account, s: RowState, now: float) -> str:
    """'0.0100%/8h' ('· stale 17h', '· file'); 'none' when no rate is known."""
    return "none" if s.funding is None else rate_text(s.funding, now)


def next_cell(r: PositionRisk, a: Account, s: RowState, now: float) -> str:
    """'3h 12m' to the next funding; '' without a rate."""
    return "" if s.funding is None else countdown_text(s.funding.next_time(now) - now)


def per_day_cell(r: PositionRisk, a: Account, s: RowState, now: float) -> str:
    """'-36.60 USDT' a day; '—' while the mark is missing, '' without a rate."""
    if s.funding is None:
        return ""
    value = funding_per_day(r, s.funding)
    return money(value, a.currency) if math.isfinite(value) and not r.missing else "—"


def break_even_cell(r: PositionRisk, a: Account, s: RowState, now: float) -> str:
    """'61,061.12 USDT (fees)': the entry moved by the taker fees to open and close (funding accrued is not in
    it: no synced data gives it); '' for a venue without a known taker rate."""
    if s.break_even is None:
        return ""
    return f"{quoted_price(s.break_even, quote_currency_of(r.position.symbol))} (fees)"


def _rate_key(r: PositionRisk, s: RowState, now: float) -> Any:
    return None if s.funding is None else s.funding.rate


def _next_key(r: PositionRisk, s: RowState, now: float) -> Any:
    return None if s.funding is None else s.funding.next_time(now)


def _per_day_key(r: PositionRisk, s: RowState, now: float) -> Any:
    return None if s.funding is None else funding_per_day(r, s.funding)


def _break_even_key(r: PositionRisk, s: RowState, now: float) -> Any:
    return s.break_even


def funding_columns(column: Callable[..., Any]) -> tuple[Any, ...]:
    """The three columns, made with position_columns.Column (passed in, as that module imports this one)."""
    blank = lambda r, a: ""  # noqa: E731 (filled from the row's state)
    return (
        column("Funding", blank, lambda r: 0, live=True, state_text=rate_cell, state_key=_rate_key),
        column("Next funding", blank, lambda r: 0, live=True, state_text=next_cell, state_key=_next_key),
        column("Funding/day", blank, lambda r: 0, live=True, state_text=per_day_cell, state_key=_per_day_key),
        column("Break-even", blank, lambda r: 0, state_text=break_even_cell, state_key=_break_even_key),
    )
