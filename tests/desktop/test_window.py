"""The window shows the demo book with the engine's numbers, closest to liquidation first."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from PySide6.QtCore import Qt

from desktop.app import MainWindow, demo_portfolio
from desktop.tables.position_columns import COLUMNS, quoted
from desktop.tables.positions_model import PositionsModel
from engine.margin.model import Side
from engine.margin.risk import evaluate_book
from engine.monitor.report import percent, price


def _column(title: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.title == title)


def demo_on_manual_prices(qtbot):
    """The demo book in a window whose prices the test sets by hand (manual prices in a store)."""
    from engine.market.prices import PriceStore

    portfolio = demo_portfolio()
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "demo book", store)
    qtbot.addWidget(window)
    return portfolio, store, window


def test_positions_model_passes_qt_model_tester(qtmodeltester):
    portfolio = demo_portfolio()
    model = PositionsModel(evaluate_book(portfolio.book, portfolio.price_map()))
    qtmodeltester.check(model, force_py=True)
    # The model sorts and filters itself: the tester stays attached through both.
    model.sort(_column("Symbol"), Qt.SortOrder.DescendingOrder)
    model.set_filter("Binance main", ["usdt"])
    assert 0 < model.rowCount() < model.total
    model.set_filter("", [])
    assert model.rowCount() == model.total
    # An edited position that leaves the filter leaves the rows (a layout change the tester checks).
    model.set_filter("", ["long"])
    longs = model.rowCount()
    book = portfolio.book
    first = book.positions[0]
    flipped = dataclasses.replace(first, side=Side.SHORT if first.side is Side.LONG else Side.LONG)
    edited = dataclasses.replace(book, positions=(flipped, *book.positions[1:]))
    model.set_risk(evaluate_book(edited, portfolio.price_map()))
    assert model.rowCount() == longs + (1 if flipped.side is Side.LONG else -1)


def test_demo_window_lists_positions_closest_to_liquidation_first(qtbot):
    portfolio = demo_portfolio()
    window = MainWindow(portfolio, "demo book")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    expected = sorted(risk.positions, key=lambda r: r.distance_to_liquidation)
    view = window.table.model()
    shown = [view.index(row, _column("To liq.")).data() for row in range(view.rowCount())]
    assert shown == [percent(r.distance_to_liquidation) for r in expected]
    liq = [view.index(row, _column("Liq. price")).data() for row in range(view.rowCount())]
    assert liq == [quoted(r.liquidation_price, r.position.symbol) for r in expected]
    assert all(text == "none" or text.endswith((" USDT", " USD", " USDC")) for text in liq)  # prices carry their unit
    hypothetical_rows = [
        row for row in range(view.rowCount()) if "hypothetical" in view.index(row, _column("What-if")).data()
    ]
    assert len(hypothetical_rows) == sum(p.hypothetical for p in portfolio.book.positions)
    assert view.index(hypothetical_rows[0], 0).data(Qt.ItemDataRole.FontRole).italic()


def _text(view, row: int, title: str) -> str:
    return view.model().index(row, _column(title)).data()


def test_demo_runs_on_the_simulated_feed_and_closing_stops_it(qtbot, tmp_path):
    from desktop.app import WindowOptions, build_window

    window = build_window(WindowOptions(demo=True, data_dir=str(tmp_path)))
    qtbot.addWidget(window)
    window.show()
    first = [_text(window.table, r, "Mark") for r in range(window.table.model().rowCount())]
    qtbot.waitUntil(
        lambda: [_text(window.table, r, "Mark") for r in range(window.table.model().rowCount())] != first, timeout=5_000
    )
    assert "simulated" in window.status.text()
    window.close()
    assert all(not f._thread.is_alive() for f in window.sources.feeds)


def test_a_price_change_signals_only_the_rows_it_moves(qtbot):

    portfolio, store, window = demo_on_manual_prices(qtbot)
    changed_rows: set[int] = set()
    window.model.dataChanged.connect(lambda a, b: changed_rows.update(range(a.row(), b.row() + 1)))
    doge = ("binanceusdm", "DOGE/USDT:USDT")  # an isolated position: nothing else depends on its price
    store.set_manual(doge, 0.150)
    window.refresh()
    doge_rows = {
        window.model.view_row_of(i) for i, p in enumerate(portfolio.book.positions) if p.symbol == "DOGE/USDT:USDT"
    }
    assert changed_rows == doge_rows  # view rows: where the table shows the DOGE position
    row = next(iter(doge_rows))
    assert window.model.index(row, _column("Mark")).data() == f"{price(0.150)} USDT"
    assert window.model.index(row, _column("Symbol")).data() == "DOGE/USDT:USDT"


def test_saved_book_and_layout_come_back_after_a_restart(qtbot, tmp_path):
    from desktop.app import WindowOptions, build_window
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    first = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(first)
    first.show()
    assert first.table.model().rowCount() == len(demo_portfolio().book.positions)
    first.table.sortByColumn(_column("Symbol"), Qt.SortOrder.DescendingOrder)
    first.resize(780, 580)  # within the offscreen screen (800x600): restoreGeometry fits windows to it
    first.table.setColumnWidth(_column("Account"), 217)
    first.close()

    second = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(second)
    second.show()
    header = second.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        _column("Symbol"),
        Qt.SortOrder.DescendingOrder,
    )
    assert second.table.columnWidth(_column("Account")) == 217
    assert (second.width(), second.height()) == (780, 580)
    assert second.table.model().rowCount() == len(demo_portfolio().book.positions)
    second.close()


def test_an_empty_saved_book_says_what_to_do(qtbot, tmp_path):
    from desktop.app import WindowOptions, build_window

    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    assert "marginwatch import FILE" in window.status.text()
    window.close()


def test_the_saved_book_window_records_history_off_the_gui_thread(qtbot, tmp_path):
    from desktop.app import WindowOptions, build_window
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    window.store.set_manual(("binanceusdm", "BTC/USDT:USDT"), 90_000.0)
    window.refresh()
    assert window.history.flush(5)
    window.close()
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        assert db.history("mark:binanceusdm:BTC/USDT:USDT")[-1][1] == 90_000.0
        stored = db.history("equity:Binance main")
        assert stored
    # The next start's account chart begins with the stored day.
    again = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(again)
    times, equity = again.session.history.equity["Binance main"].series()
    assert (list(times[: len(stored)]), list(equity[: len(stored)])) == ([t for t, _ in stored], [v for _, v in stored])
    again.close()


def test_crossing_a_threshold_colours_the_row_and_hovering_does_not_flicker(qtbot):
    from desktop.tables.position_columns import LEVEL_BACKGROUND
    from engine.monitor.levels import Level

    portfolio, store, window = demo_on_manual_prices(qtbot)
    row = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == "DOGE/USDT:USDT")
    liquidation = window.model._rows[row].liquidation_price  # isolated: fixed while the mark moves

    def at_distance(distance: float) -> tuple[Level, object]:
        store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), liquidation / (1 - distance))
        window.refresh()
        return window.model.levels[row], window.model.view_index(row, 0).data(Qt.ItemDataRole.BackgroundRole)

    assert at_distance(0.20) == (Level.OK, None)
    assert at_distance(0.14) == (Level.WARNING, LEVEL_BACKGROUND[Level.WARNING])
    assert at_distance(0.155)[0] is Level.WARNING  # inside the 1-point band: no flicker back to ok
    assert at_distance(0.145)[0] is Level.WARNING
    assert at_distance(0.17) == (Level.OK, None)  # recovered past 15% + 1%
    assert at_distance(0.03) == (Level.DANGER, LEVEL_BACKGROUND[Level.DANGER])
    assert at_distance(-0.01)[0] is Level.LIQUIDATED


def test_the_account_table_shows_the_uniform_move_to_liquidation_once_the_window_is_up(qtbot):
    from desktop.tables.accounts_model import COLUMNS as ACCOUNT_COLUMNS
    from desktop.tables.accounts_model import SEARCHING
    from engine.margin.stress import uniform_move_to_liquidation

    portfolio = demo_portfolio()
    window = MainWindow(portfolio, "demo book")
    qtbot.addWidget(window)
    column = next(i for i, (title, _) in enumerate(ACCOUNT_COLUMNS) if title == "All cross marks move")
    assert window.accounts_model.index(0, column).data() == SEARCHING  # searched after the first paint
    window.show()
    qtbot.waitUntil(lambda: window.accounts_model.index(0, column).data() != SEARCHING)
    painter = window.accounts.itemDelegate()  # the column, fitted to "searching…", made room for the moves
    room = window.accounts.columnWidth(column) - 2 * painter._margin
    for row in range(window.accounts_model.rowCount()):
        text = window.accounts_model.index(row, column).data()
        assert painter.fitted(text, False, room) == text  # whole, not cut with "…"
    for row, account in enumerate(portfolio.book.accounts):
        move = uniform_move_to_liquidation(portfolio.book, portfolio.price_map(), account.name)
        text = window.accounts_model.index(row, column).data()
        assert text == ("none" if move is None else f"{move * 100:+.1f}% to liquidation")
    binance = window.accounts_model.index(0, column).data()
    assert binance.startswith("-") and binance.endswith("% to liquidation")


def test_the_move_to_liquidation_follows_the_prices_in_an_event_after_the_refresh(qtbot, monkeypatch):
    from desktop.tables.accounts_model import COLUMNS as ACCOUNT_COLUMNS
    from engine.margin.stress import uniform_move_to_liquidation

    _, store, window = demo_on_manual_prices(qtbot)
    column = next(i for i, (title, _) in enumerate(ACCOUNT_COLUMNS) if title == "All cross marks move")
    window.show()  # the first search, once the window is up
    qtbot.waitUntil(lambda: window.accounts_model.index(0, column).data().endswith("% to liquidation"))
    before = window.accounts_model.index(0, column).data()
    monkeypatch.setattr("desktop.window.chart_views.LADDER_EVERY_S", 0.0)  # due on every refresh
    store.set_manual(("binanceusdm", "BTC/USDT:USDT"), 80_000.0)  # Binance main's cross BTC long falls
    window.refresh()
    assert window.accounts_model.index(0, column).data() == before  # not in the refresh itself
    marks = window.book_host.real_marks()
    move = uniform_move_to_liquidation(window.book, marks, "Binance main")
    qtbot.waitUntil(lambda: window.accounts_model.index(0, column).data() == f"{move * 100:+.1f}% to liquidation")
    assert window.accounts_model.index(0, column).data() != before


def test_a_crossing_adds_one_alert_and_hovering_adds_none(qtbot):
    from engine.monitor.levels import Level

    portfolio, store, window = demo_on_manual_prices(qtbot)
    at_start = len(window.alerts)  # levels are evaluated at start-up: the demo's real book starts with warnings
    assert at_start == sum(level is Level.WARNING for level in window.levels.levels.values()) > 0
    row = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == "DOGE/USDT:USDT")
    liquidation = window.model._rows[row].liquidation_price

    def move_to(distance: float) -> None:
        store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), liquidation / (1 - distance))
        window.refresh()

    move_to(0.14)
    assert len(window.alerts) == at_start + 1
    assert window.alerts[-1].new is Level.WARNING and "DOGE/USDT:USDT" in window.alerts[-1].subject
    for distance in (0.155, 0.145, 0.152, 0.141):
        move_to(distance)
    assert len(window.alerts) == at_start + 1
    move_to(0.03)
    assert window.alerts[-1].new is Level.DANGER
    assert window.alert_list.count() == len(window.alerts)
    assert "DOGE/USDT:USDT" in window.alert_list.item(0).text()  # newest on top


def test_the_alerts_dock_counts_its_rows_and_hears_once_per_frame(qtbot):
    """The dock's title counts the rows after the first frame's alerts and after a frame with several new ones,
    told once per frame (150 alerts at a big book's start retitled the dock 150 times)."""
    from engine.margin.model import Side

    portfolio, store, window = demo_on_manual_prices(qtbot)
    assert window.alert_list.count() > 1  # the demo's real book starts with warnings
    assert window.alerts_dock.windowTitle() == f"Alerts ({window.alert_list.count()})"
    told: list[int] = []
    window.alert_list.rows_changed.connect(told.append)
    rows = window.model._rows
    longs = {}
    for i, p in enumerate(portfolio.book.positions):
        if p.side is Side.LONG and rows[i].liquidation_price and p.symbol not in longs:
            longs[p.symbol] = i
    assert len(longs) >= 2
    before = window.alert_list.count()
    for symbol, i in longs.items():
        key = (portfolio.book.account(portfolio.book.positions[i].account).exchange, symbol)
        store.set_manual(key, rows[i].liquidation_price / (1 - 0.02))  # 2% from liquidation: danger
    window.refresh()
    assert window.alert_list.count() >= before + 2
    assert told == [window.alert_list.count()]
    assert window.alerts_dock.windowTitle() == f"Alerts ({window.alert_list.count()})"


def test_alerts_are_stored_with_the_saved_book(qtbot, tmp_path):
    from desktop.app import WindowOptions, build_window
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    assert window.alerts
    assert window.history.flush(5)
    window.close()
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        stored = db.alerts()
    assert len(stored) == len(window.alerts)
    assert {a["new"] for a in stored} == {a.new.label for a in window.alerts}


def test_the_risk_ladder_shows_the_selected_accounts_equity_and_liquidation_points(qtbot):
    from engine.margin.stress import equity_ladder, uniform_move_to_liquidation

    portfolio = demo_portfolio()
    window = MainWindow(portfolio, "demo book")
    qtbot.addWidget(window)
    window.show()
    assert not window.ladder_dock.built  # behind the Position tab: not built, not drawn, until it is shown
    window.ladder_dock.raise_()
    qtbot.waitUntil(lambda: window.ladder_dock.on_screen)
    curve = window.ladder.curve
    xs, ys = curve.getData()
    expected = equity_ladder(portfolio.book, portfolio.price_map(), "Binance main", [x / 100 for x in xs])
    assert list(ys) == pytest.approx(expected, rel=1e-12)
    cross = uniform_move_to_liquidation(portfolio.book, portfolio.price_map(), "Binance main")
    assert any(abs(x - cross * 100) < 1e-9 for x in window.ladder.marker_positions)
    # Binance main holds two isolated positions (SOL short, DOGE long): one marker each, plus the cross one.
    assert len(window.ladder.marker_positions) == 3
    window.accounts.selectRow(2)  # Bybit swing
    assert window.ladder.account == "Bybit swing"
    assert window.ladder.curve is curve  # updated in place, no new plot items
    # Drawn with the demo's hypothetical BTC long in Bybit swing: a what-if, and the title says so.
    assert window.ladder_dock.windowTitle() == "Risk ladder: Bybit swing (what-if)"


def test_the_risk_ladder_shows_the_liquidation_level_now_and_each_marks_price_on_hover(qtbot):
    """The liquidation level meets the equity curve at the cross liquidation marker; 'now' is at no move; a
    legend names both curves; hovering reads each symbol's mark at that move."""
    from PySide6.QtCore import QPointF

    from engine.margin.stress import account_ladder, uniform_move_to_liquidation

    portfolio = demo_portfolio()
    window = MainWindow(portfolio, "demo book")
    qtbot.addWidget(window)
    window.show()
    window.ladder_dock.raise_()
    qtbot.waitUntil(lambda: window.ladder_dock.on_screen)
    ladder = window.ladder
    xs, levels = ladder.maintenance.getData()
    equity, expected = account_ladder(portfolio.book, portfolio.price_map(), "Binance main", [x / 100 for x in xs])
    assert np.allclose(levels, expected, equal_nan=True, rtol=1e-12)
    cross = uniform_move_to_liquidation(portfolio.book, portfolio.price_map(), "Binance main") * 100
    before = [i for i, x in enumerate(xs) if x > cross and np.isfinite(levels[i])]
    assert all(equity[i] > levels[i] for i in before)  # above the level until the cross liquidation point
    assert ladder.now.value() == 0 and ladder.now.label.format == "now"
    names = [label.text for _, label in ladder.plot.getPlotItem().legend.items]
    assert names == ["equity", "liquidation level"]
    vb = ladder.plot.getPlotItem().vb

    def point() -> QPointF:  # +10% on the equity curve, once the view has ranged over it
        return vb.mapViewToScene(QPointF(10.0, float(np.interp(10.0, xs, equity))))

    qtbot.waitUntil(lambda: ladder.plot.sceneBoundingRect().contains(point()))
    ladder._on_mouse(point())
    text = ladder.hover.text()
    import re

    from engine.book.formats import price

    move = float(re.match(r"all marks ([+-][\d.]+)%: equity ", text).group(1))  # the sample under the cursor
    assert 9.5 <= move <= 10.5
    btc = portfolio.price_map()[("binanceusdm", "BTC/USDT:USDT")]
    assert f"BTC/USDT {price(btc * (1 + move / 100))}" in text
