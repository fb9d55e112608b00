"""The prices dock: each mark with its source, typed manual prices, and a shock preview.

One row per (exchange, symbol) the book needs: the mark with its unit, where it comes from (LIVE 0.4 s,
MANUAL, SIMULATED 0.4 s, STALE 21.0 s, SHOCKED (…)), and the mark after the previewed shock. Typing a
number into a Mark cell makes it a manual price in the store until "Back to live"; anything that is not
a price above 0 is refused in words and the store is left alone. The shock is only a preview: the panel
emits it and the window applies it to the marks it evaluates; nothing here writes it anywhere.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QItemSelection, QModelIndex, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QStyledItemDelegate,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.typed_numbers import PROBLEM_STYLE
from desktop.tables.positions_model import LEVEL_BACKGROUND, STALE_FOREGROUND, quoted
from desktop.tables.text_table_model import Index, TextTableModel
from engine.book.numbers import NotANumber, read_number
from engine.margin.model import PriceKey, quote_currency_of
from engine.market.prices import PriceSource, PriceStore, Quote, Shock
from engine.monitor.levels import Level
from engine.monitor.price_labels import price_source

EXCHANGE, SYMBOL, MARK, SOURCE, SHOCKED = range(5)
HEADERS = ("Exchange", "Symbol", "Mark", "Source", "Shocked mark")
NUMERIC = (False, False, True, False, True)

MAX_SHOCK_PERCENT = 50
SCOPE_ALL = "All symbols"
SCOPE_SELECTED = "Selected symbol"

BANNER_STYLE = f"background: {LEVEL_BACKGROUND[Level.WARNING].name()}; color: #1b1d21; padding: 4px;"
SHOCKED_FOREGROUND = QColor(230, 126, 34)
"""Orange: reads on the dark and the light theme, and says 'not the real price' next to the mark."""


class PriceRefused(ValueError):
    """Typed text that is not a usable price; the message says why, in words."""


def parse_price(value: object, symbol: str) -> float:
    """A typed manual price as a float > 0: '61000.5', '61,000.50', '61,000.50 USDT' (the symbol's unit).

    Raises PriceRefused, never anything else, for text that is not a finite number above 0.
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
    return number


def percent_text(percent: float) -> str:
    """'-10.0%', '+2.5%', '-10.25%': one decimal unless the second one says something."""
    two = f"{percent:+.2f}"
    return f"{percent:+.1f}%" if two.endswith("0") else f"{two}%"


@dataclass(frozen=True, slots=True)
class PriceRow:
    """What one row shows besides its text."""

    key: PriceKey
    quote: Quote | None
    stale: bool = False
    shocked_mark: float | None = None
    """The mark after the previewed shock; None when the shock does not touch this key (or there is none)."""

    @property
    def manual(self) -> bool:
        return self.quote is not None and self.quote.source is PriceSource.MANUAL


def _render(
    key: PriceKey, quote: Quote | None, now: float, stale_after: float, shock: Shock | None
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
        self, now: float, quotes: Mapping[PriceKey, Quote] | None
    ) -> tuple[list[list[str]], list[PriceRow]]:
        quote_of = quotes.get if quotes is not None else self._store.quote
        rendered = [_render(key, quote_of(key), now, self._stale_after, self._shock) for key in self._keys]
        return [cells for cells, _ in rendered], [row for _, row in rendered]

    def refresh(self, now: float | None = None, quotes: Mapping[PriceKey, Quote] | None = None) -> None:
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
                return STALE_FOREGROUND
            return SHOCKED_FOREGROUND if info.shocked_mark is not None and column in (SOURCE, SHOCKED) else None
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


class PricesPanel(QWidget):
    """The prices dock: marks and their sources, typed manual prices, Back to live, and the shock preview."""

    shock_changed = Signal(object)
    """The previewed Shock (engine.market.prices.Shock), or None when there is none."""
    manual_changed = Signal(list)
    """Keys whose manual price was set or cleared from this panel (the window may recompute at once)."""

    def __init__(
        self,
        store: PriceStore,
        keys: Sequence[PriceKey],
        stale_after: float = 15.0,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self._shock: Shock | None = None

        self.model = PricesModel(store, keys, stale_after, clock)
        self.model.setParent(self)
        self.view = QTableView()
        self.view.setObjectName("prices")
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(MARK, MarkDelegate(self.view))
        self.view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.view.verticalHeader().setVisible(False)
        self.view.setWordWrap(False)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        # Fitted once, here; a window that restores its saved header state overrides this.
        self.view.resizeColumnsToContents()
        widest_source = self.view.fontMetrics().horizontalAdvance("SHOCKED (SIMULATED 59.9 s)") + 16
        self.view.setColumnWidth(SOURCE, max(self.view.columnWidth(SOURCE), widest_source))

        self.banner = QLabel()
        self.banner.setObjectName("shock-banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.message = QLabel()
        self.message.setObjectName("price-problem")
        self.message.setStyleSheet(PROBLEM_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()

        self.back_to_live = QAction("Back to live", self)
        self.back_to_live.setToolTip("Drop the manual price of the selected symbols and use the feed's again")
        self.view.addAction(self.back_to_live)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.back_button = QToolButton()
        self.back_button.setDefaultAction(self.back_to_live)

        self.scope = QComboBox()
        self.scope.addItems([SCOPE_ALL, SCOPE_SELECTED])
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-MAX_SHOCK_PERCENT, MAX_SHOCK_PERCENT)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(5)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(10)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(-MAX_SHOCK_PERCENT, MAX_SHOCK_PERCENT)
        self.spin.setDecimals(2)
        self.spin.setSingleStep(0.1)
        self.spin.setSuffix(" %")
        # A typed value applies on Enter or leaving the field, not at each keystroke ("-", "-1", "-10").
        self.spin.setKeyboardTracking(False)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("No shock: back to the marks as they are")

        actions = QHBoxLayout()
        actions.addWidget(self.back_button)
        actions.addStretch(1)
        shock = QHBoxLayout()
        shock.addWidget(QLabel("Shock"))
        shock.addWidget(self.scope)
        shock.addWidget(self.slider, 1)
        shock.addWidget(self.spin)
        shock.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.banner)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        layout.addLayout(shock)

        self.model.refused.connect(self._show_problem)
        self.model.accepted.connect(self._accepted)
        self.model.modelReset.connect(self._selection_changed)
        self.view.selectionModel().selectionChanged.connect(self._selection_changed)
        self.view.selectionModel().currentRowChanged.connect(self._current_changed)
        self.back_to_live.triggered.connect(self.clear_selected_manual)
        self.slider.valueChanged.connect(self._slider_moved)
        self.spin.valueChanged.connect(self._spin_changed)
        self.scope.currentIndexChanged.connect(self._update_shock)
        self.reset_button.clicked.connect(self.reset_shock)
        self._update_actions()

    # -- the window's side ------------------------------------------------------------------------

    def set_keys(self, keys: Sequence[PriceKey]) -> None:
        """The book's price keys changed (a position added or removed): rows are rebuilt, selection cleared."""
        self.model.set_keys(keys)

    @Slot()
    def refresh(self, now: float | None = None, quotes: Mapping[PriceKey, Quote] | None = None) -> None:
        """Re-read the quotes of the panel's keys; only changed rows are redrawn. Cheap enough for 10 Hz.

        quotes: a snapshot the caller already holds (PriceReader.read().quotes), to skip the store's lock.
        """
        self.model.refresh(now, quotes)
        self._update_actions()

    def shock(self) -> Shock | None:
        return self._shock

    def selected_keys(self) -> list[PriceKey]:
        rows = sorted({index.row() for index in self.view.selectionModel().selectedIndexes()})
        return [self.model.keys[row] for row in rows]

    def selected_key(self) -> PriceKey | None:
        """The selected symbol: the current row when it is selected, else the first selected row."""
        current = self.view.currentIndex()
        if current.isValid() and self.view.selectionModel().isRowSelected(current.row(), QModelIndex()):
            return self.model.keys[current.row()]
        keys = self.selected_keys()
        return keys[0] if keys else None

    # -- manual prices ----------------------------------------------------------------------------

    @Slot()
    def clear_selected_manual(self) -> None:
        keys = [self.model.keys[row] for row in self._selected_rows() if self.model.row_info(row).manual]
        if not keys:
            return
        self.store.clear_manual(keys)
        self._show_problem("")
        self.refresh()
        self.manual_changed.emit(keys)

    def _selected_rows(self) -> list[int]:
        return sorted({index.row() for index in self.view.selectionModel().selectedIndexes()})

    @Slot(str)
    def _show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    @Slot(object)
    def _accepted(self, key: PriceKey) -> None:
        self._show_problem("")
        self._update_actions()
        self.manual_changed.emit([key])

    def _update_actions(self) -> None:
        enabled = any(self.model.row_info(row).manual for row in self._selected_rows())
        if enabled != self.back_to_live.isEnabled():
            self.back_to_live.setEnabled(enabled)

    @Slot()
    def _selection_changed(self, *_: QItemSelection) -> None:
        self._update_actions()
        if self.scope.currentText() == SCOPE_SELECTED:
            self._update_shock()

    @Slot()
    def _current_changed(self, *_: QModelIndex) -> None:
        if self.scope.currentText() == SCOPE_SELECTED:
            self._update_shock()

    # -- shock ------------------------------------------------------------------------------------

    @Slot()
    def reset_shock(self) -> None:
        self.spin.setValue(0.0)

    @Slot(int)
    def _slider_moved(self, value: int) -> None:
        if round(self.spin.value()) != value:
            self.spin.setValue(value)  # the spin box's signal updates the shock

    @Slot(float)
    def _spin_changed(self, value: float) -> None:
        with QSignalBlocker(self.slider):
            self.slider.setValue(round(value))
        self._update_shock()

    @Slot()
    def _update_shock(self, *_: object) -> None:
        percent = self.spin.value()
        fraction = round(percent / 100, 6)
        shock = None
        banner = ""
        if fraction != 0:
            if self.scope.currentText() == SCOPE_ALL:
                shock = Shock(all_symbols=fraction)
                banner = f"Preview: all marks {percent_text(percent)} — nothing is saved"
            elif (key := self.selected_key()) is not None:
                shock = Shock(per_key={key: fraction})
                banner = f"Preview: {key[1]} on {key[0]} {percent_text(percent)} — nothing is saved"
            else:
                banner = f"Select a symbol to preview a {percent_text(percent)} move on it"
        self.banner.setText(banner)
        self.banner.setVisible(bool(banner))
        if shock != self._shock:
            self._shock = shock
            self.model.set_shock(shock)
            self.shock_changed.emit(shock)
