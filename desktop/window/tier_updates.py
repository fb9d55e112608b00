"""The window takes the tier tables its feeds fetched: stored with the saved book (for the next start, and
offline), and the book shown resolved again with them (engine.monitor.fetched_tables)."""

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
        """Store and apply what a feed fetched since the last check; the status bar says what changed."""
        fetched = self.tables.new(self.window.sources.feeds)
        if not fetched:
            return
        database = getattr(self.window, "database", None)
        if database is not None and not database.read_only:
            from engine.storage.database import StorageError

            for exchange, markets in fetched.items():
                try:
                    database.save_fetched_markets(exchange, markets)
                except StorageError as e:
                    log.warning("tier tables from %s not stored: %s", exchange, e)
        portfolio, problems = with_fetched(self.window.portfolio, fetched)
        said = ", ".join(f"{len(m)} from {exchange}" for exchange, m in fetched.items())
        if portfolio.book.markets != self.window.portfolio.book.markets:
            self.window.book_host.apply_portfolio(portfolio, f"Tier tables fetched ({said})")
        if problems:
            self.window.say(
                f"With the fetched tiers: {problems[0]}"
                + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
            )
