"""The positions' identity (account, symbol, side) stays in view when the table scrolls right."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QApplication

from desktop.app import MainWindow, manual_store
from desktop.tables.position_columns import (
    ACCOUNT_COLUMN,
    COLUMNS,
    DISTANCE_COLUMN,
    LIVE_SPANS,
    SIDE_COLUMN,
    SYMBOL_COLUMN,
)
from engine.book.portfolio import parse_portfolio
from tests.benchmarks.bench_gui import build_document
from tests.desktop.event_counter import EventCounter
from tests.desktop.test_window import demo_on_manual_prices

IDENTITY = (ACCOUNT_COLUMN, SYMBOL_COLUMN, SIDE_COLUMN)


def shown_window(qtbot, width: int = 900):
    _, store, window = demo_on_manual_prices(qtbot)
    window.resize(width, 700)
    window.show()
    qtbot.waitExposed(window)
    window.tables.fit_columns_once()
    return store, window


def test_the_identity_stays_over_the_left_edge_when_the_table_scrolls_right(qtbot):
    _, window = shown_window(qtbot)
    frozen, table = window.tables.frozen, window.table
    assert frozen.isVisible()
    assert [c for c in range(len(COLUMNS)) if not frozen.isColumnHidden(c)] == list(IDENTITY)
    assert frozen.width() == sum(table.columnWidth(c) for c in IDENTITY)
    bar = table.horizontalScrollBar()
    assert bar.maximum() > 0  # 900 px: the table is wider than its view
    left = frozen.geometry().left()
    bar.setValue(bar.maximum())
    assert table.columnViewportPosition(SYMBOL_COLUMN) < 0  # the table's own Symbol cells scrolled away...
    assert frozen.geometry().left() == left and frozen.columnViewportPosition(SYMBOL_COLUMN) >= 0  # ...not these
    row = window.model.rowCount() - 1
    table.verticalScrollBar().setValue(table.verticalScrollBar().maximum())
    assert frozen.verticalScrollBar().value() == table.verticalScrollBar().value()
    assert frozen.model() is table.model() and frozen.selectionModel() is table.selectionModel()
    table.selectRow(row)
    assert frozen.selectionModel().isRowSelected(row)


def test_a_column_dragged_before_the_identity_goes_back_after_it(qtbot):
    _, window = shown_window(qtbot)
    header = window.table.horizontalHeader()
    header.moveSection(header.visualIndex(DISTANCE_COLUMN), 0)  # as a drag would
    assert [header.logicalIndex(v) for v in range(3)] == list(IDENTITY)
    header.moveSection(header.visualIndex(SYMBOL_COLUMN), len(COLUMNS) - 1)
    assert [header.logicalIndex(v) for v in range(3)] == list(IDENTITY)
    assert header.logicalIndex(3) == DISTANCE_COLUMN  # the other move stands: after the identity


def test_a_click_on_the_frozen_header_sorts_the_table(qtbot):
    _, window = shown_window(qtbot)
    frozen = window.tables.frozen
    frozen.horizontalHeader().sectionClicked.emit(SYMBOL_COLUMN)
    symbols = [window.model.index(r, SYMBOL_COLUMN).data() for r in range(window.model.rowCount())]
    assert symbols == sorted(symbols)
    header = window.table.horizontalHeader()
    assert header.sortIndicatorSection() == SYMBOL_COLUMN
    assert frozen.horizontalHeader().sortIndicatorSection() == SYMBOL_COLUMN
    frozen.horizontalHeader().sectionClicked.emit(SYMBOL_COLUMN)  # again: descending
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder


def test_a_tick_repaints_the_live_cells_not_the_frozen_identity_which_a_whole_row_change_repaints(qtbot):
    portfolio = parse_portfolio(build_document())  # 1,000 rows: a tick's runs of rows reach past the screen
    window = MainWindow(portfolio, "1,000 positions", manual_store(portfolio))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    model, frozen = window.model, window.tables.frozen
    window.pacer.stop()  # no refresh in between: only the signals below change the table
    window.repaint()
    QApplication.processEvents()  # whatever was pending is painted now
    table_paints = EventCounter(window.table.viewport(), QEvent.Type.Paint)
    frozen_paints = EventCounter(frozen.viewport(), QEvent.Type.Paint)
    model.signal_rows(range(model.rowCount()), LIVE_SPANS)  # a tick that moved every mark: the live cells
    qtbot.waitUntil(lambda: table_paints.count > 0)
    assert frozen_paints.count == 0  # the identity did not change: its cells are not painted again
    model.signal_rows(range(model.rowCount()))  # whole rows (a level, a stale price): the identity too
    qtbot.waitUntil(lambda: frozen_paints.count > 0)
