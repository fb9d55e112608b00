"""A funding rate typed by the trader in the window, for one (exchange, symbol): offline, or where the exchange
gives none. Typed in percent per interval ('0.01', '-0.025 %'), the interval in hours optional (the venue's
otherwise, engine.funding.rates.venue_funding). The bounds are the portfolio file's (engine.book.funding_fields:
-100% < rate < 100%, 1 minute <= interval <= 24 hours); a refused value is one message naming the field, nothing kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from engine.book.funding_fields import MAX_INTERVAL_HOURS, FileFunding, interval_in_bounds, rate_in_bounds
from engine.book.numbers import NotANumber, read_number, shown
from engine.funding.rates import FundingRate, RateSource, venue_funding
from engine.margin.model import PriceKey

_NONZERO_DIGIT = re.compile("[1-9]")


class FundingRefused(ValueError):
    """Typed text that is not a usable funding rate or interval. field: 'rate' or 'interval'; str(): why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def read_typed_rate(rate_text: str, hours_text: str = "") -> FileFunding:
    """The rate typed as a percent per interval ('0.01' or '0.01%' = 0.0001 a fraction) and the interval typed in
    hours ('' = the venue's: interval_hours None). '-0' is 0. Raises FundingRefused naming the field for anything
    else, a nonzero rate too small for a float (1e-400: it would read as 0) included."""
    body = rate_text.strip().removesuffix("%").strip()
    try:
        percent = read_number(body, "a funding rate in % per interval")
    except NotANumber as e:
        raise FundingRefused("rate", f"funding rate: {e}") from None
    if percent / 100 == 0 and _NONZERO_DIGIT.search(body.lower().partition("e")[0]):
        raise FundingRefused(
            "rate", f"funding rate: {shown(rate_text.strip())} is too small to store (it reads as 0); type 0 for none"
        )
    if not rate_in_bounds(percent / 100):
        raise FundingRefused(
            "rate", f"funding rate: {shown(rate_text.strip())} is not a rate per interval between -100% and 100% "
            "(0.01 is 0.01% per interval)",
        )  # fmt: skip
    hours = None
    if hours_text.strip():
        try:
            hours = read_number(hours_text.strip().removesuffix("h").strip(), "the interval in hours")
        except NotANumber as e:
            raise FundingRefused("interval", f"funding interval: {e}") from None
        if not interval_in_bounds(hours):
            raise FundingRefused(
                "interval",
                f"funding interval: must be from 1 minute (0.0167) to {MAX_INTERVAL_HOURS:g} hours, not {hours:g}",
            )
    return FileFunding(percent / 100 + 0.0, hours)  # + 0.0: '-0' is 0, not a -0.0000% shown


def typed_rate(key: PriceKey, typed: FileFunding, now: float) -> FundingRate:
    """The FundingRate (source: typed) of a rate typed for key at `now` (Unix s); the venue's interval when none
    was typed. Typed rates do not age (FundingRate.age)."""
    hours = typed.interval_hours or venue_funding(key[0]).interval_hours
    return FundingRate(key[0], key[1], typed.rate, hours, None, now, RateSource.TYPED)


def typed_rates(typed: Mapping[PriceKey, FileFunding], now: float) -> list[FundingRate]:
    """typed_rate for each key."""
    return [typed_rate(key, entry, now) for key, entry in typed.items()]
