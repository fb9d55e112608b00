"""The status bar's line: where prices come from, how old, what is missing, what is previewed, what failed.

The words are engine.monitor.price_labels.status_line's (the headless `watch` prints the same); this label
only gathers the window's state for it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from PySide6.QtWidgets import QLabel

from desktop.window.preview_banner import describe_shock
from desktop.window.price_sources import PriceSources
from engine.margin.model import PriceKey
from engine.market.prices import MarkRecord
from engine.monitor.price_labels import oldest_price_age, status_line
from engine.monitor.session import WatchSession


class _HistoryWriter(Protocol):
    last_error: str


class StatusLine(QLabel):
    """The window's status line. storage_note: why the saved book is not open ('' once it is), said first."""

    def __init__(
        self, session: WatchSession, sources: PriceSources, history: _HistoryWriter | None, stale_after: float
    ) -> None:
        super().__init__()
        self.session, self.sources, self.history, self.stale_after = session, sources, history, stale_after
        self.storage_note = ""
        self.quotes: Mapping[PriceKey, MarkRecord] = {}

    def show_state(self, quotes: Mapping[PriceKey, MarkRecord], missing: Sequence[PriceKey]) -> None:
        """Say the state of these quotes (the latest snapshot) and of the feeds, the preview and the storage."""
        self.quotes = quotes
        shock = self.session.shock
        self.setText(
            status_line(
                quotes,
                self.session.price_keys,
                [f.state.describe() for f in self.sources.feeds],
                working_offline=self.sources.working_offline,
                prices_typed=self.sources.prices_typed,
                shock=describe_shock(shock) if shock is not None else "",
                storage_note=self.storage_note,
                history_error=self.history.last_error if self.history is not None else "",
                stale_after=self.stale_after,
                missing=missing,
                empty_book=not self.session.portfolio.book.accounts,
            )
        )

    def oldest_price_age(self, now: float | None = None) -> float | None:
        """Age in seconds of the oldest feed price the book uses (manual prices have no age)."""
        return oldest_price_age(self.quotes, self.session.price_keys, time.time() if now is None else now)
