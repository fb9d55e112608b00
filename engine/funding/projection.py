"""Where funding alone takes a book if the current rates and marks hold: an isolated position's liquidation
price after N days, a cross account's days until its warning level.

Assumptions (say them where the figures are shown): the rate and the mark stay where they are, so each
position pays or receives the same amount every interval (engine.funding.payments); an isolated position's
funding is paid from (or added to) its isolated margin, a cross position's from the account's cross wallet.
Bybit takes funding from the available balance first and from the position margin only when that is short
(help centre "Funding Fee Calculation", 2024-12-19): there the isolated projection is the case of an account
without spare balance. Funding is accrued per day here, not in steps at each funding time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from engine.funding.payments import FundingPayment, funding_payment
from engine.funding.rates import FundingRate
from engine.margin.model import Book, MarginMode, PriceKey
from engine.margin.risk import AccountRisk, BookRisk, PositionRisk, evaluate_book

PROJECTION_DAYS = 7.0
"""The horizon of `liquidation_price_in_7d` (risk --json) and the text report."""


def no_rate_reason(key: PriceKey) -> str:
    """Why a position has no funding figures."""
    return f"no funding rate for {key[1]} on {key[0]} (none from the exchange or the portfolio file)"


def position_payments(
    book: Book, risk: BookRisk, rates: Mapping[PriceKey, FundingRate], now: float
) -> list[FundingPayment | None]:
    """Each position's funding (engine.funding.payments) at its row's mark, in risk.positions order; None where
    no rate is known. Amounts are NaN where the mark is missing."""
    exchange_of = {a.name: a.exchange for a in book.accounts}
    out: list[FundingPayment | None] = []
    for r in risk.positions:
        p = r.position
        rate = rates.get((exchange_of[p.account], p.symbol))
        out.append(None if rate is None else funding_payment(p, book.market_of(p), r.mark_price, rate, now))
    return out


def isolated_liquidation_after(book: Book, r: PositionRisk, per_day: float, days: float) -> float | None:
    """The liquidation price of an isolated position (quote currency) once `days` of funding at `per_day`
    (settlement currency, + received) have moved its isolated margin, at today's mark and tiers; None when it
    has none (no mark, or a margin that no price can liquidate). Raises ValueError for a cross position."""
    p = r.position
    if p.margin_mode is not MarginMode.ISOLATED:
        raise ValueError("only an isolated position has its own liquidation price under funding")
    if not (math.isfinite(per_day) and math.isfinite(r.mark_price)):
        return None
    moved = replace(p, isolated_margin=p.isolated_margin + per_day * days)
    account = book.account(p.account)
    key = (account.exchange, p.symbol)
    alone = Book((account,), (moved,), {key: book.markets[key]})
    return evaluate_book(alone, {key: r.mark_price}).positions[0].liquidation_price


@dataclass(frozen=True, slots=True)
class DaysToWarning:
    """days: until funding alone brings the cross margin ratio to `warning` (0 when already there); None with
    `reason` when it never does (funding received or nothing paid) or cannot be said."""

    days: float | None
    reason: str = ""


def days_to_warning(a: AccountRisk, cross_per_day: float, warning_ratio: float) -> DaysToWarning:
    """Days until the cross margin ratio (cross maintenance / cross margin balance, engine.margin.risk) reaches
    warning_ratio (a fraction, engine.monitor.levels.Thresholds.ratio_warning) if the cross positions' funding
    (cross_per_day, settlement currency per day, + received) is the only thing that changes the balance."""
    if not a.has_cross:
        return DaysToWarning(None, "no cross position")
    balance, maintenance = a.cross_margin_balance, a.cross_maintenance_margin
    if not (math.isfinite(balance) and math.isfinite(maintenance) and math.isfinite(cross_per_day)):
        return DaysToWarning(None, "a mark or a funding rate is missing")
    at_warning = maintenance / warning_ratio
    if balance <= at_warning:
        return DaysToWarning(0.0, "already at or past the warning level")
    if cross_per_day >= 0:
        return DaysToWarning(None, "funding is received or zero: it never brings the account to warning")
    return DaysToWarning((balance - at_warning) / -cross_per_day)


def cross_funding_per_day(risk: BookRisk, payments: Sequence[FundingPayment | None]) -> dict[str, float]:
    """Each account's cross positions' funding per day (settlement currency, + received; NaN when a cross
    position has no rate or no mark: the projection cannot be made without it)."""
    totals: dict[str, float] = {a.account.name: 0.0 for a in risk.accounts}
    for r, paid in zip(risk.positions, payments, strict=True):
        if r.position.margin_mode is MarginMode.CROSS:
            totals[r.position.account] += math.nan if paid is None else paid.per_day
    return totals


def projected_position(book: Book, r: PositionRisk, paid: FundingPayment | None, days: float) -> float | None:
    """isolated_liquidation_after for an isolated position with a rate; None otherwise."""
    if paid is None or r.position.margin_mode is not MarginMode.ISOLATED:
        return None
    return isolated_liquidation_after(book, r, paid.per_day, days)
