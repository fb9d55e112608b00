"""The window takes the tier tables its feeds fetched, and the tick, lot and minimum order each feed read from its
exchange's public market list: stored with the saved book (for the next start, and offline), and the book shown
resolved again with them (engine.monitor.fetched_tables), so the what-if rounds to the exchange's tick and lot
also where the tier tables need an API key."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer, Slot

from engine.monitor.fetched_tables import FetchedTables, with_fetched

log = logging.getLogger(__name__)

CHECK_EVERY_MS = 1_000
"""How often the feeds are asked whether a fetch ended (a feed fetches once per start)."""


class TierUpdates(QObject):
    """Polls the window's feeds for new tier tables (a child of the window: it lives as long)."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.tables = FetchedTables()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(CHECK_EVERY_MS)

    @Slot()
    def check(self) -> None:
        """Store and apply what a feed fetched since the last check (tier tables, and the tick, lot and minimum
        order of its exchange's market list, which the what-if rounds to); the status bar says what changed."""
        feeds = self.window.sources.feeds
        fetched, listed = self.tables.new(feeds), self.tables.new_increments(feeds)
        if not fetched and not listed:
            return
        self._store(fetched, listed)
        portfolio, problems = with_fetched(self.window.portfolio, fetched, listed)
        said = ", ".join(f"{len(m)} from {exchange}" for exchange, m in fetched.items())
        what = f"Tier tables fetched ({said})" if said else "Ticks and lots from " + ", ".join(listed)
        if portfolio.book.markets != self.window.portfolio.book.markets:
            self.window.book_host.apply_portfolio(portfolio, what)
        else:  # only markets the book does not hold: for the what-if's new trades
            self.window.session.use_market_sources(portfolio.market_overrides)
        if problems:
            self.window.say(
                f"With the fetched tiers: {problems[0]}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
            )

    def _store(self, fetched: dict, listed: dict) -> None:
        """Both kept with the saved book, for the next start and offline (a read-only or no saved book: not)."""
        database = getattr(self.window, "database", None)
        if database is None or database.read_only:
            return
        from engine.storage.database import StorageError

        for exchange in {*fetched, *listed}:
            try:
                if exchange in fetched:
                    database.save_fetched_markets(exchange, fetched[exchange])
                if exchange in listed:
                    database.save_fetched_increments(exchange, listed[exchange])
            except StorageError as e:
                log.warning("tier tables or increments from %s not stored: %s", exchange, e)
