"""The tables' cell painter: what the trader sees drawn, and what a tick makes the view repaint."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

from desktop.tables.cell_painter import CellPainter
from desktop.tables.position_columns import COLUMNS, LEVEL_BACKGROUND, LIVE_SPANS
from engine.monitor.levels import Level
from tests.desktop.test_window import demo_on_manual_prices

DOGE = ("binanceusdm", "DOGE/USDT:USDT")  # an isolated position in the demo: nothing else follows its price


def _column(title: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.title == title)


def _painted_colour(window, view_row: int, column: int) -> QColor:
    """The colour painted just inside the cell's top-left corner (above the text)."""
    table = window.table
    rect = table.visualRect(table.model().index(view_row, column))
    image = table.viewport().grab().toImage()
    return image.pixelColor(rect.left() + 2, rect.top() + 1)


def _show(qtbot, window):
    window.resize(1400, 700)
    window.show()
    qtbot.waitExposed(window)


def test_a_row_in_warning_is_painted_in_the_warning_colour_and_a_selected_row_in_the_highlight(qtbot):
    portfolio, store, window = demo_on_manual_prices(qtbot)
    _show(qtbot, window)
    doge = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == DOGE[1])
    liquidation = window.model._rows[doge].liquidation_price
    row = window.model.view_row_of(doge)
    symbol = _column("Symbol")
    assert _painted_colour(window, row, symbol) != LEVEL_BACKGROUND[Level.WARNING]

    store.set_manual(DOGE, liquidation / (1 - 0.10))  # 10% from liquidation: warning
    window.refresh()
    assert window.model.levels[doge] is Level.WARNING
    assert _painted_colour(window, row, symbol) == LEVEL_BACKGROUND[Level.WARNING]

    other = 0 if row != 0 else 1
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    window.table.selectionModel().select(window.model.index(other, 0), flags)
    highlight = window.table.palette().color(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight)
    active = window.table.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.Highlight)
    assert _painted_colour(window, other, symbol) in (highlight, active)


def test_text_wider_than_its_column_is_cut_with_an_ellipsis_never_clipped(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    painter = CellPainter(window.model)
    painter.use_font(QFont(), QApplication.style())
    text = "104,250.50 USDT"
    assert painter.fitted(text, False, 2_000) == text
    short = painter.fitted(text, False, 40)
    assert short.endswith("…") and text.startswith(short[:-1]) and len(short) < len(text)
    assert painter.fitted(text, True, 40).endswith("…")  # italic (stale or hypothetical rows) measured as drawn


def test_a_tick_signals_the_cells_that_follow_the_marks_and_a_level_change_the_whole_row(qtbot):
    portfolio, store, window = demo_on_manual_prices(qtbot)
    doge = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == DOGE[1])
    liquidation = window.model._rows[doge].liquidation_price
    signalled: list[tuple[int, int, int, int]] = []
    window.model.dataChanged.connect(lambda a, b, *_: signalled.append((a.row(), b.row(), a.column(), b.column())))
    store.set_manual(DOGE, liquidation / (1 - 0.30))  # still far from liquidation: level unchanged
    window.refresh()
    row = window.model.view_row_of(doge)
    assert {(top, bottom) for top, bottom, *_ in signalled} == {(row, row)}
    columns = {c for *_, first, last in signalled for c in range(first, last + 1)}
    assert columns == {c for first, last in LIVE_SPANS for c in range(first, last + 1)}
    assert _column("Mark") in columns and _column("Symbol") not in columns

    signalled.clear()
    store.set_manual(DOGE, liquidation / (1 - 0.10))  # warning: the whole row takes the colour
    window.refresh()
    assert (row, row, 0, len(COLUMNS) - 1) in signalled


def test_fitting_the_columns_gives_each_the_width_qt_would_give_it(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    _show(qtbot, window)
    for view in (window.accounts, window.table):
        view.itemDelegate().fit_columns(view, 12)
        ours = [view.columnWidth(c) for c in range(view.model().columnCount())]
        view.resizeColumnsToContents()
        assert ours == [view.columnWidth(c) + 12 for c in range(view.model().columnCount())]


def test_growing_the_columns_widens_those_whose_text_no_longer_fits_and_narrows_none(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    _show(qtbot, window)
    view, painter = window.table, window.table.itemDelegate()
    painter.fit_columns(view, 12)
    fitted = [view.columnWidth(c) for c in range(view.model().columnCount())]
    symbol = _column("Symbol")
    view.setColumnWidth(symbol, 30)  # too narrow for "BTC/USDT:USDT"
    view.setColumnWidth(_column("Side"), fitted[_column("Side")] + 50)  # wider than needed
    painter.fit_columns(view, 12, grow_only=True)
    assert view.columnWidth(symbol) == fitted[symbol]
    assert view.columnWidth(_column("Side")) == fitted[_column("Side")] + 50


def test_the_distance_bar_takes_its_rows_level_colour_inside_the_hysteresis_band_too(qtbot):
    from PySide6.QtGui import QImage, QPainter

    from desktop.tables.delegates import BAR_COLOUR, _bar_rect

    portfolio, store, window = demo_on_manual_prices(qtbot)
    _show(qtbot, window)
    doge = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == DOGE[1])
    liquidation = window.model._rows[doge].liquidation_price
    row, column = window.model.view_row_of(doge), _column("To liq.")

    def bar_pixel() -> QColor:
        rect = window.table.visualRect(window.model.index(row, column))
        bar = _bar_rect(rect, 0.02)  # the first pixels of the bar: drawn at any distance above 1%
        return window.table.viewport().grab().toImage().pixelColor(bar.left(), bar.center().y())

    def expected(level: Level) -> QColor:  # the bar's translucent colour over the row's background
        image = QImage(1, 1, QImage.Format.Format_RGB32)
        image.fill(LEVEL_BACKGROUND[level])
        painter = QPainter(image)
        painter.fillRect(0, 0, 1, 1, BAR_COLOUR[level])
        painter.end()
        return image.pixelColor(0, 0)

    store.set_manual(DOGE, liquidation / (1 - 0.10))
    window.refresh()
    assert bar_pixel() == expected(Level.WARNING)
    store.set_manual(DOGE, liquidation / (1 - 0.155))  # above 15%, inside the band: still warning
    window.refresh()
    assert window.model.levels[doge] is Level.WARNING
    assert bar_pixel() == expected(Level.WARNING)
