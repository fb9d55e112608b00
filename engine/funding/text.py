"""Funding figures in words: a rate per interval ('0.0100%/8h'), a countdown ('3h 12m'), a rate's age."""

from __future__ import annotations

import math

from engine.funding.rates import FundingRate


def hours_text(hours: float) -> str:
    """'8h', '1h', '0.5h'."""
    return f"{hours:g}h"


def rate_text(rate: FundingRate, now: float) -> str:
    """'0.0100%/8h', signed when negative ('-0.0250%/8h'); ' · stale 17h' appended past two intervals (a rate
    from the exchange not refreshed since), ' · file' / ' · typed' for a rate that did not come from it."""
    text = f"{rate.rate * 100:.4f}%/{hours_text(rate.interval_hours)}"
    if rate.stale(now):
        text += f" · stale {countdown_text(rate.age(now))}"
    elif rate.source.value != "exchange":
        text += f" · {rate.source.value}"
    return text


def countdown_text(seconds: float) -> str:
    """'3h 12m', '12m', '45s', '2d 3h'; '—' when unknown. Whole minutes are rounded down."""
    if not math.isfinite(seconds):
        return "—"
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"
