"""What-if layers never pose as reality: hypothetical positions and price shocks change what the tables
show (labelled what-if, announced by a banner), never the alerts, the alert history or a real level."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.app import MainWindow, demo_portfolio
from desktop.tables.position_columns import COLUMNS
from engine.book.portfolio import Portfolio
from engine.margin.model import Book
from engine.market.prices import PriceStore, Shock
from engine.monitor.levels import Level
from tests.desktop.test_window import demo_on_manual_prices
from tests.engine.strategies import books

HYPOTHETICAL_SUBJECT = "Bybit swing BTC/USDT:USDT long"
"""The demo's one hypothetical position (a what-if BTC long in Bybit swing)."""


def column(title: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.title == title)


def cell(window: MainWindow, position: int, title: str, role=Qt.ItemDataRole.DisplayRole):
    return window.model.view_index(position, column(title)).data(role)


def account_row(window: MainWindow, name: str) -> int:
    return next(i for i, a in enumerate(window.session.frame.shown.accounts) if a.account.name == name)


def alert_facts(window: MainWindow) -> list[tuple[str, Level, Level, int]]:
    return [(a.subject, a.old, a.new, a.count) for a in window.alerts]


class RecordedHistory:
    """Stands in for the background writer: keeps what the window asks it to store."""

    last_error = ""

    def __init__(self) -> None:
        self.alerts: list = []

    def record_alert(self, alert) -> None:
        self.alerts.append(alert)

    def record(self, samples) -> None:
        pass

    def close(self) -> None:
        pass


def test_the_demos_hypothetical_long_raises_no_alert_and_colours_no_real_account(qtbot):
    portfolio = demo_portfolio()
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    history = RecordedHistory()
    window = MainWindow(portfolio, "demo book", store, history=history)
    qtbot.addWidget(window)
    real = MainWindow(dataclasses.replace(portfolio, book=portfolio.book.without_hypothetical()), "real", store)
    qtbot.addWidget(real)

    assert window.alerts and not any(HYPOTHETICAL_SUBJECT in a.subject for a in window.alerts)
    assert not any(a.subject.startswith("account Bybit swing") for a in window.alerts)  # healthy in reality
    assert alert_facts(window) == alert_facts(real)
    assert [a.subject for a in history.alerts] == [a.subject for a in window.alerts]  # history: the real book's
    # Bybit swing is ok in reality: the row says so wherever the hypothetical long colours it.
    assert window.levels.levels[("account", "Bybit swing")] is Level.OK
    row = account_row(window, "Bybit swing")
    name = window.accounts_model.index(row, 0)
    assert name.data() == "Bybit swing (what-if · real: ok)"
    assert "not the real book" in name.data(Qt.ItemDataRole.ToolTipRole)
    assert real.accounts_model.index(account_row(real, "Bybit swing"), 0).data() == "Bybit swing"
    assert real.accounts_model.levels[account_row(real, "Bybit swing")] is Level.OK
    # The hypothetical row shows its own what-if level, labelled as such.
    hypothetical = next(i for i, p in enumerate(window.book.positions) if p.hypothetical)
    assert cell(window, hypothetical, "What-if") == "◇ hypothetical · what-if"
    assert window.model.levels[hypothetical] > Level.OK  # the what-if trade itself is at risk
    assert ("Bybit swing", "BTC/USDT:USDT", "long", True, 0) not in window.levels.levels
    assert "1 hypothetical position shown" in window.tables.banner.text()
    window.accounts.selectRow(row)
    assert window.ladder_dock.windowTitle() == "Risk ladder: Bybit swing (what-if)"
    real.accounts.selectRow(account_row(real, "Bybit swing"))
    assert real.ladder_dock.windowTitle() == "Risk ladder: Bybit swing"


def test_leaving_out_and_bringing_back_hypothetical_positions_changes_no_alert(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    window.show()
    before = alert_facts(window)
    assert window.tables.banner.isVisible()
    qtbot.mouseClick(window.tables.banner.leave_out_button, Qt.MouseButton.LeftButton)
    assert not window.session.include_hypothetical and not window.tables.banner.isVisible()
    assert all(note == "" for note in window.accounts_model.notes)
    assert not any(s.what_if for s in window.model.states)
    window.modes.set_include_hypothetical(True)
    assert window.tables.banner.isVisible() and any(s.what_if for s in window.model.states)
    assert alert_facts(window) == before


def test_a_shock_is_a_preview_announced_above_the_tables_while_real_alerts_go_on(qtbot):
    _, store, window = demo_on_manual_prices(qtbot)
    window.modes.set_include_hypothetical(False)  # the shock alone
    window.show()
    window.prices_dock.raise_()
    qtbot.waitUntil(lambda: window.prices_dock.on_screen)
    window.prices.spin.setValue(-16.0)  # the Prices dock's shock, all marks
    assert window.session.shock == Shock(all_symbols=-0.16)
    window.prices_dock.hide()  # hidden: the book is still shocked, and the banner says so
    assert window.tables.banner.shock_bar.isVisible()
    assert "Shock preview: all marks −16%" in window.tables.banner.text()
    assert "SHOCK PREVIEW (all marks −16%)" in window.status.text()
    alerts_before = len(window.alerts)
    assert len(window.alerts) == alerts_before  # the shock itself alerts nothing
    doge = next(i for i, p in enumerate(window.book.positions) if p.symbol == "DOGE/USDT:USDT")
    assert cell(window, doge, "Source").startswith("SHOCKED")
    assert cell(window, doge, "What-if").startswith("what-if · real: ")
    # A real move while the preview is on: DOGE's real mark falls to 3% above its liquidation price.
    real_liquidation = (
        window.session.real_evaluator.evaluate(window.book_host.real_marks())[0].positions[doge].liquidation_price
    )
    store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), real_liquidation / (1 - 0.03))
    window.refresh()
    assert window.alerts[-1].new is Level.DANGER and "DOGE/USDT:USDT" in window.alerts[-1].subject
    assert window.alerts[-1].distance > 0.02  # the real distance, not the shocked one
    # One click ends the preview, the Prices dock's slider included.
    qtbot.mouseClick(window.tables.banner.end_button, Qt.MouseButton.LeftButton)
    assert window.session.shock is None and not window.tables.banner.isVisible()
    assert window.prices.spin.value() == 0.0
    assert not cell(window, doge, "Source").startswith("SHOCKED") and cell(window, doge, "What-if") == ""
    assert window.model.levels[doge] is Level.DANGER  # the real level, hysteresis kept through the preview


def test_repeated_crossings_are_one_alert_row_with_a_count(qtbot):
    _, store, window = demo_on_manual_prices(qtbot)
    doge = next(i for i, p in enumerate(window.book.positions) if p.symbol == "DOGE/USDT:USDT")
    liquidation = window.model._rows[doge].liquidation_price
    rows_before = window.alert_list.count()
    for _ in range(4):
        for distance in (-0.002, 0.03):  # across liquidation and back out past the band
            store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), liquidation / (1 - distance))
            window.refresh()
    liquidated = [a for a in window.alerts if a.new is Level.LIQUIDATED]
    assert len(liquidated) == 1 and liquidated[0].count == 4
    assert window.alert_list.count() == len(window.alerts) == rows_before + 1  # one row for the four
    assert "liquidated ×4 in 0 s" in window.alert_list.item(0).text()  # the newest group on top


def test_the_status_bar_says_which_prices_are_in_use_offline_manual_and_back_online(qtbot, tmp_path, monkeypatch):
    from desktop.app import WindowOptions, build_window

    window = build_window(WindowOptions(demo=True, data_dir=str(tmp_path)))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: "simulated" in window.status.text())
    assert "MANUAL" not in window.status.text() and "OFFLINE" not in window.status.text()
    btc = next(i for i, p in enumerate(window.book.positions) if p.symbol == "BTC/USDT:USDT")
    window.model.setData(window.model.view_index(btc, column("Mark")), "90000")  # typed over the feed's
    assert "MANUAL prices, not live: BTC/USDT:USDT" in window.status.text()
    assert "simulated" in window.status.text() and "from the book" not in window.status.text()
    assert cell(window, btc, "Source") == "MANUAL"

    window.modes.set_offline(True)
    status = window.status.text()
    assert "OFFLINE" in status and "prices: all manual, not live" in status
    assert "simulated" not in status and "from the book" not in status
    assert all(cell(window, p, "Source") == "MANUAL (OFFLINE)" for p in range(len(window.book.positions)))

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window.modes.set_offline(False)  # back online, keeping the manual prices
    assert window.statusBar().currentMessage().startswith("Back online")  # not the passing "Offline: …" one
    status = window.status.text()
    assert "OFFLINE" not in status and "prices: all manual, not live" in status
    assert "simulated (a random walk, not market prices), not in use" in status
    assert cell(window, btc, "Source") == "MANUAL"

    window.modes.set_offline(True)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.modes.set_offline(False)  # back online, live prices replace the manual ones
    qtbot.waitUntil(lambda: "MANUAL" not in window.status.text())
    assert "simulated" in window.status.text() and "not in use" not in window.status.text()
    window.close()


def test_an_offline_start_on_the_saved_book_says_its_prices_are_the_books(qtbot, tmp_path):
    from desktop.app import WindowOptions, build_window
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    assert "OFFLINE" in window.status.text()
    assert "prices: all manual (from the book), not live" in window.status.text()
    window.close()


@st.composite
def books_with_hypothetical(draw):
    """A random book whose positions are each made hypothetical or not, and marks for it."""
    book, prices = draw(books(max_positions=6))
    flags = draw(st.lists(st.booleans(), min_size=len(book.positions), max_size=len(book.positions)))
    positions = tuple(dataclasses.replace(p, hypothetical=f) for p, f in zip(book.positions, flags, strict=True))
    moves = draw(st.lists(st.floats(-0.6, 0.6), min_size=1, max_size=4))
    shock = draw(st.sampled_from([None, -0.16, 0.1]))
    return Book(book.accounts, positions, book.markets), prices, moves, shock


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(books_with_hypothetical())
def test_hypothetical_layers_change_no_alert(qtbot, case):
    """The same real book with and without hypothetical positions (and with a shock preview on the
    first) raises the same alerts as every mark moves."""
    book, prices, moves, shock = case
    windows = []
    for shown in (book, book.without_hypothetical()):
        store = PriceStore()
        for key, mark in prices.items():
            store.set_manual(key, mark)
        window = MainWindow(Portfolio(shown), "random book", store)
        windows.append((window, store))
    layered, real = windows
    if shock is not None:
        layered[0].modes.set_shock(Shock(all_symbols=shock))
    try:
        assert alert_facts(layered[0]) == alert_facts(real[0])
        for move in moves:
            for window, store in windows:
                for key, mark in prices.items():
                    store.set_manual(key, mark * (1 + move))
                window.refresh()
            assert alert_facts(layered[0]) == alert_facts(real[0])
    finally:
        for window, _ in windows:
            window.close()
            window.deleteLater()


def test_the_position_chart_of_a_previewed_row_says_it_is_a_what_if(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitUntil(lambda: window.chart_dock.on_screen)  # drawn in an event after the first paint
    hypothetical = next(i for i, p in enumerate(window.book.positions) if p.hypothetical)
    window.table.selectRow(window.model.view_row_of(hypothetical))
    assert window.chart.caption.text().startswith("<b>◇ HYPOTHETICAL · WHAT-IF</b>")
    window.modes.set_include_hypothetical(False)
    window.table.selectRow(0)
    window.charts.draw_chart()
    assert "WHAT-IF" not in window.chart.caption.text()
    window.modes.set_shock(Shock(all_symbols=-0.16))
    window.charts.draw_chart()
    assert window.chart.caption.text().startswith("<b>WHAT-IF · REAL: ")


class FakeClock:
    """The window's `time` module with a wall clock the test moves (monotonic and formatting are real)."""

    def __init__(self, start: float) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    monotonic = staticmethod(__import__("time").monotonic)
    strftime = staticmethod(__import__("time").strftime)
    localtime = staticmethod(__import__("time").localtime)


def test_five_minutes_of_the_demos_random_walk_alert_once_per_subject_and_level(qtbot, monkeypatch):
    """The issue counted 51 alerts in 5 minutes of the demo (4 'danger → liquidated' in 7 s for one
    position). Replayed here: the demo's own walk (seed 7, a step every 0.25 s) for 5 minutes."""
    from engine.market.feeds.simulated import RandomWalk

    clock = FakeClock(1_800_000_000.0)
    monkeypatch.setattr("desktop.window.main_window.time", clock)
    portfolio, store, window = demo_on_manual_prices(qtbot)
    walk = RandomWalk(portfolio.price_map(), seed=7)
    crossings = 0
    for _ in range(1_200):
        clock.now += 0.25
        for key, mark in walk.step(0.25).items():
            store.set_manual(key, mark)
        window._last_refresh = 0.0  # every step is a refresh
        window.refresh()
        crossings = sum(a.count for a in window.alerts)
    groups = [(a.key, a.new) for a in window.alerts]
    assert len(groups) == len(set(groups))  # within 5 minutes: one alert per subject and level
    assert len(window.alerts) == window.alert_list.count() <= 12  # 34 rows before (7 for the hypothetical long)
    assert not any(HYPOTHETICAL_SUBJECT in a.subject for a in window.alerts)
    assert crossings >= len(window.alerts)
    print(f"5 minutes of the demo walk: {len(window.alerts)} alert rows for {crossings} rises")
