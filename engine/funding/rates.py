"""Funding rate records, each venue's funding interval and sign convention, and a thread-safe book of rates.

Sign convention, the same on every venue below: a positive rate means longs pay shorts, a negative one that
shorts pay longs. The payment of one funding is the position's notional (its value at the price the venue
names) times the rate of one interval. Sources (read 2026-12-01):

- Binance USDⓈ-M / COIN-M: "Funding Amount = Nominal Value of Positions × Funding Rate"; nominal value = mark
  price × size (USDⓈ-M), contract multiplier × size / mark price (COIN-M); "Funding payments occur every 8 hours
  at 00:00 UTC, 08:00 UTC and 16:00 UTC"; positive: longs pay shorts. Binance FAQ "Introduction to Binance
  Futures Funding Rates", as quoted by docs.traderwagon.com/faq/futures-trading-introduction/funding-fee and
  blogs.density.exchange/funding-rate/. Some symbols run 4 h or 1 h: /fapi/v1/fundingInfo then gives
  fundingIntervalHours, which ccxt reports as `interval`.
- Bybit: "Funding Fee = Position Value × Funding Rate"; "When the funding rate is positive, long position
  holders pay the short position holders"; "Using an 8-hour funding time interval as an example, funding will
  occur at 12AM UTC, 8AM UTC, and 4PM UTC"; "Every trading symbol will have its own funding time interval".
  Bybit help centre "Funding Fee Calculation" (bybit.com/.../Funding-fee-calculationDerivatives_Trading_Mechanism_UTA,
  updated 2024-12-19).
- OKX: "Funding fee = position value * current funding rate. If the funding rate is positive, the longs pay
  the funding fee to the shorts"; settled "every 8 hours (00:00, 08:00, and 16:00 UTC) by default, unless
  specified otherwise (i.e. every 2 or 4 hours)". OKX help "IV. Introduction to perpetual swap funding fee"
  (okx.com/help/360053909272, updated 2024-10-07).
- Hyperliquid: the formula gives an 8-hour rate, "funding is paid every hour at one eighth of the computed
  rate"; payment = position size × oracle price × funding rate; positive: longs pay shorts. The rate
  Hyperliquid publishes (ccxt's fundingRate) is already the hourly one. Hyperliquid docs "Funding"
  (hyperliquid.gitbook.io, as quoted by askai.glarity.app and cortex-vigil.com/wiki/funding-rates).
  Hyperliquid pays on the oracle price; we use the mark (within a fraction of a percent of it).

Any other venue: 8 hours and the same sign, said as an assumption (VenueFunding.assumed).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from engine.margin.model import PriceKey

HOUR = 3600.0
DAY = 86400.0


class RateSource(StrEnum):
    """Where a rate came from: the exchange (ccxt), typed by the user, or the portfolio file."""

    EXCHANGE = "exchange"
    TYPED = "typed"
    FILE = "file"


@dataclass(frozen=True, slots=True)
class VenueFunding:
    """A venue's default funding interval (hours) and whether that is our assumption rather than its rule."""

    interval_hours: float
    source: str
    assumed: bool = False


VENUES: Mapping[str, VenueFunding] = {
    "binance": VenueFunding(8.0, "Binance FAQ 'Introduction to Binance Futures Funding Rates'"),
    "binanceusdm": VenueFunding(8.0, "Binance FAQ 'Introduction to Binance Futures Funding Rates'"),
    "binancecoinm": VenueFunding(8.0, "Binance FAQ 'Introduction to Binance Futures Funding Rates'"),
    "bybit": VenueFunding(8.0, "Bybit help centre 'Funding Fee Calculation' (per symbol; 8 h by default)"),
    "okx": VenueFunding(8.0, "OKX help 'Introduction to perpetual swap funding fee' (8 h by default)"),
    "hyperliquid": VenueFunding(1.0, "Hyperliquid docs 'Funding' (paid hourly)"),
}


def venue_funding(exchange: str) -> VenueFunding:
    """The venue's funding rule (VENUES); 8 hours, marked assumed, for a venue we have no source for."""
    return VENUES.get(exchange, VenueFunding(8.0, "no source for this venue: 8 h assumed", assumed=True))


def next_funding_after(now: float, interval_hours: float) -> float:
    """The next funding time (Unix s) strictly after now on the UTC grid of the interval (00:00, 08:00, 16:00 UTC
    for 8 h; on the hour for 1 h), as every venue above schedules it. Raises ValueError for an interval <= 0.
    An interval under a minute is taken as a minute (none exists; it keeps the grid's arithmetic finite)."""
    if not interval_hours > 0:
        raise ValueError("the funding interval must be > 0 hours")
    step = max(interval_hours * HOUR, 60.0)
    return (math.floor(now / step) + 1) * step


@dataclass(frozen=True, slots=True)
class FundingRate:
    """One (exchange, symbol)'s funding rate.

    rate: a fraction per interval (0.0001 = 0.01% per interval), positive: longs pay shorts. interval_hours:
    hours between fundings. next_funding_time / fetched_at: Unix seconds (UTC); next_funding_time None when the
    source gave none (next_time() then uses the UTC grid). source: RateSource.
    """

    exchange: str
    symbol: str
    rate: float
    interval_hours: float
    next_funding_time: float | None
    fetched_at: float
    source: RateSource

    @property
    def key(self) -> PriceKey:
        return (self.exchange, self.symbol)

    @property
    def per_day(self) -> float:
        """The rate summed over a day: rate × 24 / interval hours."""
        return self.rate * 24.0 / self.interval_hours

    def next_time(self, now: float) -> float:
        """The next funding (Unix s) after now: the one the source named while it is ahead, else the grid's."""
        if self.next_funding_time is not None and self.next_funding_time > now:
            return self.next_funding_time
        return next_funding_after(now, self.interval_hours)

    def age(self, now: float) -> float:
        """Seconds since the rate was fetched (0 for a rate from the file or typed, which does not age)."""
        return 0.0 if self.source is not RateSource.EXCHANGE else max(0.0, now - self.fetched_at)

    def stale(self, now: float) -> bool:
        """An exchange rate older than two intervals: it has been replaced at least once since."""
        return self.age(now) > 2 * self.interval_hours * HOUR


class FundingBook:
    """The rates known now, by (exchange, symbol): written by the feeds' threads, read by the session.

    A rate from the exchange replaces any other; a rate from the file or typed never replaces one from the
    exchange that is not stale, and a rate from the file never replaces a typed one. The file's and the typed
    rates are held apart as well, so withdrawing a typed rate brings back the file's (or the exchange's, or
    none). snapshot() is a plain dict, cheap to read on every step.
    """

    def __init__(self, rates: Iterable[FundingRate] = ()) -> None:
        self._lock = threading.Lock()
        self._rates: dict[PriceKey, FundingRate] = {}
        self._held: dict[PriceKey, dict[RateSource, FundingRate]] = {}
        """The file's and the typed rates given, by key and source, whether shown or not."""
        self._exchange: dict[PriceKey, FundingRate] = {}
        self.version = 0
        """Bumped on every change: a reader redraws only when it moved."""
        self.publish(rates)

    def publish(self, rates: Iterable[FundingRate], now: float | None = None) -> int:
        """Keep these rates (see the class docstring); returns how many are now the rate shown for their key."""
        kept = 0
        with self._lock:
            for rate in rates:
                if rate.source is RateSource.EXCHANGE:
                    self._exchange[rate.key] = rate
                else:
                    self._held.setdefault(rate.key, {})[rate.source] = rate
                if self._outranks(rate, self._rates.get(rate.key), now):
                    self._rates[rate.key] = rate
                    kept += 1
            if kept:
                self.version += 1
        return kept

    @staticmethod
    def _outranks(rate: FundingRate, old: FundingRate | None, now: float | None) -> bool:
        if old is None or rate.source is RateSource.EXCHANGE:
            return True
        if old.source is RateSource.EXCHANGE:
            return old.stale(now if now is not None else rate.fetched_at)
        return not (old.source is RateSource.TYPED and rate.source is RateSource.FILE)

    def withdraw(self, key: PriceKey, source: RateSource) -> FundingRate | None:
        """Forget the file's or the typed rate of key (e.g. a typed rate the user removed); the rate shown is
        then the exchange's, else the typed one, else the file's, else none. Returns the rate now shown."""
        with self._lock:
            held = self._held.get(key, {})
            if held.pop(source, None) is None:
                return self._rates.get(key)
            shown = self._rates.get(key)
            if shown is not None and shown.source is source:
                best = self._exchange.get(key) or held.get(RateSource.TYPED) or held.get(RateSource.FILE)
                if best is None:
                    del self._rates[key]
                else:
                    self._rates[key] = best
                self.version += 1
            return self._rates.get(key)

    def held(self, key: PriceKey, source: RateSource) -> FundingRate | None:
        """The file's or the typed rate given for key, shown or not (None: none given)."""
        with self._lock:
            return self._held.get(key, {}).get(source)

    def get(self, key: PriceKey) -> FundingRate | None:
        with self._lock:
            return self._rates.get(key)

    def snapshot(self) -> dict[PriceKey, FundingRate]:
        with self._lock:
            return dict(self._rates)
