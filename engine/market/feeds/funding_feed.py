"""Funding rates from an exchange through ccxt's public calls: its own thread, its own asyncio loop.

fetch_funding_rates(symbols) where ccxt offers it for the exchange, else fetch_funding_rate per symbol
(ccxt 4.5's `has` says which). Rates are read every `refresh` seconds and again just after each funding time
(when the exchange publishes the next rate), and published into an engine.funding.rates.FundingBook. A
network fault is status (the feed's FeedState, `reconnecting` with backoff), never an exception in the
caller's thread; a rate ccxt cannot read (None, not a number, |rate| >= 1) is skipped. Public data, no key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from engine.funding.rates import FundingBook, FundingRate, RateSource, venue_funding
from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_faults import describe_error
from engine.market.feeds.exchange_config import ExchangeSettings, connection_note, deep_merge
from engine.market.feeds.feed_thread import FeedThread
from engine.market.feeds.state import FeedState, FeedStatus

log = logging.getLogger(__name__)

DEFAULT_CONFIG: Mapping[str, Any] = {"enableRateLimit": True, "timeout": 10_000}
AFTER_FUNDING = 5.0
"""Seconds after a funding time before the next rate is read (the exchange rolls its rate at that time)."""


def interval_hours(exchange: str, raw: Any) -> float:
    """ccxt's `interval` ('8h', '1h', '4h') in hours; the venue's default (engine.funding.rates) when absent."""
    if isinstance(raw, str) and raw.endswith("h"):
        with contextlib.suppress(ValueError):
            hours = float(raw[:-1])
            if 0 < hours <= 24:
                return hours
    return venue_funding(exchange).interval_hours


def rate_from_ccxt(exchange: str, symbol: str, item: Any, now: float) -> FundingRate | None:
    """A FundingRate from one ccxt funding-rate structure (fundingRate, interval, fundingTimestamp or
    nextFundingTimestamp in ms); None when it carries no usable rate."""
    if not isinstance(item, Mapping):
        return None
    value = item.get("fundingRate")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or abs(value) >= 1:
        return None
    stamps = (item.get("fundingTimestamp"), item.get("nextFundingTimestamp"))
    next_ms = [t for t in stamps if isinstance(t, int | float) and not isinstance(t, bool)]
    ahead = [t / 1000.0 for t in next_ms if math.isfinite(t) and t / 1000.0 > now]
    hours = interval_hours(exchange, item.get("interval"))
    return FundingRate(exchange, symbol, float(value), hours, min(ahead, default=None), now, RateSource.EXCHANGE)


class FundingFeed(FeedThread):
    """Publishes one exchange's funding rates for the given symbols into `book` until stop().

    state: a FeedState named '<exchange> funding' (the monitor and the status bar show it as for price feeds)."""

    def __init__(
        self,
        exchange_id: str,
        symbols: Sequence[str],
        book: FundingBook,
        settings: ExchangeSettings | None = None,
        *,
        refresh: float = 60.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.exchange_id = exchange_id
        self.symbols = list(dict.fromkeys(symbols))
        self.book = book
        self.settings = settings or ExchangeSettings()
        self.refresh = refresh
        self.backoff = backoff or Backoff()
        note = ""
        with contextlib.suppress(Exception):  # only a warning's text
            note = connection_note(exchange_id, self.settings.ccxt)
        super().__init__(FeedState(f"{exchange_id} funding", connection=note), f"funding-{exchange_id}")

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as e:  # a bug: say so, never take the caller down
            log.exception("funding feed %s crashed", self.exchange_id)
            self._state.update(status=FeedStatus.OFFLINE, last_error=describe_error(e))

    async def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self._stop.is_set() and time.monotonic() < end:
            await asyncio.sleep(min(0.1, max(0.0, end - time.monotonic())))

    async def _main(self) -> None:
        import ccxt.async_support as ccxt_async

        cls = getattr(ccxt_async, self.exchange_id, None)
        if cls is None:
            self._state.update(status=FeedStatus.OFFLINE, last_error=f"ccxt has no exchange '{self.exchange_id}'")
            return
        exchange = cls(deep_merge(DEFAULT_CONFIG, self.settings.ccxt))
        try:
            while not self._stop.is_set():
                try:
                    wait = await self._read_once(exchange)
                except Exception as e:  # network, exchange or parse trouble: status, then retry
                    delay = self.backoff.next_delay()
                    self._state.update(
                        status=FeedStatus.RECONNECTING,
                        attempt=self.backoff.attempt,
                        next_try_at=time.time() + delay,
                        last_error=describe_error(e),
                    )
                    await self._sleep(delay)
                    continue
                await self._sleep(wait)
        finally:
            with contextlib.suppress(Exception):
                await exchange.close()
            self._state.update(status=FeedStatus.OFFLINE, next_try_at=None)

    async def _read_once(self, exchange: Any) -> float:
        """Read and publish every symbol's rate; returns the seconds to wait before the next read."""
        if not exchange.markets:
            await exchange.load_markets()
        symbols = [s for s in self.symbols if s in exchange.markets]
        if exchange.has.get("fetchFundingRates"):
            served = await exchange.fetch_funding_rates(symbols)
            self._state.update(transport="rest: fetch_funding_rates")
        elif exchange.has.get("fetchFundingRate"):
            served = {s: await exchange.fetch_funding_rate(s) for s in symbols}
            self._state.update(transport="rest: fetch_funding_rate")
        else:
            self._state.update(status=FeedStatus.OFFLINE, last_error="ccxt offers no funding-rate call here")
            self._stop.set()
            return 0.0
        now = time.time()
        rates = [r for s in symbols if (r := rate_from_ccxt(self.exchange_id, s, served.get(s), now)) is not None]
        self.book.publish(rates, now)
        missing = tuple(s for s in self.symbols if s not in {r.symbol for r in rates})
        self.backoff.reset()
        self._state.update(status=FeedStatus.LIVE, attempt=0, next_try_at=None, unknown_symbols=missing, last_error="")
        upcoming = [r.next_time(now) - now + AFTER_FUNDING for r in rates]
        return max(1.0, min([self.refresh, *upcoming]))


def funding_feeds_for(
    keys: Sequence[tuple[str, str]], book: FundingBook, settings: Mapping[str, ExchangeSettings] | None = None
) -> list[FundingFeed]:
    """One funding feed per exchange for the (exchange, symbol) keys a book needs, each with its ccxt settings."""
    by_exchange: dict[str, list[str]] = {}
    for exchange, symbol in keys:
        by_exchange.setdefault(exchange, []).append(symbol)
    settings = settings or {}
    return [FundingFeed(exchange, symbols, book, settings.get(exchange)) for exchange, symbols in by_exchange.items()]
