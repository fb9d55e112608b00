"""Funding in the reports: the `risk --json` / `watch --json` fields and the text report's funding table.

Per position: funding_rate (fraction per interval, + longs pay), funding_interval_hours, funding_rate_source
('exchange', 'typed', 'file'), funding_rate_stale, next_funding_time (Unix s), funding_payment_next and
funding_per_day (settlement currency, + received / - paid), liquidation_price_in_7d (isolated positions: the
liquidation price once 7 days of funding moved the isolated margin; null for cross) and funding_missing (why
the funding figures are null, else null). Per account: funding_per_day (every position's), cross_funding_per_day
and days_to_warning_by_funding (days until the cross positions' funding alone brings the cross margin ratio to
the warning threshold; null with days_to_warning_reason). Assumptions: engine.funding.projection.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.book.formats import money, price
from engine.book.funding_fields import file_rates
from engine.book.portfolio import Portfolio
from engine.book.safe_text import printable
from engine.book.thresholds import ThresholdOverrides
from engine.funding.payments import FundingPayment
from engine.funding.projection import (
    PROJECTION_DAYS,
    DaysToWarning,
    cross_funding_per_day,
    days_to_warning,
    no_rate_reason,
    position_payments,
    projected_position,
)
from engine.funding.rates import FundingRate
from engine.funding.text import countdown_text, rate_text
from engine.margin.model import Book, PriceKey
from engine.margin.risk import BookRisk
from engine.monitor.levels import Thresholds


def _number(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class FundingFigures:
    """A book's funding figures at one evaluation, parallel to risk.positions / risk.accounts."""

    payments: list[FundingPayment | None]
    projected: list[float | None]
    reasons: list[str]
    warning: dict[str, DaysToWarning]
    cross_per_day: dict[str, float]
    per_day: dict[str, float]
    """Every position's funding per day, by account (NaN when one has no rate or no mark)."""
    now: float
    days: float = PROJECTION_DAYS


def funding_figures(
    book: Book,
    risk: BookRisk,
    rates: Mapping[PriceKey, FundingRate],
    now: float,
    thresholds: Thresholds | ThresholdOverrides | None = None,
    days: float = PROJECTION_DAYS,
) -> FundingFigures:
    """The funding figures of a book evaluated as `risk` (engine.margin.risk.evaluate_book of `book`), with these
    rates at wall-clock `now`; the warning level is thresholds.ratio_warning (the session's or the default), each
    account's own when thresholds are overrides (engine.book.thresholds)."""
    overrides = (
        thresholds if isinstance(thresholds, ThresholdOverrides) else ThresholdOverrides(thresholds or Thresholds())
    )
    exchange_of = {a.name: a.exchange for a in book.accounts}
    payments = position_payments(book, risk, rates, now)
    projected = [projected_position(book, r, paid, days) for r, paid in zip(risk.positions, payments, strict=True)]
    reasons = [
        no_rate_reason((exchange_of[r.position.account], r.position.symbol)) if paid is None else r.missing
        for r, paid in zip(risk.positions, payments, strict=True)
    ]
    cross = cross_funding_per_day(risk, payments)
    warning = {
        (name := a.account.name): days_to_warning(a, cross[name], overrides.for_account(name).ratio_warning)
        for a in risk.accounts
    }
    per_day = dict.fromkeys(cross, 0.0)
    for r, paid in zip(risk.positions, payments, strict=True):  # one pass: a scan per account was quadratic
        per_day[r.position.account] += math.nan if paid is None else paid.per_day
    return FundingFigures(payments, projected, reasons, warning, cross, per_day, now, days)


def position_fields(f: FundingFigures, i: int) -> dict[str, Any]:
    """Position i's funding fields for --json (module docstring)."""
    paid = f.payments[i]
    rate = paid.rate if paid else None
    return {
        "funding_rate": rate.rate if rate else None,
        "funding_interval_hours": rate.interval_hours if rate else None,
        "funding_rate_source": rate.source.value if rate else None,
        "funding_rate_stale": rate.stale(f.now) if rate else None,
        "next_funding_time": paid.next_time if paid else None,
        "funding_payment_next": _number(paid.next_payment) if paid else None,
        "funding_per_day": _number(paid.per_day) if paid else None,
        "liquidation_price_in_7d": _number(f.projected[i]),
        "funding_missing": f.reasons[i] or None,
    }


def account_fields(f: FundingFigures, risk: BookRisk, name: str) -> dict[str, Any]:
    """The account's funding fields for --json (module docstring)."""
    warning = f.warning[name]
    return {
        "funding_per_day": _number(f.per_day[name]),
        "cross_funding_per_day": _number(f.cross_per_day[name]),
        "days_to_warning_by_funding": _number(warning.days),
        "days_to_warning_reason": warning.reason or None,
    }


def funding_text(risk: BookRisk, f: FundingFigures) -> str:
    """The text report's funding section: a line per position with a rate, then each cross account's days to
    its warning level by funding alone; the positions without a rate are named in one line."""
    currency = {a.account.name: a.account.currency for a in risk.accounts}
    lines = ["", "Funding (+ received, - paid; if today's rates and marks hold)"]
    without = []
    for r, paid, projected in zip(risk.positions, f.payments, f.projected, strict=True):
        p = r.position
        if paid is None:
            without.append(p.symbol)
            continue
        cur = currency[p.account]
        in_days = f"liq. in {f.days:g}d {price(projected)}" if projected is not None else ""
        lines.append(
            f"  {p.account} {p.symbol} {p.side.value}: {rate_text(paid.rate, f.now)}, next in "
            f"{countdown_text(paid.next_time - f.now)} {money(paid.next_payment, cur)}, "
            f"per day {money(paid.per_day, cur)}" + (f", {in_days}" if in_days else "")
        )
    if without:
        lines.append("  no funding rate for: " + ", ".join(dict.fromkeys(without)))
    for a in risk.accounts:
        w = f.warning[a.account.name]
        if a.has_cross:
            said = f"{w.days:.1f} days" if w.days is not None else f"never ({w.reason})"
            lines.append(f"  {a.account.name}: cross account at its warning level by funding alone: {said}")
    return "\n".join(printable(line) for line in lines) + "\n"


def file_funding(portfolio: Portfolio, risk: BookRisk, now: float | None = None) -> FundingFigures:
    """The funding figures of `marginwatch risk FILE`: the file's rates only (no network), at now (wall clock)."""
    now = time.time() if now is None else now
    rates = {r.key: r for r in file_rates(portfolio.book, portfolio.funding, now)}
    return funding_figures(portfolio.book, risk, rates, now, portfolio.threshold_overrides)
