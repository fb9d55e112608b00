"""Filter the positions by account and by text, select several, copy them as text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QGuiApplication

from desktop.tables.position_columns import COLUMNS, DISTANCE_COLUMN
from engine.margin.live_risk import LiveEvaluator
from tests.desktop.test_window import demo_on_manual_prices
from tests.engine.strategies import books


def _symbols(window) -> list[str]:
    view = window.table.model()
    column = next(i for i, c in enumerate(COLUMNS) if c.title == "Symbol")
    return [view.index(r, column).data() for r in range(view.rowCount())]


def test_filtering_by_account_and_text_keeps_the_order_and_survives_ticks(qtbot):
    portfolio, store, window = demo_on_manual_prices(qtbot)
    everything = _symbols(window)
    window.positions.account_box.setCurrentText("Binance main")
    binance = [p.symbol for p in portfolio.book.positions if p.account == "Binance main"]
    assert sorted(_symbols(window)) == sorted(binance)
    assert _symbols(window) == [s for s in everything if s in binance] or len(set(binance)) < len(binance)
    qtbot.keyClicks(window.positions.search, "btc short")
    assert _symbols(window) == ["BTC/USDT:USDT"]
    assert window.positions.count.text() == f"1 of {len(portfolio.book.positions)}"
    store.set_manual(("binanceusdm", "BTC/USDT:USDT"), 70_000.0)  # a tick does not undo the filter
    window.refresh()
    assert _symbols(window) == ["BTC/USDT:USDT"]
    window.positions.search.clear()
    window.positions.account_box.setCurrentText("All accounts")
    assert len(_symbols(window)) == len(portfolio.book.positions)


def test_sorting_and_filtering_keep_the_selected_position_selected_and_ticks_do_not_reorder(qtbot):
    _, store, window = demo_on_manual_prices(qtbot)
    model = window.model
    doge = next(p for p, r in enumerate(model._rows) if r.position.symbol == "DOGE/USDT:USDT")
    window.table.selectRow(model.view_row_of(doge))
    symbol = next(i for i, c in enumerate(COLUMNS) if c.title == "Symbol")
    window.table.sortByColumn(symbol, Qt.SortOrder.DescendingOrder)
    assert _symbols(window) == sorted(_symbols(window), reverse=True)
    assert window.positions.selected_rows() == [doge]
    qtbot.keyClicks(window.positions.search, "doge")
    assert _symbols(window) == ["DOGE/USDT:USDT"] and window.positions.selected_rows() == [doge]
    window.positions.search.clear()
    assert window.positions.selected_rows() == [doge]  # still selected when the others come back
    window.table.sortByColumn(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)
    order = _symbols(window)
    assert order[-1] != "DOGE/USDT:USDT"
    store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), 0.001)  # past its liquidation: closest of all now
    window.refresh()
    assert _symbols(window) == order  # sorted when asked, not on every tick
    model.sort(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)  # asked again, by the same column: by today's numbers
    assert _symbols(window)[0] == "DOGE/USDT:USDT"


def test_several_rows_are_copied_as_tab_separated_text_with_a_header(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    selection = window.table.selectionModel()
    view = window.table.model()
    for row in (0, 2):
        selection.select(
            view.index(row, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        )
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].split("\t") == [c.title for c in COLUMNS]
    assert len(lines) == 3
    for line, row in zip(lines[1:], (0, 2), strict=True):
        assert line.split("\t") == [view.index(row, c).data() for c in range(len(COLUMNS))]


def test_the_context_menu_offers_copy(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    texts = [a.text().replace("&", "") for a in window.table.actions()]
    assert "Copy rows" in texts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=8))
def test_sort_keys_read_from_the_arrays_are_the_rows_own(case):
    """Sorting by mark, liquidation price or distance reads the vectorised arrays; the order must be the
    one the rows' own keys give (no liquidation price: last, as infinity)."""
    book, prices = case
    risk, _ = LiveEvaluator(book).evaluate(prices)
    for column in (c for c in COLUMNS if c.vector_key is not None):
        from_arrays = column.vector_key(risk.positions.vectors).tolist()
        assert from_arrays == [column.sort_key(r) for r in risk.positions], column.title


def test_an_edited_position_that_no_longer_matches_the_filter_leaves_the_filtered_rows(qtbot):
    import dataclasses

    from engine.book.portfolio import Portfolio
    from engine.margin.model import Side

    portfolio, _, window = demo_on_manual_prices(qtbot)
    qtbot.keyClicks(window.positions.search, "doge long")
    assert _symbols(window) == ["DOGE/USDT:USDT"]
    book = portfolio.book
    positions = tuple(
        dataclasses.replace(p, side=Side.SHORT) if p.symbol == "DOGE/USDT:USDT" else p for p in book.positions
    )
    edited = Portfolio(dataclasses.replace(book, positions=positions), portfolio.prices, portfolio.market_overrides)
    assert window.book_host.apply_portfolio(edited, "Edited DOGE")
    assert _symbols(window) == []  # a short no longer matches "long"
    window.positions.search.clear()
    assert "DOGE/USDT:USDT" in _symbols(window)


def test_the_distance_comes_right_after_the_positions_identity_in_bold():
    titles = [c.title for c in COLUMNS]
    assert titles[:4] == ["Account", "Symbol", "Side", "To liq."] and DISTANCE_COLUMN == 3
    from PySide6.QtGui import QFont

    from desktop.tables.delegates import DistanceBarDelegate

    painter = DistanceBarDelegate(None)
    painter.use_font(QFont(), None)
    assert painter._font.bold() and painter._italic.bold() and painter._italic.italic()


def test_when_ticks_break_the_sorted_order_the_table_says_so_and_re_sorts_on_request(qtbot):
    _, store, window = demo_on_manual_prices(qtbot)
    view = window.positions
    window.table.sortByColumn(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)
    window.refresh()
    assert view.resort_button.isHidden()
    order = _symbols(window)
    assert order[-1] != "DOGE/USDT:USDT"
    store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), 0.001)  # past its liquidation: first by distance now
    window.refresh()
    assert _symbols(window) == order  # not on the tick
    assert not view.resort_button.isHidden()  # but the arrow no longer tells the truth, and the bar says so
    view.resort_button.click()
    assert _symbols(window)[0] == "DOGE/USDT:USDT" and view.resort_button.isHidden()


def test_the_timer_re_sorts_only_when_chosen(qtbot):
    _, store, window = demo_on_manual_prices(qtbot)
    view = window.positions
    window.table.sortByColumn(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)
    store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), 0.001)
    window.refresh()
    assert _symbols(window)[0] != "DOGE/USDT:USDT"
    view.auto_resort.setCurrentIndex(view.auto_resort.findData(5))
    assert view._resort_timer.isActive() and view._resort_timer.interval() == 5_000
    view._resort_timer.timeout.emit()  # five seconds on
    assert _symbols(window)[0] == "DOGE/USDT:USDT"
    view.auto_resort.setCurrentIndex(view.auto_resort.findData(0))
    assert not view._resort_timer.isActive()


def test_columns_can_be_hidden_but_not_the_identity_or_the_distance_and_come_back_by_default(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    view = window.positions
    header = window.table.horizontalHeader()
    menu = view.column_menu()
    actions = {a.text(): a for a in menu.actions() if a.isCheckable()}
    assert [t for t, a in actions.items() if not a.isEnabled()] == ["Account", "Symbol", "Side", "To liq."]
    entry = next(i for i, c in enumerate(COLUMNS) if c.title == "Entry")
    actions["Entry"].setChecked(False)
    assert header.isSectionHidden(entry)
    assert not view.column_menu().actions()[entry].isChecked()  # the menu shows what is hidden
    header.moveSection(header.visualIndex(DISTANCE_COLUMN), 0)
    view.default_columns()
    assert not header.isSectionHidden(entry)
    assert [header.logicalIndex(v) for v in range(len(COLUMNS))] == list(range(len(COLUMNS)))


def test_ctrl_l_goes_to_the_position_closest_to_liquidation_whatever_the_sort(qtbot):
    _, store, window = demo_on_manual_prices(qtbot)
    symbol = next(i for i, c in enumerate(COLUMNS) if c.title == "Symbol")
    window.table.sortByColumn(symbol, Qt.SortOrder.AscendingOrder)
    store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), 0.001)  # past its liquidation: the closest now
    window.refresh()
    window.show()
    qtbot.waitExposed(window)
    assert window.positions.closest_action.shortcut().toString() == "Ctrl+L"
    assert window.positions.closest_action in window.actions()  # a window shortcut, wherever the focus is
    window.positions.closest_action.trigger()
    (position,) = window.positions.selected_rows()
    assert window.model._rows[position].position.symbol == "DOGE/USDT:USDT"
    assert window.table.currentIndex().row() == window.model.view_row_of(position)


def test_ctrl_number_goes_to_a_dock_and_never_hides_it(qtbot):
    from desktop.window.menus import DOCK_SHORTCUTS

    _, _, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitExposed(window)
    docks = window.docks.in_menu_order()
    actions = window.menus.focus_actions
    assert [a.shortcut().toString() for a in actions] == list(DOCK_SHORTCUTS)
    prices = docks[4]
    prices.hide()
    actions[4].trigger()
    assert prices.isVisible()
    actions[4].trigger()  # again: still shown (a toggle hid it)
    assert prices.isVisible()
    assert all(not d.toggleViewAction().shortcut().toString() for d in docks)


def test_standard_shortcuts_stay_standard():
    from PySide6.QtGui import QKeySequence

    from desktop.window.book_actions import BookActions

    assert QKeySequence("Ctrl+W") in QKeySequence.keyBindings(QKeySequence.StandardKey.Close)
    source = __import__("inspect").getsource(BookActions)
    assert '"Ctrl+W"' not in source  # what-if moved to Ctrl+I


def test_a_number_that_outgrows_its_column_widens_it(qtbot):
    from desktop.tables.position_columns import UPNL_COLUMN

    _, _, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitExposed(window)
    window.tables.fit_columns_once()
    window.table.setColumnWidth(UPNL_COLUMN, 30)  # far too narrow for any uPnL
    window.tables.grow_columns()
    row_texts = [window.model.index(r, UPNL_COLUMN).data() for r in range(window.model.rowCount())]
    metrics = window.table.fontMetrics()
    assert window.table.columnWidth(UPNL_COLUMN) > max(metrics.horizontalAdvance(t) for t in row_texts)


def test_a_number_painted_cut_widens_its_column_at_once(qtbot):
    """No timer looks at every cell: painting a number that no longer fits is what widens its column, even
    while cut cells repaint faster than the widening's delay."""
    from desktop.tables.position_columns import UPNL_COLUMN
    from desktop.window.book_tables import GROW_AFTER_MS

    _, _, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitExposed(window)
    window.tables.fit_columns_once()
    qtbot.wait(GROW_AFTER_MS * 2)  # the window settled: laid out and painted
    assert not window.tables.grow_timer.isActive()  # nothing cut: nothing to look at (a 2 s timer looked)
    window.table.setColumnWidth(UPNL_COLUMN, 30)  # far too narrow for any uPnL: painted cut
    window.table.viewport().repaint()
    assert window.tables.grow_timer.isActive()
    repaints = QTimer()
    repaints.timeout.connect(window.table.viewport().repaint)
    repaints.start(GROW_AFTER_MS // 4)
    metrics = window.table.fontMetrics()
    texts = [window.model.index(r, UPNL_COLUMN).data() for r in range(window.model.rowCount())]
    widest = max(metrics.horizontalAdvance(t) for t in texts)
    qtbot.waitUntil(lambda: window.table.columnWidth(UPNL_COLUMN) > widest, timeout=GROW_AFTER_MS * 10)
    repaints.stop()
    qtbot.wait(GROW_AFTER_MS * 2)
    assert not window.tables.grow_timer.isActive()  # nothing cut any more: nothing scheduled
