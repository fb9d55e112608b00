"""A live price feed for one exchange through ccxt: its own thread, its own asyncio loop.

Public data only (no API keys). Once its exchange's markets are loaded, a feed publishes the tick, lot and minimum
order of its symbols and of every other contract listed, from that public market list (`increments`,
engine.margin.listed_increments), then their tier tables where ccxt serves them publicly (`tiers`); the caller
stores and applies both. The mark price is preferred, since liquidation is judged on it: which ccxt call reads it
on each exchange, and how a ticker becomes a mark, is engine/market/feeds/mark_source.py (a stream where the
exchange has one, else REST polling paced by ccxt's rate limiter). A configuration can force REST or websocket.
Network faults become a `reconnecting` state with capped exponential backoff and jitter; a stream that goes quiet
is caught by a per-symbol watchdog and reconnected; malformed ticks are dropped by the price store, and a
websocket frame ccxt cannot parse is skipped (counted as 'malformed frame') instead of stopping ccxt's receive
loop. Nothing here raises into the caller's thread.

Freshness: ccxt keeps the latest ticker per symbol in `exchange.tickers` and replaces that dict with a
new one for every event the exchange sends (ccxt/pro/binance.py, handle_tickers_and_bids_asks). A watch
call resolves on one symbol's event, so the feed also reads the cache for the others; an entry that is
still the very object published before is a re-publication, not a new price, and does not refresh the
symbol's age or its watchdog. Without that, a stream whose tickers carry no timestamp kept a symbol
that had stopped updating at age 0 for as long as any other symbol moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from engine.margin.model import MarketSpec
from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_faults import describe_error, raised_in_ccxt, skip_unreadable_frames
from engine.market.feeds.exchange_config import ExchangeSettings, connection_note, deep_merge
from engine.market.feeds.feed_thread import FeedThread
from engine.market.feeds.mark_source import (
    NoPriceMethod,
    PerSymbolStream,
    choose_method,
    mark_of,
    price_call,
    ticks_from_tickers,
)
from engine.market.feeds.market_increments import Increments, listed_increments, traded_contracts
from engine.market.feeds.state import FeedState, FeedStatus
from engine.market.feeds.tier_fetch import fetch_tier_tables
from engine.market.prices import PriceSource, PriceStore

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_CCXT_CONFIG: Mapping[str, Any] = {"enableRateLimit": True, "timeout": 10_000, "newUpdates": True}


class SilentStream(Exception):
    """No price arrived for too long although the connection looked open."""


class FeedSetupError(Exception):
    """The feed cannot work as configured (unknown exchange, no usable method, no listed symbol)."""


class _Stopped(Exception):
    pass


@dataclass(frozen=True, slots=True)
class MarketMeta:
    """What load_markets says of a symbol, for checking the book against the exchange."""

    symbol: str
    contract_size: float
    inverse: bool
    settle: str


class CcxtFeed(FeedThread):
    """Publishes one exchange's marks for the given symbols into the store until stop()."""

    def __init__(
        self,
        exchange_id: str,
        symbols: Sequence[str],
        store: PriceStore,
        settings: ExchangeSettings | None = None,
        *,
        poll_interval: float = 2.0,
        silence_timeout: float = 20.0,
        backoff: Backoff | None = None,
    ) -> None:
        self.exchange_id = exchange_id
        self.symbols = list(dict.fromkeys(symbols))
        self.store = store
        self.settings = settings or ExchangeSettings()
        self.poll_interval = poll_interval
        self.silence_timeout = silence_timeout
        self.backoff = backoff or Backoff()
        self.markets: dict[str, MarketMeta] = {}
        self.tiers: dict[str, MarketSpec] = {}
        """Markets with the tiers the exchange served (without a key) and their fetch time, by symbol."""
        self.tiers_version = 0
        """Counts the fetches that ended (a reader compares it to see new tables)."""
        self.tier_note = ""
        """Where the tiers come from, in words: the exchange, or why the bundled tables stay in force."""
        self.increments: dict[str, Increments] = {}
        """Tick, lot and minimum order by symbol (the feed's and every contract listed) from the exchange's public
        market list, with their read time."""
        self.increments_version = 0
        """Counts the market lists read (a reader compares it to see new increments)."""
        self._tiers_tried = False
        super().__init__(FeedState(exchange_id), f"feed-{exchange_id}")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ccxt_markets: dict[str, Any] | None = None
        self._logged_errors: set[str] = set()

    @property
    def listed_symbols(self) -> list[str]:
        """The exchange's contract symbols once its markets are loaded (empty before), for the forms."""
        markets = self._ccxt_markets or {}
        return sorted(symbol for symbol, m in markets.items() if isinstance(m, dict) and m.get("contract"))

    def _wake(self) -> None:
        """The feed waits on its loop's own stop event: set it there (stop() then closes the exchange)."""
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # the loop may have closed already
                loop.call_soon_threadsafe(event.set)

    # -- the feed thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except Exception as e:  # a bug: log it and say so, never take the caller down
            log.exception("feed %s crashed", self.exchange_id)
            self._state.update(status=FeedStatus.OFFLINE, last_error=describe_error(e))

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        if self._stop.is_set():
            self._stop_event.set()
        try:
            import ccxt  # imported here: ccxt is heavy and only a live feed needs it
        except ImportError as e:  # pragma: no cover - ccxt is a dependency
            self._state.update(status=FeedStatus.OFFLINE, last_error=f"ccxt is not installed: {e}")
            return
        try:
            note = connection_note(self.exchange_id, self.settings.ccxt)
        except Exception:  # only a warning's text: never worth the feed
            log.debug("feed %s: connection note failed", self.exchange_id, exc_info=True)
            note = ""
        if note:
            log.warning("feed %s: %s", self.exchange_id, note)
            self._state.update(connection=note)
        while not self._stop_event.is_set():
            try:
                exchange = self._make_exchange()
            except FeedSetupError as e:
                self._state.update(status=FeedStatus.OFFLINE, last_error=str(e))
                return
            try:
                await self._session(exchange)
            except _Stopped:
                break
            except FeedSetupError as e:
                self._state.update(status=FeedStatus.OFFLINE, last_error=str(e))
                return
            except (ccxt.BaseError, SilentStream, TimeoutError, OSError) as e:
                await self._wait_to_retry(e)
            except Exception as e:
                if raised_in_ccxt(e):  # garbage from the exchange: status, one line, no traceback
                    self.store.count_refused("unreadable answer")
                    await self._wait_to_retry(e, "unreadable answer from the exchange: ")
                    continue
                if describe_error(e) not in self._logged_errors:  # a bug of ours: its traceback once
                    self._logged_errors.add(describe_error(e))
                    log.exception("feed %s: unexpected error, reconnecting", self.exchange_id)
                await self._wait_to_retry(e)
            finally:
                with contextlib.suppress(Exception):
                    await exchange.close()
        self._state.update(status=FeedStatus.OFFLINE, next_try_at=None)

    def _make_exchange(self) -> Any:
        import ccxt.pro

        cls = getattr(ccxt.pro, self.exchange_id, None)
        if cls is None:
            raise FeedSetupError(f"ccxt has no exchange '{self.exchange_id}'")
        config = deep_merge(DEFAULT_CCXT_CONFIG, self.settings.ccxt)
        exchange = cls(config)
        self._skip_malformed_frames(exchange)
        return exchange

    def _skip_malformed_frames(self, exchange: Any) -> None:
        """A frame ccxt cannot parse is counted and logged (its first time as a warning), then skipped."""

        def skipped(error: Exception) -> None:
            self.store.count_refused("malformed frame")
            level = logging.DEBUG if "malformed frame" in self._logged_errors else logging.WARNING
            self._logged_errors.add("malformed frame")
            log.log(level, "feed %s: skipped a frame ccxt could not read (%s)", self.exchange_id, describe_error(error))

        skip_unreadable_frames(exchange, skipped)

    async def _wait_to_retry(self, error: BaseException, prefix: str = "") -> None:
        delay = self.backoff.next_delay()
        said = prefix + describe_error(error)
        # One line per new cause (a warning, so a terminal sees it); the same cause again is only info.
        level = logging.INFO if said == self.state.last_error else logging.WARNING
        self._state.update(
            status=FeedStatus.RECONNECTING,
            attempt=self.backoff.attempt,
            next_try_at=time.time() + delay,
            last_error=said,
        )
        log.log(level, "feed %s: %s; retrying in %.1f s", self.exchange_id, said, delay)
        with contextlib.suppress(_Stopped):
            await self._race(asyncio.sleep(delay))

    async def _race(self, awaitable: Awaitable[T]) -> T:
        """Await, unless stop() comes first: then cancel it and raise _Stopped."""
        assert self._stop_event is not None
        task = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(self._stop_event.wait())
        done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            stopper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopper
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise _Stopped

    async def _session(self, exchange: Any) -> None:
        if self._ccxt_markets is None:
            await self._race(exchange.load_markets())
            self._ccxt_markets = exchange.markets
        else:
            exchange.set_markets(self._ccxt_markets)
        symbols = self._listed_symbols(exchange)
        if not self._tiers_tried:
            self._publish_increments(exchange, symbols)
            await self._fetch_tiers(exchange, symbols)
        try:
            chosen = choose_method(self.exchange_id, exchange.has, self.settings.transport)
        except NoPriceMethod as e:
            raise FeedSetupError(str(e)) from e
        self._state.update(transport=chosen.describe())
        method = price_call(exchange, chosen)
        try:
            if chosen.transport == "websocket":
                await self._stream(exchange, method, symbols)
            else:
                await self._poll(exchange, method, symbols)
        finally:
            if isinstance(method, PerSymbolStream):
                method.cancel()

    def _listed_symbols(self, exchange: Any) -> list[str]:
        listed = [s for s in self.symbols if s in exchange.markets]
        unknown = tuple(s for s in self.symbols if s not in exchange.markets)
        if unknown and unknown != self.state.unknown_symbols:
            log.warning("feed %s: not listed on the exchange: %s", self.exchange_id, ", ".join(unknown))
            self._state.update(unknown_symbols=unknown)
        for symbol in listed:
            market = exchange.markets[symbol]
            self.markets[symbol] = MarketMeta(
                symbol,
                float(market.get("contractSize") or 1.0),
                bool(market.get("inverse")),
                str(market.get("settle") or ""),
            )
        if not listed:
            raise FeedSetupError(f"none of the symbols is listed on {self.exchange_id}: {', '.join(unknown)}")
        return listed

    def _publish_increments(self, exchange: Any, symbols: list[str]) -> None:
        """The increments of the symbols and of every other contract listed (a what-if may open one), from the
        market list just loaded (public: every exchange, no key), once per run and before the tier fetch, which
        may need a key (Binance) or fail."""
        wanted = list(dict.fromkeys([*symbols, *traded_contracts(exchange)]))
        self.increments = listed_increments(exchange, wanted, time.time())  # one assignment, as self.tiers
        self.increments_version += 1

    async def _fetch_tiers(self, exchange: Any, symbols: list[str]) -> None:
        """The symbols' tier tables (engine.market.feeds.tier_fetch), once per run, for the caller to store."""
        self._tiers_tried = True
        fetched = await fetch_tier_tables(exchange, symbols, self._race)
        self.tier_note = fetched.note
        self.tiers = dict(fetched.markets)  # one assignment: readers on other threads see old or new, whole
        self.tiers_version += 1

    def _published(
        self,
        exchange: Any,
        tickers: Mapping[str, Any],
        symbols: list[str],
        last_seen: dict[str, float],
        stamps: dict[str, tuple[Any, Any]],
    ) -> None:
        # A watch call resolves on the first symbol that updates; the others' updates that arrived
        # meanwhile are only in ccxt's ticker cache, so read that too. Skip what was already published:
        # the same object with the same content (see the module docstring), or, where the exchange
        # dates its tickers, the same time and price again.
        cache = getattr(exchange, "tickers", None) or {}
        merged = {s: cache[s] for s in symbols if s in cache and isinstance(cache[s], Mapping)}
        if isinstance(tickers, Mapping):
            merged.update(tickers)
        kept = 0
        now = time.monotonic()
        for symbol, ticker in merged.items():
            if isinstance(ticker, Mapping):
                seen = (ticker.get("timestamp"), mark_of(self.exchange_id, ticker), ticker.get("last"))
                before, published = stamps.get(symbol, (None, None))
                if before == seen and (seen[0] is not None or published is ticker):
                    continue
                stamps[symbol] = (seen, ticker)  # the object itself, so that identity means the same event
            # One symbol at a time: only a price the store kept feeds that symbol's watchdog, so a
            # symbol whose every tick is refused (absurd, future-dated) is reconnected like a silent one.
            if self.store.publish(ticks_from_tickers(self.exchange_id, {symbol: ticker}), PriceSource.LIVE):
                kept += 1
                last_seen[symbol] = now
        if kept and self.state.status is not FeedStatus.LIVE:
            self.backoff.reset()
            self._state.update(status=FeedStatus.LIVE, attempt=0, next_try_at=None)

    async def _stream(self, exchange: Any, method: Callable[..., Awaitable[Any]], symbols: list[str]) -> None:
        started = time.monotonic()
        last_seen: dict[str, float] = {}
        stamps: dict[str, tuple[Any, Any]] = {}
        while True:
            try:
                tickers = await self._race(asyncio.wait_for(method(symbols), timeout=self.silence_timeout))
            except TimeoutError as e:
                raise SilentStream(f"no price for {self.silence_timeout:g} s") from e
            self._published(exchange, tickers, symbols, last_seen, stamps)
            now = time.monotonic()
            for symbol in symbols:  # the watchdog: a symbol that stopped updating while others go on
                if now - last_seen.get(symbol, started) > self.silence_timeout:
                    refused = self.store.refusal_since_kept((self.exchange_id, symbol))
                    why = f" (its prices were refused: {refused})" if refused else ""
                    raise SilentStream(f"no price for {symbol} for {self.silence_timeout:g} s{why}")

    async def _poll(self, exchange: Any, method: Callable[..., Awaitable[Any]], symbols: list[str]) -> None:
        last_seen: dict[str, float] = {}
        stamps: dict[str, tuple[Any, Any]] = {}
        while True:
            tickers = await self._race(method(symbols))
            self._published(exchange, tickers, symbols, last_seen, stamps)
            await self._race(asyncio.sleep(self.poll_interval))


def feeds_for(
    keys: Sequence[tuple[str, str]], store: PriceStore, settings: Mapping[str, ExchangeSettings] | None = None
) -> list[CcxtFeed]:
    """One feed per exchange for the (exchange, symbol) keys a book needs, each with its settings."""
    by_exchange: dict[str, list[str]] = {}
    for exchange, symbol in keys:
        by_exchange.setdefault(exchange, []).append(symbol)
    settings = settings or {}
    return [CcxtFeed(exchange, symbols, store, settings.get(exchange)) for exchange, symbols in by_exchange.items()]
