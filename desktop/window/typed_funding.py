"""Position ▸ Funding rate…: the trader types a symbol's funding rate (offline, or where the exchange gives none),
or removes the one typed before. The rate goes into the rates book the session reads (engine.funding.rates:
a fresh exchange rate still wins over it; removing it brings back the portfolio file's) and is saved with the
book per (exchange, symbol) (engine.storage.typed_funding). The outcome is status in words, never a dialog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QWidget

from engine.book.funding_fields import FileFunding
from engine.book.typed_funding import typed_rates
from engine.funding.rates import FundingBook, RateSource
from engine.funding.text import rate_text
from engine.margin.model import PriceKey


class TypedFunding(QObject):
    """The 'Funding rate…' action of a window and the rates typed in it. host: the window's WindowBook
    (desktop.window.book_host: session, selected_positions, saved_book, say, redraw)."""

    def __init__(self, host: Any, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = host
        self.window = parent
        self.typed: dict[PriceKey, FileFunding] = {}
        """The rates typed in this window or saved with the book, by (exchange, symbol)."""
        self.action = QAction("&Funding rate…", parent)
        self.action.setToolTip("Type the selected position's funding rate (offline, or where the exchange gives none)")
        self.action.triggered.connect(lambda *_: self.edit_selected())

    @property
    def _rates(self) -> FundingBook:
        return self.host.session.funding

    def restore(self, typed: Mapping[PriceKey, FileFunding]) -> None:
        """The rates saved with the book, back in the rates book (at start-up, or a saved book opened)."""
        self.typed = dict(typed)
        now = self.host.session.clock()
        if self._rates.publish(typed_rates(self.typed, now), now=now):
            self.host.redraw()  # a new frame now: prices alone would not bring one until the next second

    def edit_selected(self) -> bool:
        """Open the dialog for the selected position's (exchange, symbol); True when a rate was set or removed."""
        from desktop.dialogs.funding_rate_dialog import FundingRateDialog

        indexes = self.host.selected_positions()
        if not indexes:
            self.host.say("Select a position to type its symbol's funding rate.")
            return False
        book = self.host.portfolio.book
        position = book.positions[indexes[0]]
        key = (book.account(position.account).exchange, position.symbol)
        now = self.host.session.clock()
        dialog = FundingRateDialog(key, self._rates.get(key), self.typed.get(key), now, self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted or (dialog.outcome is None and not dialog.removed):
            return False
        self.set_rate(key, dialog.outcome)
        return True

    def set_rate(self, key: PriceKey, entry: FileFunding | None) -> str:
        """Use (entry) or remove (None) the typed rate of key, save it with the book, redraw; returns the status."""
        now = self.host.session.clock()
        if entry is None:
            self.typed.pop(key, None)
            shown = self._rates.withdraw(key, RateSource.TYPED)
            in_use = "none" if shown is None else rate_text(shown, now)
            line = f"{key[1]}: typed funding rate removed; in use: {in_use}"
        else:
            self.typed[key] = entry
            self._rates.publish(typed_rates({key: entry}, now), now=now)
            shown = self._rates.get(key)
            if shown is not None and shown.source is RateSource.EXCHANGE:
                line = f"{key[1]}: typed funding rate kept; the exchange's {rate_text(shown, now)} is used while fresh"
            else:
                line = f"{key[1]}: funding rate {rate_text(shown, now) if shown else ''}"
        line += self._save(key, entry)
        self.host.say(line)
        self.host.redraw()
        return line

    def _save(self, key: PriceKey, entry: FileFunding | None) -> str:
        """'' once saved with the book, else why it is not kept."""
        database = self.host.saved_book()
        if database is None:
            return " (this window's book is not the saved one: the typed rate is not kept)"
        from engine.storage.errors import StorageError

        try:
            database.save_typed_funding({key: entry})
        except StorageError as e:
            return f"; used but not saved: {e}"
        return ""
