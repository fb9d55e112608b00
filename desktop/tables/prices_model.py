"""The prices dock's table: one row per (exchange, symbol) the book needs, its mark with its unit, where it
comes from (LIVE 0.4 s, MANUAL, SIMULATED 0.4 s, STALE 21.0 s, SHOCKED (…)) and the mark after the previewed
shock; a Mark cell takes a typed manual price (parse_price: engine.book.numbers' grammar, above 0, the symbol's
unit allowed) into the store, and refuses anything else in words. desktop.window.prices_panel is the dock over it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit, QStyledItemDelegate, QWidget

from desktop.platform.text_colours import muted_colour, shock_colour
from desktop.tables.position_columns import quoted
from desktop.tables.text_table_model import Index, TextTableModel
from engine.book.numbers import NotANumber, read_number
from engine.margin.model import PriceKey, quote_currency_of
from engine.market.prices import SANE_PRICE_RANGE, MarkRecord, PriceSource, PriceStore, Shock
from engine.monitor.price_labels import price_source

EXCHANGE, SYMBOL, MARK, SOURCE, SHOCKED = range(5)
HEADERS = ("Exchange", "Symbol", "Mark", "Source", "Shocked mark")
NUMERIC = (False, False, True, False, True)

"""Orange: reads on the dark and the light theme, and says 'not the real price' next to the mark."""


class PriceRefused(ValueError):
    """Typed text that is not a usable price; the message says why, in words."""


def parse_price(value: object, symbol: str) -> float:
    """A typed manual price as a float > 0: '61000.5', '61,000.50', '61,000.50 USDT' (the symbol's unit).

    Raises PriceRefused, never anything else, for text that is not a finite number within the sane band
    of engine.market.prices (1e-12 to 1e12, as the feeds and the portfolio file).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        text, number = f"{value}", float(value)
    else:
        text = str(value).strip()
        unit = quote_currency_of(symbol)
        body = text[: -len(unit)].strip() if unit and text.upper().endswith(unit.upper()) else text
        if not text:
            raise PriceRefused(f"{symbol}: type a price, a number greater than 0; the price was not changed.")
        try:
            number = read_number(body, "a price")
        except NotANumber as e:
            raise PriceRefused(f"{symbol}: {e}; type a price greater than 0. The price was not changed.") from None
    if not math.isfinite(number):
        raise PriceRefused(f"{symbol}: '{text}' is not a finite number. The price was not changed.")
    if number <= 0:
        raise PriceRefused(f"{symbol}: a price must be greater than 0 (got {text}). The price was not changed.")
    low, high = SANE_PRICE_RANGE
    if not low <= number <= high:  # what a feed's price and a file's entry price may be, too
        raise PriceRefused(
            f"{symbol}: {text} is outside any market's prices ({low:g} to {high:g}). The price was not changed."
        )
    return number


@dataclass(frozen=True, slots=True)
class PriceRow:
    """What one row shows besides its text."""

    key: PriceKey
    quote: MarkRecord | None
    stale: bool = False
    shocked_mark: float | None = None
    """The mark after the previewed shock; None when the shock does not touch this key (or there is none)."""

    @property
    def manual(self) -> bool:
        return self.quote is not None and self.quote.source is PriceSource.MANUAL


def _render(
    key: PriceKey, quote: MarkRecord | None, now: float, stale_after: float, shock: Shock | None
) -> tuple[list[str], PriceRow]:
    exchange, symbol = key
    shocked = quote is not None and shock is not None and shock.touches(key)
    source, stale = price_source(quote, now, stale_after, shocked)
    shocked_mark = shock.apply({key: quote.mark})[key] if shocked else None
    cells = [
        exchange,
        symbol,
        quoted(quote.mark if quote is not None else None, symbol),
        source,
        "" if shocked_mark is None else quoted(shocked_mark, symbol),
    ]
    return cells, PriceRow(key, quote, stale, shocked_mark)


class PricesModel(TextTableModel):
    """One row per price key; the Mark cell is editable and an accepted edit is a manual price in the store."""

    refused = Signal(str)
    """A typed price was refused: the message says why (the store is untouched)."""
    accepted = Signal(object)
    """A typed price was set as the manual price of this key."""

    def __init__(
        self,
        store: PriceStore,
        keys: Sequence[PriceKey],
        stale_after: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._keys = list(dict.fromkeys(keys))
        self._stale_after = stale_after
        self._clock = clock
        self._shock: Shock | None = None
        cells, self._rows = self._render_all(clock(), None)
        super().__init__(HEADERS, NUMERIC, cells)

    @property
    def keys(self) -> list[PriceKey]:
        return list(self._keys)

    def row_info(self, row: int) -> PriceRow:
        return self._rows[row]

    def _render_all(
        self, now: float, quotes: Mapping[PriceKey, MarkRecord] | None
    ) -> tuple[list[list[str]], list[PriceRow]]:
        quote_of = quotes.get if quotes is not None else self._store.quote
        rendered = [_render(key, quote_of(key), now, self._stale_after, self._shock) for key in self._keys]
        return [cells for cells, _ in rendered], [row for _, row in rendered]

    def refresh(self, now: float | None = None, quotes: Mapping[PriceKey, MarkRecord] | None = None) -> None:
        """Re-read the quotes (`quotes`: a snapshot the caller took, else the store); signal the changed rows."""
        cells, rows = self._render_all(self._clock() if now is None else now, quotes)
        restyled = frozenset(
            i
            for i, (old, new) in enumerate(zip(self._rows, rows, strict=True))
            if (old.stale, old.shocked_mark is None) != (new.stale, new.shocked_mark is None)
        )
        self._rows = rows
        self.replace_cells(cells, restyled)

    def set_keys(self, keys: Sequence[PriceKey]) -> None:
        keys = list(dict.fromkeys(keys))
        if keys == self._keys:
            return
        self.beginResetModel()
        self._keys = keys
        self._cells, self._rows = self._render_all(self._clock(), None)
        self.endResetModel()

    def set_shock(self, shock: Shock | None) -> None:
        self._shock = shock
        self.refresh()

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        return flags | Qt.ItemFlag.ItemIsEditable if index.isValid() and index.column() == MARK else flags

    def look_data(self, row: int, column: int, role: int) -> Any:
        """Stale rows grey and italic; a shocked price's source and shocked mark in the shock's colour."""
        info = self._rows[row]
        if role == Qt.ItemDataRole.ForegroundRole:
            if info.stale:
                return muted_colour(QGuiApplication.palette())
            shocked = info.shocked_mark is not None and column in (SOURCE, SHOCKED)
            return shock_colour(QGuiApplication.palette()) if shocked else None
        if role == Qt.ItemDataRole.FontRole and info.stale:
            return self._italic
        return None

    def extra_data(self, row: int, column: int, role: int) -> Any:
        info = self._rows[row]
        if role == Qt.ItemDataRole.EditRole:
            # Plain text, so the editor is a line edit that can take (and refuse) anything typed.
            return f"{info.quote.mark:.15g}" if column == MARK and info.quote is not None else None
        if role == Qt.ItemDataRole.UserRole:
            if column == MARK:
                return info.quote.mark if info.quote is not None else None
            if column == SHOCKED:
                return info.shocked_mark
            return None
        if role == Qt.ItemDataRole.ToolTipRole and column == MARK:
            return "Type a price to use it instead of the feed's (a manual price) until 'Back to live'."
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.column() != MARK:
            return False
        key = self._keys[index.row()]
        try:
            mark = parse_price(value, key[1])
        except PriceRefused as refusal:
            self.refused.emit(str(refusal))
            return False
        self._store.set_manual(key, mark)
        self.refresh()
        self.accepted.emit(key)
        return True


class MarkDelegate(QStyledItemDelegate):
    """The Mark cell's editor: loaded once, when it opens, so refreshes never replace what the user types;
    and Enter on an untouched price does not turn a live price into a manual one.
    """

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if editor.property("marginwatch_loaded") is not None:
            return
        super().setEditorData(editor, index)
        editor.setProperty("marginwatch_loaded", editor.text() if isinstance(editor, QLineEdit) else "")

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: Index) -> None:
        if isinstance(editor, QLineEdit) and editor.text() == editor.property("marginwatch_loaded"):
            return
        super().setModelData(editor, model, index)
