"""Themes, the About box, the status bar's price age, the account chart and the margin-ratio gauge."""

from __future__ import annotations

import threading

from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.platform.crash_reporter import CrashReporter
from desktop.platform.theme import apply_theme, is_dark
from desktop.tables.accounts_model import RATIO_COLUMN
from desktop.tables.position_columns import LEVEL_BACKGROUND
from desktop.window.menus import app_version
from engine.monitor.levels import Level
from engine.monitor.report import money
from tests.desktop.test_window import demo_on_manual_prices


def test_the_view_menu_ticks_the_theme_applied_at_start(qtbot):
    """run_app applies the saved theme (else MARGINWATCH_THEME) before it builds the window: the menu
    ticks that one, whatever the window's own settings say."""
    app = QApplication.instance()
    try:
        apply_theme(app, "light")
        _, _, window = demo_on_manual_prices(qtbot)
        assert [a.data() for a in window.theme_actions.actions() if a.isChecked()] == ["light"]
    finally:
        apply_theme(app, "dark")


def test_dark_and_light_themes_change_the_palette_and_the_charts(qtbot):
    app = QApplication.instance()
    _, _, window = demo_on_manual_prices(qtbot)
    try:
        window.menus.set_theme("light")
        assert not is_dark(app.palette())
        qtbot.waitUntil(lambda: window.chart.plot.backgroundBrush().color().lightness() > 128)
        light = window.chart.plot.backgroundBrush().color()
        window.menus.set_theme("dark")
        assert is_dark(app.palette())
        qtbot.waitUntil(lambda: window.chart.plot.backgroundBrush().color().lightness() < 128)
        dark = window.chart.plot.backgroundBrush().color()
        assert dark.lightness() < 128 < light.lightness()
        checked = [a.data() for a in window.theme_actions.actions() if a.isChecked()]
        assert checked == ["dark"]
    finally:
        apply_theme(app, "system")


def test_the_about_box_names_the_version(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    seen = []

    def read_and_close():
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        seen.append(box.text())
        box.accept()

    QTimer.singleShot(50, read_and_close)
    about = next(a for a in window.menuBar().actions() if a.text() == "&Help").menu().actions()[0]
    about.trigger()  # Help ▸ About, as the user opens it
    assert app_version() in seen[0] and "Margin Watch" in seen[0]


def test_the_status_bar_gives_the_age_of_the_oldest_live_price(qtbot):
    from engine.market.prices import PriceSource, PriceStore, Tick

    portfolio, _, _ = demo_on_manual_prices(qtbot)
    clock = [1_000.0]
    store = PriceStore(clock=lambda: clock[0])
    keys = portfolio.book.price_keys()
    store.publish([Tick(key, mark) for key, mark in portfolio.price_map().items()], PriceSource.SIMULATED)
    from desktop.window.main_window import MainWindow

    window = MainWindow(portfolio, "test", store, stale_after=15.0)
    qtbot.addWidget(window)
    clock[0] += 3.0
    store.publish([Tick(keys[0], portfolio.price_map()[keys[0]] * 1.01)], PriceSource.SIMULATED)
    clock[0] += 20.0  # every other price is now 23 s old
    assert window.status.oldest_price_age(now=clock[0]) == 23.0
    window.status.show_state(window.status.quotes, [])
    assert "oldest price" in window.status.text()


def test_the_margin_ratio_gauge_and_account_row_take_the_level_colour(qtbot):
    portfolio, store, window = demo_on_manual_prices(qtbot)
    row = next(i for i, a in enumerate(window.session.frame.shown.accounts) if a.account.name == "Hyperliquid")
    index = window.accounts_model.index(row, RATIO_COLUMN)
    assert (
        index.data(Qt.ItemDataRole.UserRole) == window.session.frame.shown.accounts[row].margin_ratio
    )  # UserRole: the number the gauge draws
    # Crash Hyperliquid's mark (its one real position is a cross SOL long) past the account's liquidation.
    # (Bybit swing, crashed before, crossed only through its hypothetical BTC long: never an alert.)
    for key in [k for k in portfolio.book.price_keys() if k[0] == "hyperliquid"]:
        store.set_manual(key, portfolio.price_map()[key] * 0.7)
    window.refresh()
    account = window.session.frame.shown.accounts[row]
    assert account.margin_ratio is None or account.margin_ratio > window.levels.thresholds.ratio_warning
    assert window.accounts_model.levels[row] >= Level.WARNING
    assert index.data(Qt.ItemDataRole.BackgroundRole) == LEVEL_BACKGROUND[window.accounts_model.levels[row]]
    assert any(a.subject.startswith("account Hyperliquid") for a in window.alerts)


def test_the_account_chart_follows_equity_over_time(qtbot, monkeypatch):
    monkeypatch.setattr("engine.monitor.chart_history.HISTORY_EVERY_S", 0.0)
    portfolio, store, window = demo_on_manual_prices(qtbot)
    window.show()
    window.account_chart_dock.raise_()  # charts behind another tab are not drawn
    qtbot.waitUntil(lambda: window.account_chart_dock.on_screen)  # drawn in an event after the first paint
    account = window.charts.shown_account()
    for factor in (1.0, 0.99, 0.98):
        for key, mark in portfolio.price_map().items():
            store.set_manual(key, mark * factor)
        window.refresh()
    _, equity = window.account_chart.equity.getData()
    assert len(equity) >= 3
    assert equity[-1] == window.session.frame.shown.account(account).equity
    _, ratio = window.account_chart.ratio.getData()
    assert ratio[-1] == window.session.frame.shown.account(account).margin_ratio * 100
    # Hovering shows the sample under the cursor, with its units.
    chart = window.account_chart
    assert chart.equity_plot.getAxis("left").labelUnits == window.book.account(account).currency
    times, _ = chart.equity.getData()
    view = chart.equity_plot.getPlotItem().vb

    def point() -> QPointF:  # the last sample, once the view has ranged over the new samples
        return view.mapViewToScene(QPointF(times[-1], equity[-1]))

    qtbot.waitUntil(lambda: chart.equity_plot.sceneBoundingRect().contains(point()))
    chart._on_mouse(point())
    assert chart.hover.text().startswith(f"{account} at ")
    assert f"equity {money(equity[-1], window.book.account(account).currency)}" in chart.hover.text()
    assert "margin ratio" in chart.hover.text()


def test_an_exception_in_a_thread_is_logged_and_shown_and_other_threads_go_on(qtbot, tmp_path):
    reporter = CrashReporter(tmp_path / "marginwatch.log")
    reporter.install()
    try:
        shown = []
        reporter.caught.connect(lambda summary, text: shown.append(summary))

        def fail():
            raise RuntimeError("feed parser broke")

        worker = threading.Thread(target=fail, name="feed-binanceusdm")
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: bool(shown), timeout=2_000)
        assert "RuntimeError in feed-binanceusdm: feed parser broke" in shown[0]
        assert "feed parser broke" in (tmp_path / "marginwatch.log").read_text()
        survivor = threading.Thread(target=lambda: None)
        survivor.start()
        survivor.join()
        qtbot.waitUntil(lambda: reporter.open_dialogs == 1, timeout=2_000)
        for box in [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]:
            box.close()
    finally:
        reporter.uninstall()


def test_a_first_start_fits_the_window_to_a_small_screen_and_keeps_the_preferred_size_on_a_big_one(qtbot):
    """On a 1280x720 screen a 1600x1000 window put the alerts and the status bar off-screen."""
    from PySide6.QtWidgets import QMainWindow

    from desktop.window.window_layout import FRAME_ALLOWANCE_PX, fit_to_screen

    window = QMainWindow()
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()  # 800x800 on the offscreen platform
    fit_to_screen(window, (available.width() * 2, 300))
    assert window.width() == available.width() - FRAME_ALLOWANCE_PX and window.height() == 300
    assert window.x() == available.x() + FRAME_ALLOWANCE_PX // 2
    assert window.y() == available.y() + (available.height() - 300) // 2
    fit_to_screen(window, (400, 300))
    assert (window.width(), window.height()) == (400, 300)
