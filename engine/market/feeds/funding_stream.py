"""Funding rates streamed over ccxt's websockets, where the installed ccxt offers a stream that carries them.

Which stream (from `exchange.has` of ccxt.pro's class; ccxt 4.5.90's own source, read 2026-12-01):
- watch_funding_rates (a list of symbols per call) or watch_funding_rate (one per symbol): OKX ('funding-rate'
  channel: fundingRate, fundingTime, nextFundingTime; ccxt/pro/okx.py handle_funding_rate), Kucoin, MEXC, Blofin,
  Bitstamp, Coinbase International and others that say so.
- Binance (binanceusdm, binancecoinm, binance): ccxt offers no watch_funding_rate, but its Mark Price Stream, which
  ccxt reads with watch_mark_prices, carries the funding rate `r` and the next funding time `T` (ms) in every
  `markPriceUpdate` event ("Mark Price Stream", Binance USDⓈ-M futures websocket market streams docs); ccxt keeps
  the raw event as the ticker's `info`. The event names no interval: the one the REST read gave is kept.
- Bybit and Hyperliquid: no funding stream in ccxt 4.5.90: the funding feed keeps polling there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.funding.rates import FundingRate, RateSource

MARK_STREAM_VENUES = ("binanceusdm", "binancecoinm", "binance")
"""Venues whose mark-price stream carries the funding rate (`r`) and the next funding time (`T`)."""


@dataclass(frozen=True, slots=True)
class FundingStream:
    """The ccxt call that streams funding rates: its method name, and whether it takes one symbol per call."""

    method: str
    per_symbol: bool
    from_mark_prices: bool = False

    def describe(self) -> str:
        """'websocket: watch_mark_prices (funding r, T)', as the feed's status shows it."""
        if self.from_mark_prices:
            return f"websocket: {self.method} (its funding rate r and next funding time T)"
        return f"websocket: {self.method}" + (" (per symbol)" if self.per_symbol else "")


def choose_stream(exchange_id: str, has: Mapping[str, Any]) -> FundingStream | None:
    """The funding stream of exchange_id from ccxt.pro's `has` (module docstring); None: poll."""
    if has.get("watchFundingRates"):
        return FundingStream("watch_funding_rates", False)
    if has.get("watchFundingRate"):
        return FundingStream("watch_funding_rate", True)
    if exchange_id in MARK_STREAM_VENUES and has.get("watchMarkPrices"):
        return FundingStream("watch_mark_prices", False, from_mark_prices=True)
    return None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def rate_from_mark_event(
    exchange: str, symbol: str, ticker: Any, interval_hours: float, now: float
) -> FundingRate | None:
    """A FundingRate from a Binance markPriceUpdate as ccxt hands it over (a ticker whose `info` is the raw event:
    'r' the rate as a string, 'T' the next funding time in ms, 'E' the event time in ms: the rate's fetched_at, so a
    cached event does not look new); None when it carries no usable rate (|r| >= 1, missing, not a number)."""
    info = ticker.get("info") if isinstance(ticker, Mapping) else None
    if not isinstance(info, Mapping):
        return None
    rate = _number(info.get("r"))
    if rate is None or abs(rate) >= 1:
        return None
    stamp = _number(info.get("T"))
    next_time = stamp / 1000.0 if stamp is not None and stamp / 1000.0 > now else None
    event = _number(info.get("E"))
    at = min(now, event / 1000.0) if event is not None else now
    return FundingRate(exchange, symbol, rate, interval_hours, next_time, at, RateSource.EXCHANGE)


def changed(old: FundingRate | None, new: FundingRate, refresh: float) -> bool:
    """Worth publishing: a new rate or next funding time, or the last published one is `refresh` seconds old
    (a stream pushes every second; the rate changes a few times an hour)."""
    return (
        old is None
        or old.rate != new.rate
        or old.next_funding_time != new.next_funding_time
        or new.fetched_at - old.fetched_at >= refresh
    )
