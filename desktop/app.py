"""The desktop app's composition root: which book, which prices and feeds, which window.

`build_window` wires a MainWindow (desktop.window.main_window) to the saved book, a portfolio file or the
demo book, on live feeds, manual prices or the simulated feed; `run_app` adds the application-wide
parts (theme, icon, crash reporting) and runs the event loop.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.platform.gui_collector import GuiThreadCollector
from desktop.platform.icon import app_icon
from desktop.platform.startup_heap import freeze_startup_heap
from desktop.platform.theme import apply_theme, remember_theme
from desktop.window.main_window import REFRESH_HZ, MainWindow
from desktop.window.menus import app_version
from desktop.window.price_sources import FeedFactory, manual_store
from desktop.window.window_layout import fit_to_screen
from engine.book.portfolio import Portfolio, load_portfolio, loads_portfolio
from engine.margin.bundled import resource
from engine.margin.model import PriceKey
from engine.market.prices import PriceStore
from engine.storage.paths import LOG_NAME, create_private_file, database_path, ensure_data_dir
from engine.storage.paths import data_dir as resolve_data_dir

if TYPE_CHECKING:  # feeds are imported when a window gets one (the simulated feed: --demo)
    from engine.market.feeds.exchange_config import ExchangeSettings
    from engine.monitor.watch import Feed

__all__ = ["MainWindow", "WindowOptions", "build_window", "demo_portfolio", "manual_store", "run_app"]


DEMO_NOT_SYNCED = (
    "The demo book is never synced: its accounts are examples and its prices simulated (open your own book to sync)."
)


def demo_portfolio() -> Portfolio:
    return loads_portfolio(resource("demo", "book.json").read_text(encoding="utf-8"))


def layout_settings(folder: Path) -> QSettings:
    """Window layout in the data folder (so --data-dir and the tests keep it apart from the user's)."""
    return QSettings(str(folder / "desktop-layout.ini"), QSettings.Format.IniFormat)


@dataclass(frozen=True)
class WindowOptions:
    demo: bool = False
    book_file: str | None = None
    data_dir: str | None = None
    offline: bool = False
    exchange_settings: Mapping[str, ExchangeSettings] = field(default_factory=dict)
    stale_after: float = 15.0
    refresh_hz: float = REFRESH_HZ
    theme: str | None = None
    """'dark', 'light' or 'system'; None: the one last chosen in the View menu (dark the first time)."""


def _prices_and_feeds(portfolio: Portfolio, options: WindowOptions) -> tuple[PriceStore, list[Feed], str]:
    """Offline: the book's prices as manual ones. Online: a ccxt feed per exchange, and the book's
    prices are not applied (they must not mask live ones), as in `marginwatch watch`."""
    if options.offline:
        return manual_store(portfolio), [], "offline"
    store = PriceStore()
    return store, _live_feeds(options)(portfolio.book.price_keys(), store), "live"


def _live_feeds(options: WindowOptions) -> FeedFactory:
    """New ccxt feeds for the book's price keys (going back online, or after symbols were added)."""

    def make(keys: Sequence[PriceKey], store: PriceStore) -> list[Feed]:
        from engine.market.feeds.live import live_feeds  # ccxt takes a while to import: only when going live

        return live_feeds(list(keys), store, options.exchange_settings)

    return make


def _simulated_feeds(portfolio: Portfolio) -> FeedFactory:
    def make(keys: Sequence[PriceKey], store: PriceStore) -> list[Feed]:
        from engine.market.feeds.simulated import SimulatedFeed

        start = {key: quote.mark for key in keys if (quote := store.quote(key)) is not None}
        start |= {key: mark for key, mark in portfolio.price_map().items() if key not in start}
        return [SimulatedFeed(store, start, seed=7)]

    return make


def taking_tiers(window: MainWindow, options: WindowOptions | None = None) -> MainWindow:
    """The window, taking the tier tables its feeds fetch (stored with its saved book, and applied) and, while
    its live feeds run, its symbols' hourly candles (desktop.window.candle_updates: the probability column's
    volatilities)."""
    from desktop.window.candle_updates import CandleUpdates  # not before the window is built (start-up time)
    from desktop.window.tier_updates import TierUpdates

    TierUpdates(window)  # a child of the window: it lives as long
    CandleUpdates(window, options.exchange_settings if options is not None else None)
    return window


def build_window(options: WindowOptions | None = None) -> MainWindow:
    """The window of the demo book, a portfolio file or the saved book, with its prices, feeds and storage.

    Long because it is the composition root of all three kinds of window, each wired in full where it is read.
    """
    options = options or WindowOptions()
    folder = resolve_data_dir(options.data_dir)
    with contextlib.suppress(OSError):  # unusable: the saved book says why, once
        ensure_data_dir(folder)  # 0700, before Qt's settings would make it 0755
    settings = layout_settings(folder)
    if options.demo:
        portfolio = demo_portfolio()
        store, simulated = PriceStore(), _simulated_feeds(portfolio)
        window = MainWindow(
            portfolio,
            "demo book · simulated prices",
            store,
            simulated(portfolio.book.price_keys(), store),
            settings,
            refresh_hz=options.refresh_hz,
            feed_factory=simulated,
        )
        # Its accounts are examples, named as a trader's own may be ("Binance main"): a sync would put that trader's
        # real positions on simulated prices. Neither Sync now nor the automatic sync touches an exchange here.
        window.actions_.sync.refused = DEMO_NOT_SYNCED
        window.auto_sync.turn_off(DEMO_NOT_SYNCED)
        return window
    if options.book_file:
        from engine.storage.stored_tiers import stored_fetched_tables  # sqlite3: only where a database is read

        portfolio = load_portfolio(options.book_file, *stored_fetched_tables(database_path(options.data_dir)))
        store, feeds, mode = _prices_and_feeds(portfolio, options)
        window = MainWindow(
            portfolio,
            f"{options.book_file} · {mode}",
            store,
            feeds,
            settings,
            stale_after=options.stale_after,
            refresh_hz=options.refresh_hz,
            feed_factory=_live_feeds(options),
        )
        from desktop.window.file_book import FileBook

        FileBook(window, options.book_file)  # edits are saved back to the file on close, when asked
        return taking_tiers(window, options)
    from desktop.window.saved_book import load_saved_book, offer_recovery, restore, title_for
    from engine.storage.writer import BackgroundWriter

    saved = load_saved_book(database_path(options.data_dir))
    store, feeds, mode = _prices_and_feeds(saved.portfolio, options)
    window = MainWindow(
        saved.portfolio,
        title_for(saved, mode),
        store,
        feeds,
        settings,
        # After a failed load the window has no database at all: nothing it does can write the saved book.
        history=BackgroundWriter(saved.database) if saved.database is not None else None,
        thresholds=saved.thresholds,
        account_history=saved.account_history,
        stale_after=options.stale_after,
        database=saved.database,
        refresh_hz=options.refresh_hz,
        feed_factory=_live_feeds(options),
    )
    restore(window, saved)
    window.actions_.sync.settings = {exchange: item.ccxt for exchange, item in options.exchange_settings.items()}
    taking_tiers(window, options)
    offer_recovery(window, saved, mode)
    if saved.notice:  # a window-modal box that does not block: the window runs while it waits
        box = QMessageBox(QMessageBox.Icon.Information, "Margin Watch", saved.notice, parent=window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        window.say(saved.notice)
    return window


def prepare_data_dir(folder: Path) -> Path:
    """Make the data folder (0700) and the log file (0600) before anything else (the crash reporter's log
    handler, Qt's settings) creates them with the umask's modes; returns the log file's path."""
    with contextlib.suppress(OSError):  # unusable: the saved book says why, once
        create_private_file(ensure_data_dir(folder) / LOG_NAME)
    return folder / LOG_NAME


def run_app(options: WindowOptions | None = None) -> int:
    options = options or WindowOptions()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Margin Watch")
    app.setApplicationVersion(app_version())
    app.setDesktopFileName("marginwatch")  # Wayland matches the window to packaging/marginwatch.desktop
    app.setWindowIcon(app_icon())
    from desktop.platform.crash_reporter import CrashReporter

    folder = resolve_data_dir(options.data_dir)
    reporter = CrashReporter(prepare_data_dir(folder))
    reporter.install()
    try:
        theme = apply_theme(app, options.theme or _saved_theme(folder))
        window = build_window(options)  # its View menu ticks the theme applied
        reporter.parent_widget = window
        if not window.layout_restored:  # first start: fitted to this screen (1600x1000 where it fits)
            fit_to_screen(window)
        if options.theme:
            remember_theme(window.settings, theme)  # --theme is remembered for the next start
        window.show()
        freeze_startup_heap()
        collector = GuiThreadCollector(app)  # cycles (and the Qt wrappers in them) die on the GUI thread only
        try:
            return app.exec()
        finally:
            collector.stop()
    finally:
        reporter.uninstall()


def _saved_theme(folder: Path) -> str:
    value = layout_settings(folder).value("view/theme")
    return value if isinstance(value, str) else os.environ.get("MARGINWATCH_THEME", "dark")
