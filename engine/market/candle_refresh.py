"""Hourly candles kept fresh in the background: the volatilities of the probability of liquidation follow the
market while the window or `watch` runs, without `marginwatch risk --candles`.

A CandleRefresher checks its price keys every `check_every` seconds on a thread of its own and fetches, through
ccxt's public fetch_ohlcv (engine.market.candles.fetch_book_candles: 30 days of hourly candles, one client per
exchange, the --exchange-config settings as for the feeds), those whose candles are older than `max_age`
(an hour) or were never fetched. What it fetched goes to the caller through a thread-safe queue (take()): the
caller stores it where its thread may (SQLite connections belong to theirs). A symbol that could not be fetched
is one line of status (failures(), and the FeedState's last_error, as the feeds report theirs), retried after a
growing delay (engine.market.feeds.backoff); nothing is ever raised into the caller. Public data, no key.
Qt-free.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from engine.margin.model import PriceKey
from engine.market.candles import fetch_book_candles
from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_faults import describe_error
from engine.market.feeds.exchange_config import ExchangeSettings
from engine.market.feeds.feed_thread import FeedThread
from engine.market.feeds.state import FeedState, FeedStatus
from engine.market.volatility import HOUR_S, Series

log = logging.getLogger(__name__)

Fetch = Callable[..., tuple[dict[PriceKey, Series], dict[PriceKey, str]]]
"""fetch_book_candles's shape: (keys, settings, cancelled=...) -> ({key: hourly series}, {key: why not})."""


@dataclass(frozen=True)
class CandleBatch:
    """One fetch's outcome: series {key: (hours, closes)} as engine.market.volatility.hourly_series gives, the
    keys that could not be fetched with why, and when (Unix seconds)."""

    series: dict[PriceKey, Series] = field(default_factory=dict)
    failed: dict[PriceKey, str] = field(default_factory=dict)
    fetched_at: float = 0.0


def failure_line(key: PriceKey, why: str) -> str:
    """'no candles for BTC/USDT:USDT on binanceusdm: why' (one line per symbol)."""
    return f"no candles for {key[1]} on {key[0]}: {why}"


class CandleRefresher(FeedThread):
    """Fetches the candles of `keys` that are missing or older than max_age seconds, on its own thread.

    fetched_at: when each key's cached candles were fetched (Unix s; from the caller's cache), so a restart
    does not fetch again what is fresh. state: a FeedState named 'candles' (start/stop/state: a feed as
    engine.monitor.watch.Feed drives one; stop() ends a fetch under way after the symbol it is at). fetch and
    clock stand in for ccxt and time in tests."""

    def __init__(
        self,
        keys: Iterable[PriceKey],
        settings: Mapping[str, ExchangeSettings] | None = None,
        fetched_at: Mapping[PriceKey, float] | None = None,
        *,
        max_age: float = HOUR_S,
        check_every: float = 60.0,
        fetch: Fetch = fetch_book_candles,
        clock: Callable[[], float] = time.time,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings, self.max_age, self.check_every = settings, max_age, check_every
        self._fetch, self._clock = fetch, clock
        self._backoff = backoff or Backoff(initial=60.0, cap=1_800.0)
        self._lock = threading.Lock()
        self._keys = list(dict.fromkeys(keys))
        self._fetched_at = dict(fetched_at or {})
        self._retry_at: dict[PriceKey, float] = {}
        self._failed: dict[PriceKey, str] = {}
        self._batches: queue.SimpleQueue[CandleBatch] = queue.SimpleQueue()
        super().__init__(FeedState("candles", transport="rest: fetch_ohlcv"), "candles")

    def set_keys(self, keys: Iterable[PriceKey]) -> None:
        """Follow the book's price keys (symbols added or removed); new ones are fetched at the next check."""
        with self._lock:
            self._keys = list(dict.fromkeys(keys))

    def take(self) -> list[CandleBatch]:
        """The batches fetched since the last call, oldest first (never blocks)."""
        batches = []
        while True:
            try:
                batches.append(self._batches.get_nowait())
            except queue.Empty:
                return batches

    def failures(self) -> list[str]:
        """One line per symbol whose last fetch failed (failure_line)."""
        with self._lock:
            return [failure_line(key, why) for key, why in self._failed.items()]

    def due(self, now: float | None = None) -> list[PriceKey]:
        """The keys to fetch now: never fetched, or fetched max_age seconds ago or more, and not waiting for
        a retry."""
        now = self._clock() if now is None else now
        with self._lock:
            return [
                key
                for key in self._keys
                if now - self._fetched_at.get(key, -float("inf")) >= self.max_age and now >= self._retry_at.get(key, 0)
            ]

    def refresh_once(self) -> CandleBatch | None:
        """Fetch the due keys and queue what came back (None: nothing was due). Raises only a bug of ours
        (fetch_book_candles turns ccxt's errors into the key's line)."""
        keys = self.due()
        if not keys:
            return None
        series, failed = self._fetch(keys, self.settings, cancelled=self._stop.is_set)
        now = self._clock()
        batch = CandleBatch(series, failed, now)
        delay = self._backoff.next_delay() if failed else 0.0
        if not failed:
            self._backoff.reset()
        with self._lock:
            for key in series:
                self._fetched_at[key] = now
                self._retry_at.pop(key, None)
                self._failed.pop(key, None)
            for key, why in failed.items():
                self._retry_at[key] = now + delay
                self._failed[key] = why
        self._batches.put(batch)
        self._say(now + delay if failed else None)
        return batch

    def _say(self, next_try_at: float | None) -> None:
        lines = self.failures()
        if lines:
            self._state.update(
                status=FeedStatus.RECONNECTING,
                attempt=self._backoff.attempt,
                next_try_at=next_try_at,
                last_error="; ".join(lines),
            )
        else:
            self._state.update(status=FeedStatus.LIVE, attempt=0, next_try_at=None, last_error="")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.refresh_once()
            except Exception as e:  # a bug of ours: said, logged, and the thread goes on checking
                log.exception("candle refresher")
                self._state.update(status=FeedStatus.RECONNECTING, last_error=describe_error(e))
            self._stop.wait(self.check_every)
