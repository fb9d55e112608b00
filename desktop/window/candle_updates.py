"""The window keeps its symbols' hourly candles fresh while it runs live feeds: an
engine.market.candle_refresh.CandleRefresher fetches them on its own thread; here, on the GUI thread, they are
stored with the saved book (its candle cache; a window on a portfolio file keeps them in memory) and the
probability column reads its volatility inputs again (desktop.window.odds_column.OddsColumn.use_candles).

The refresher starts once one of the window's feeds is live (an exchange it reaches) and stops when it works
offline; a symbol that could not be
fetched is a line in the status bar and in the column's tooltip, never a dialog.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer, Slot

from engine.market.feeds.state import FeedStatus

if TYPE_CHECKING:
    from engine.market.candle_refresh import CandleBatch, CandleRefresher
    from engine.market.feeds.exchange_config import ExchangeSettings

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 5.0
"""At most this long the window's close waits for a fetch under way (one symbol; ccxt's timeout is 10 s)."""

CHECK_EVERY_MS = 1_000
"""How often the refresher is asked for what it fetched (it fetches at most once an hour per symbol)."""


class CandleUpdates(QObject):
    """Runs a CandleRefresher for `window`'s book while its feeds run (a child of the window: it lives as
    long). settings: the --exchange-config per exchange, as the feeds have; refresher: stands in for the
    real one in tests (called with the keys, the settings and the cache's fetch times)."""

    def __init__(self, window: Any, settings: Mapping[str, ExchangeSettings] | None = None, refresher: Any = None):
        super().__init__(window)
        self.window, self.settings = window, settings or {}
        self._make = refresher or _real_refresher
        self.refresher: CandleRefresher | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(CHECK_EVERY_MS)
        window.installEventFilter(self)
        QTimer.singleShot(0, self.check)

    @Slot()
    def check(self) -> None:
        """Start or stop the refresher with the feeds, follow the book's symbols, and take what it fetched."""
        online = not self.window.sources.offline
        keys = self.window.portfolio.book.price_keys()
        # Not before a feed is live: an exchange no feed reaches would only be asked again and again (and its
        # other hosts' names looked up, which can hang without a network until the window's close).
        live = any(feed.state.status is FeedStatus.LIVE for feed in self.window.sources.feeds)
        if online and live and self.refresher is None:
            self.refresher = self._make(keys, self.settings, self._cached_times(keys))
            self.refresher.start()
        elif not online and self.refresher is not None:
            self.stop()
            return
        if self.refresher is None:
            return
        self.refresher.set_keys(keys)
        for batch in self.refresher.take():
            self.take(batch)

    def take(self, batch: CandleBatch) -> None:
        """Store a batch with the saved book (else keep it with the column) and say what failed."""
        from engine.market.candle_refresh import failure_line

        column = self.window.odds_column
        stored = self._store(batch)
        column.candle_problems.update(batch.failed)
        if batch.series or batch.failed:
            column.use_candles(batch.series, batch.fetched_at, stored)
        if batch.failed:
            lines = [failure_line(key, why) for key, why in batch.failed.items()]
            more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
            self.window.say(f"Volatility: {lines[0]}{more}")
        elif batch.series:
            self.window.say(f"Volatility: hourly candles of {len(batch.series)} symbols fetched")

    def _store(self, batch: CandleBatch) -> bool:
        database = getattr(self.window, "database", None)
        if database is None or database.read_only or not batch.series:
            return False
        from engine.storage.errors import StorageError

        try:
            for key, series in batch.series.items():
                database.save_candles(key, series, batch.fetched_at)
        except StorageError as e:  # a cache: kept in memory instead
            log.warning("candles not stored: %s", e)
            return False
        return True

    def _cached_times(self, keys: list) -> dict:
        database = getattr(self.window, "database", None)
        if database is None:
            return dict(self.window.odds_column.fetched_at)
        from engine.storage.errors import StorageError

        try:
            return database.candles_fetched_at(keys)
        except StorageError:
            return {}

    def stop(self, timeout: float = 0.0) -> None:
        """Stop the refresher; its thread ends after the symbol it is fetching (waited for up to timeout s:
        none when going offline, a few seconds at the window's close, as for the feeds)."""
        if self.refresher is not None:
            self.refresher.stop(timeout)
            self.refresher = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.timer.stop()
            self.stop(timeout=CLOSE_WAIT_S)
        return False


def _real_refresher(keys: list, settings: Mapping, fetched_at: dict) -> CandleRefresher:
    from engine.market.candle_refresh import CandleRefresher  # ccxt is imported when it first fetches

    return CandleRefresher(keys, settings, fetched_at)
