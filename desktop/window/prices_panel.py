"""The prices dock: each mark with its source, typed manual prices, and a shock preview.

One row per (exchange, symbol) the book needs: the mark with its unit, where it comes from (LIVE 0.4 s,
MANUAL, SIMULATED 0.4 s, STALE 21.0 s, SHOCKED (…)), and the mark after the previewed shock. Typing a
number into a Mark cell makes it a manual price in the store until "Back to live"; anything that is not
a price above 0 is refused in words and the store is left alone. The shock is only a preview: the panel
emits it and the window applies it to the marks it evaluates; nothing here writes it anywhere. The table
(its model, its rows and the Mark cell's editor) is desktop.tables.prices_model's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

from PySide6.QtCore import QItemSelection, QModelIndex, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.platform.text_colours import problem_style
from desktop.tables.position_columns import LEVEL_BACKGROUND
from desktop.tables.prices_model import (
    MARK,
    SHOCKED,
    SOURCE,
    SYMBOL,
    MarkDelegate,
    PriceRefused,
    PricesModel,
    parse_price,
)
from engine.margin.model import PriceKey
from engine.market.prices import MarkRecord, PriceStore, Shock
from engine.monitor.levels import Level

__all__ = [
    "MARK",
    "SHOCKED",
    "SOURCE",
    "SYMBOL",
    "PriceRefused",
    "PricesModel",
    "PricesPanel",
    "parse_price",
]

MAX_SHOCK_PERCENT = 50
"""The slider's reach (whole percents either way); the spin box takes any shock the engine can apply."""
TYPED_SHOCK_RANGE = (-99.99, 1000.0)
"""What the spin box takes, in percent: any fall short of a price of 0 (engine.market.prices.Shock refuses
-100%), any rise to 11 times the mark. It was the slider's +/-50: typing 99 left 9 (the 9 that fitted)."""
SCOPE_ALL = "All symbols"
SCOPE_SELECTED = "Selected symbol"

BANNER_STYLE = f"background: {LEVEL_BACKGROUND[Level.WARNING].name()}; color: #1b1d21; padding: 4px;"


def percent_text(percent: float) -> str:
    """'-10.0%', '+2.5%', '-10.25%': one decimal unless the second one says something."""
    two = f"{percent:+.2f}"
    return f"{percent:+.1f}%" if two.endswith("0") else f"{two}%"


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
        self.view = self._build_view()

        self.banner = QLabel()
        self.banner.setObjectName("shock-banner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.message = QLabel()
        self.message.setObjectName("price-problem")
        self.message.setStyleSheet(problem_style())
        self.message.setWordWrap(True)
        self.message.hide()

        self.back_to_live = QAction("Back to live", self)
        self.back_to_live.setToolTip("Drop the manual price of the selected symbols and use the feed's again")
        self.view.addAction(self.back_to_live)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.back_button = QToolButton()
        self.back_button.setDefaultAction(self.back_to_live)

        self._build_shock_controls()
        self._lay_out()
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

    def _lay_out(self) -> None:
        """The banner over the table, the problem line, Back to live, the shock controls."""
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

    def _build_view(self) -> QTableView:
        """The table over the model, the Mark column edited by MarkDelegate, columns fitted once."""
        view = QTableView()
        view.setObjectName("prices")
        view.setModel(self.model)
        view.setItemDelegateForColumn(MARK, MarkDelegate(view))
        view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        view.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        view.verticalHeader().setVisible(False)
        view.setWordWrap(False)
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        view.horizontalHeader().setStretchLastSection(True)
        # Fitted once, here; a window that restores its saved header state overrides this.
        view.resizeColumnsToContents()
        widest_source = view.fontMetrics().horizontalAdvance("SHOCKED (SIMULATED 59.9 s)") + 16
        view.setColumnWidth(SOURCE, max(view.columnWidth(SOURCE), widest_source))
        return view

    def _build_shock_controls(self) -> None:
        """The shock's scope, slider (whole percents), spin box (to 0.01%) and Reset."""
        self.scope = QComboBox()
        self.scope.addItems([SCOPE_ALL, SCOPE_SELECTED])
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(-MAX_SHOCK_PERCENT, MAX_SHOCK_PERCENT)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(5)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setTickInterval(10)
        self.spin = QDoubleSpinBox()
        self.spin.setRange(*TYPED_SHOCK_RANGE)
        self.spin.setToolTip("Type any move from -99.99% to +1,000%; the slider reaches ±50%")
        self.spin.setDecimals(2)
        self.spin.setSingleStep(0.1)
        self.spin.setSuffix(" %")
        # A typed value applies on Enter or leaving the field, not at each keystroke ("-", "-1", "-10").
        self.spin.setKeyboardTracking(False)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("No shock: back to the marks as they are")

    # -- the window's side ------------------------------------------------------------------------

    def set_keys(self, keys: Sequence[PriceKey]) -> None:
        """The book's price keys changed (a position added or removed): rows are rebuilt, selection cleared."""
        self.model.set_keys(keys)

    @Slot()
    def refresh(self, now: float | None = None, quotes: Mapping[PriceKey, MarkRecord] | None = None) -> None:
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
