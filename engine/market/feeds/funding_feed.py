"""Funding rates from an exchange through ccxt's public calls: its own thread, its own asyncio loop.

fetch_funding_rates(symbols) where ccxt offers it for the exchange, else fetch_funding_rate per symbol
(ccxt 4.5's `has` says which). Rates are read every `refresh` seconds and again just after each funding time
(when the exchange publishes the next rate), and published into an engine.funding.rates.FundingBook. Where
ccxt streams the rates (engine.market.feeds.funding_stream: watch_funding_rate(s), Binance's mark-price stream)
the first read is followed by the stream; a stream that fails or stays silent for `stream_silence` seconds
falls back to polling, and is tried again STREAM_RETRY seconds later. The exchange config's transport 'rest'
keeps the feed polling. A network fault is status (the feed's FeedState, `reconnecting` with backoff), never
an exception in the caller's thread; a rate ccxt cannot read (None, not a number, |rate| >= 1) is skipped.
Public data, no key.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from engine.funding.rates import FundingBook, FundingRate, RateSource, venue_funding
from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_faults import describe_error
from engine.market.feeds.exchange_config import ExchangeSettings, Transport, connection_note, deep_merge
from engine.market.feeds.feed_thread import FeedThread
from engine.market.feeds.funding_stream import FundingStream, changed, choose_stream, rate_from_mark_event
from engine.market.feeds.state import FeedState, FeedStatus

log = logging.getLogger(__name__)

DEFAULT_CONFIG: Mapping[str, Any] = {"enableRateLimit": True, "timeout": 10_000}
AFTER_FUNDING = 5.0
"""Seconds after a funding time before the next rate is read (the exchange rolls its rate at that time)."""
STREAM_RETRY = 300.0
"""Seconds of polling after a stream failed before the stream is tried again."""


class _Stopped(Exception):
    """stop() came while the feed awaited the exchange."""


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
        self.stream_silence = 60.0
        """Seconds without a streamed rate after which the stream counts as failed (polling takes over)."""
        self._polling_note = ""
        """Why the feed polls where it could stream ('' when it never streamed, or streams)."""
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
        import ccxt.pro as ccxt_pro

        cls = getattr(ccxt_pro, self.exchange_id, None) or getattr(ccxt_async, self.exchange_id, None)
        if cls is None:
            self._state.update(status=FeedStatus.OFFLINE, last_error=f"ccxt has no exchange '{self.exchange_id}'")
            return
        exchange = cls(deep_merge(DEFAULT_CONFIG, self.settings.ccxt))
        stream = None if self.settings.transport is Transport.REST else choose_stream(self.exchange_id, exchange.has)
        stream_again_at = 0.0
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
                if stream is not None and time.monotonic() >= stream_again_at and not self._stop.is_set():
                    try:
                        await self._stream(exchange, stream)
                    except _Stopped:
                        break
                    except Exception as e:  # the stream failed: poll now, and try it again later
                        stream_again_at = time.monotonic() + STREAM_RETRY
                        self._polling_note = f" (the stream failed: {describe_error(e)}; polling)"
                        log.info("funding feed %s: stream failed (%s), polling", self.exchange_id, describe_error(e))
                        continue
                await self._sleep(wait)
        finally:
            with contextlib.suppress(Exception):
                await exchange.close()
            self._state.update(status=FeedStatus.OFFLINE, next_try_at=None)

    async def _until_stopped(self, awaitable: Any, timeout: float) -> Any:
        """Await, unless stop() comes first (_Stopped) or nothing comes within timeout seconds (TimeoutError)."""
        task = asyncio.ensure_future(awaitable)
        end = time.monotonic() + timeout
        try:
            while not task.done():
                if self._stop.is_set():
                    raise _Stopped
                if time.monotonic() >= end:
                    raise TimeoutError(f"no funding rate streamed for {timeout:g} s")
                await asyncio.wait({task}, timeout=0.1)
            return task.result()
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _stream(self, exchange: Any, stream: FundingStream) -> None:
        """Publish the streamed rates until stop() (_Stopped) or the stream fails (its exception)."""
        symbols = [s for s in self.symbols if s in exchange.markets]
        shown = {s: self.book.get((self.exchange_id, s)) for s in symbols}
        last = {s: r for s, r in shown.items() if r is not None and r.source is RateSource.EXCHANGE}
        intervals = {s: r.interval_hours for s, r in last.items()}  # the REST read's: a mark event names none
        call = getattr(exchange, stream.method)
        self._state.update(transport=stream.describe())
        self._polling_note = ""
        while True:
            if stream.per_symbol:
                served = await self._until_stopped(self._first_of(call, symbols), self.stream_silence)
            else:
                served = await self._until_stopped(call(symbols), self.stream_silence)
            now = time.time()
            rates = []
            for symbol, item in self._with_cache(exchange, stream, served).items():
                rate = self._streamed_rate(stream, symbol, item, intervals, now) if symbol in intervals else None
                if rate is not None and changed(last.get(symbol), rate, self.refresh):
                    rates.append(rate)
                    last[symbol] = rate
            if rates:
                self.book.publish(rates, now)
                self._state.update(status=FeedStatus.LIVE, attempt=0, next_try_at=None, last_error="")

    @staticmethod
    async def _first_of(call: Any, symbols: Sequence[str]) -> dict[str, Any]:
        """One watch per symbol; the structures of those that resolved first (the rest cancelled)."""
        tasks = {asyncio.ensure_future(call(s)): s for s in symbols}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            return {tasks[t]: t.result() for t in done}
        finally:
            for task in tasks:
                task.cancel()

    @staticmethod
    def _with_cache(exchange: Any, stream: FundingStream, served: Any) -> dict[str, Any]:
        """What the call returned, and what ccxt cached meanwhile for the other symbols (a watch resolves on the
        first symbol that updates; the others' events are only in ccxt's cache)."""
        cache = getattr(exchange, "tickers" if stream.from_mark_prices else "fundingRates", None)
        merged = dict(cache) if isinstance(cache, Mapping) else {}
        if isinstance(served, Mapping):
            merged.update(served)
        return merged

    def _streamed_rate(
        self, stream: FundingStream, symbol: str, item: Any, intervals: Mapping[str, float], now: float
    ) -> FundingRate | None:
        if stream.from_mark_prices:
            return rate_from_mark_event(self.exchange_id, symbol, item, intervals[symbol], now)
        rate = rate_from_ccxt(self.exchange_id, symbol, item, now)
        if rate is not None and not (isinstance(item, Mapping) and item.get("interval")):
            rate = dataclasses.replace(rate, interval_hours=intervals[symbol])
        return rate

    async def _read_once(self, exchange: Any) -> float:
        """Read and publish every symbol's rate; returns the seconds to wait before the next read."""
        if not exchange.markets:
            await exchange.load_markets()
        symbols = [s for s in self.symbols if s in exchange.markets]
        if exchange.has.get("fetchFundingRates"):
            served = await exchange.fetch_funding_rates(symbols)
            self._state.update(transport="rest: fetch_funding_rates" + self._polling_note)
        elif exchange.has.get("fetchFundingRate"):
            served = {s: await exchange.fetch_funding_rate(s) for s in symbols}
            self._state.update(transport="rest: fetch_funding_rate" + self._polling_note)
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
