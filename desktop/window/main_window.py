"""The watch window: positions, accounts, charts and alerts, refreshed from the price store on a timer. Feeds
write into the store on their own threads; the window pulls a coalesced snapshot on a timer (10 Hz by default) when
something changed, recomputes the book once (vectorised engine), updates only the rows that changed; the timer rests
while nothing changes (desktop.window.refresh_pacer)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QMainWindow, QWidget

from desktop.platform.icon import app_icon
from desktop.window.alert_list import AlertList, tray_icon
from desktop.window.auto_sync import AutoSync
from desktop.window.book_actions import BookActions
from desktop.window.book_host import WindowBook
from desktop.window.book_tables import BookTables
from desktop.window.chart_views import ChartViews
from desktop.window.docks import WindowDocks
from desktop.window.menus import WindowMenus, add_context_menus
from desktop.window.notifications import WindowNotifications
from desktop.window.odds_column import OddsColumn
from desktop.window.price_alerts_setting import PriceAlertsSetting
from desktop.window.price_sources import FeedFactory, PriceSources, manual_store
from desktop.window.refresh_pacer import RefreshPacer
from desktop.window.status_bar import StatusLine
from desktop.window.thresholds_setting import ThresholdsSetting
from desktop.window.view_modes import ViewModes
from desktop.window.window_layout import restore_layout, save_layout
from engine.book.portfolio import Portfolio
from engine.margin.model import Book, PriceKey
from engine.market.prices import MarkRecord, PriceStore
from engine.monitor.alerts import Alert
from engine.monitor.chart_history import StoredAccountHistory
from engine.monitor.frame import Frame
from engine.monitor.levels import LevelTracker, Thresholds
from engine.monitor.session import WatchSession

if TYPE_CHECKING:  # annotations only: docks' modules are imported with their tab, storage with a saved book
    from desktop.charts.account_chart import AccountChart
    from desktop.charts.position_chart import PositionChart
    from desktop.charts.risk_ladder import RiskLadder
    from desktop.window.prices_panel import PricesPanel
    from engine.monitor.watch import Feed
    from engine.storage.database import BookDatabase
    from engine.storage.writer import BackgroundWriter


REFRESH_HZ = 10.0


class MainWindow(QMainWindow):
    """The watch window: a thin view over the session's frames (engine.monitor.session.WatchSession).

    The tables, docks, menus and modes are their own objects (desktop.window.*); the window builds them, steps
    the session on a timer (refresh) and draws each frame. The book's commands go through book_host
    (desktop.window.book_host.WindowBook), the modes through modes (view_modes.ViewModes)."""

    def __init__(
        self,
        portfolio: Portfolio,
        source: str,
        store: PriceStore | None = None,
        feeds: Sequence[Feed] = (),
        settings: QSettings | None = None,
        history: BackgroundWriter | None = None,
        thresholds: Thresholds | None = None,
        account_history: Mapping[str, StoredAccountHistory] | None = None,
        stale_after: float = 15.0,
        database: BookDatabase | None = None,
        refresh_hz: float = REFRESH_HZ,
        feed_factory: FeedFactory | None = None,
    ) -> None:
        super().__init__()
        self.source, self.settings, self.history, self.stale_after = source, settings, history, stale_after
        self.setWindowTitle(f"Margin Watch — {source}")
        self.setWindowIcon(app_icon())
        self.store = store if store is not None else manual_store(portfolio)
        self.reader = self.store.reader()
        self._last_refresh = time.monotonic()
        self.sources = PriceSources(self.store, feeds, feed_factory, self._saved_book)
        self.database = database  # the saved book (engine.storage.database) every change is saved to; None: none
        self.session = WatchSession(  # the clock is looked up at each call: tests stand in their own
            portfolio, thresholds, stale_after, clock=lambda: time.time(), funding=self.store.funding
        )
        self.session.history.seed_accounts(account_history or {})  # before the first sample
        self.session.working_offline = self.sources.working_offline
        self.saved_book_bar: QWidget | None = None
        snapshot = self.reader.read()
        self._quotes: Mapping[PriceKey, MarkRecord] = snapshot.quotes
        frame = self.session.step(snapshot.quotes, snapshot.quotes.keys())
        self._build_views(frame, refresh_hz, feed_factory is not None)
        self.resize(1600, 1000)
        self.layout_restored = restore_layout(self.settings, self, self.splitter, self.tables.views())
        self.tables.fit_pending = not self.layout_restored
        self._first_paint = True  # the charts are built, and the moves searched, once the window is on screen
        self.status.show_state(self._quotes, frame.missing)
        self.alert_list.raise_(frame.alerts, self.history, self.tray)  # levels are evaluated at start-up too
        self.charts.draw_account_views(force=True)
        self.charts.draw_chart()
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _build_views(self, frame: Frame, refresh_hz: float, can_go_online: bool) -> None:
        """The tables, docks, charts, tray, modes, the book's commands and the menus, wired to each other."""
        self.tables = t = BookTables(frame, self.levels.thresholds, self.session)
        self.model, self.positions, self.table = t.model, t.positions, t.table
        self.accounts_model, self.accounts, self.ratio_gauge = t.accounts_model, t.accounts, t.ratio_gauge
        self.splitter = t.splitter
        self.setCentralWidget(t)
        self.positions.set_accounts([a.name for a in self.book.accounts])
        self.status = StatusLine(self.session, self.sources, self.history, self.stale_after)
        self.statusBar().addWidget(self.status, 1)
        self.alert_list = AlertList()
        self.docks = d = WindowDocks(self, self.alert_list, self._build_prices)
        self.alerts_dock, self.prices_dock, self.ladder_dock = d.alerts, d.prices, d.ladder
        self.chart_dock, self.account_chart_dock = d.chart, d.account_chart
        self.timer = QTimer(self, interval=round(1000 / refresh_hz))
        self.pacer = RefreshPacer(self.timer, self.store, self)  # rests while nothing moves
        self.prices_dock.shown.connect(lambda: (self.prices.refresh(quotes=self._quotes), self.pacer.wake()))
        charts = (self.chart_dock, self.account_chart_dock, self.ladder_dock)
        tables = (self.positions, self.model, self.accounts, self.accounts_model)
        self.charts = ChartViews(self.session, *tables, charts, self.timer.interval, frame)
        self.tray = tray_icon(self)
        self.modes = ViewModes(
            self, self.session, self.sources, t.banner, self.charts, self.prices_dock, self._redraw, self.say
        )
        self.modes.show_banner()
        views = (self.positions, self.charts, self.prices_dock)
        self.book_host = WindowBook(
            self, self.session, self.store, self.sources, self.modes, views, self._saved_book, self._redraw, self.say
        )
        self.model.set_mark = self.book_host.type_mark
        self.thresholds_setting = ThresholdsSetting(self, self.session, t.ratio_gauge, self._saved_book, self._redraw)
        self.actions_ = BookActions(self.book_host, self)
        self.menus = m = WindowMenus(
            self,
            self.actions_,
            self.positions,
            self.docks.in_menu_order(),
            offline=self.sources.offline,
            can_go_online=can_go_online,
            set_offline=self.modes.set_offline,
            settings=self.settings,
            edit_thresholds=self.thresholds_setting.edit,
        )
        self.offline_action, self.theme_actions = m.offline_action, m.theme_actions
        self.channels = WindowNotifications(self, m.settings_menu, self.alert_list, frame)  # sends start-up alerts too
        self.price_alerts = PriceAlertsSetting(self)  # Alerts ▸ Price alerts…, and on a position's or a price's row
        self.auto_sync = AutoSync(self, m.settings_menu)  # Settings ▸ Sync linked accounts every…, and check alerts
        self.odds_column = OddsColumn(self, self.session, t.model, self._saved_book, t.accounts_model, m.settings_menu)
        self.modes.set_actions(self.actions_.hypothetical, m.offline_action)
        add_context_menus(self.table, self.accounts, self.actions_, self.charts.shown_account)

    def _build_prices(self) -> PricesPanel:
        from desktop.window.prices_panel import PricesPanel

        panel = PricesPanel(self.store, self.book.price_keys(), stale_after=self.stale_after)
        panel.shock_changed.connect(self.modes.set_shock)
        panel.manual_changed.connect(self.book_host.save_manual_prices)
        panel.manual_changed.connect(self._manual_changed)
        return panel

    @Slot(list)
    def _manual_changed(self, _keys: list[PriceKey]) -> None:
        self.sources.prices_typed = True
        self.refresh()

    # What tests and the docks read of the session and the docks.
    @property
    def portfolio(self) -> Portfolio:
        return self.session.portfolio

    @property
    def book(self) -> Book:
        """The book shown (hypothetical positions included while they are)."""
        return self.session.book

    @property
    def levels(self) -> LevelTracker:
        """The real book's levels (with hysteresis): what alerts and the thresholds follow."""
        return self.session.book_alerts.tracker

    @property
    def alerts(self) -> list[Alert]:
        """One per alert-list row, oldest first: a repeated crossing replaces its group's alert (Alert.count)."""
        return self.alert_list.alerts

    @property
    def chart(self) -> PositionChart:
        return self.chart_dock.content()

    @property
    def account_chart(self) -> AccountChart:
        return self.account_chart_dock.content()

    @property
    def ladder(self) -> RiskLadder:
        return self.ladder_dock.content()

    @property
    def prices(self) -> PricesPanel:
        return self.prices_dock.content()

    def say(self, text: str) -> None:
        """A passing message in the status bar (never a dialog)."""
        self.statusBar().showMessage(text, 10_000)

    def set_storage_note(self, note: str) -> None:
        """Why the saved book is not open ('' once it is), first in the status bar from now on."""
        self.status.storage_note = note
        self._last_refresh = 0.0
        self.refresh()

    def seed_mark_history(self, stored: Mapping[PriceKey, Sequence[tuple[float, float]]]) -> None:
        """Put the marks stored with the book (stored_mark_history) before the ones seen since the start."""
        self.session.history.seed_marks(stored)

    def show_stored_alerts(self, stored: Sequence[Mapping[str, Any]]) -> None:
        """List the alerts stored with the book (newest first, as BookDatabase.alerts gives them) under this
        session's, without sounding or storing them again."""
        self.alert_list.add_stored(stored)

    # -- refresh ----------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        """Recompute on new prices, and once a second regardless (ages grow, prices turn stale: a frozen feed)."""
        since = time.monotonic() - self._last_refresh
        if not ((due := since >= 1.0) or self.reader.has_news() or self.prices_dock.on_screen):
            return self.pacer.rest(1.0 - since, self.reader.has_news)  # nothing new, no age that moves on screen
        snapshot = self.reader.read()
        self._quotes = snapshot.quotes
        if self.prices_dock.on_screen:
            self.prices.refresh(snapshot.taken_at, snapshot.quotes)
        if snapshot.changed or due:
            self._last_refresh = time.monotonic()
            self._recompute(snapshot.quotes, snapshot.changed)

    def _redraw(self) -> None:
        """A new frame at once, after the book or a layer changed (every key counts as changed), and the
        account views redrawn."""
        snapshot = self.reader.read()
        self._quotes = snapshot.quotes
        self._last_refresh = time.monotonic()
        self._recompute(snapshot.quotes, self.book.price_keys())
        self.charts.draw_account_views(force=True)

    def _recompute(self, quotes: Mapping[PriceKey, MarkRecord], changed: Iterable[PriceKey]) -> None:
        """One step of the session, drawn: the tables, the alerts, the stored history, the charts, the status."""
        frame = self.session.step(quotes, changed)
        self.model.set_risk(frame.shown, frame.rows)
        self.accounts_model.set_risk(frame.shown, self.charts.moves(frame), frame.account_levels, frame.account_notes)
        if self.history is not None:  # the real book's, whatever the preview
            samples = self.session.history.stored_samples(frame.real, frame.real_marks, frame.at)
            if samples:
                self.history.record(samples)
        self.alert_list.raise_(frame.alerts, self.history, self.tray, self.channels.muted)
        self.channels.on_step(frame)
        self.charts.draw_account_views()
        self.charts.draw_chart_soon()
        self.status.show_state(self._quotes, frame.missing)
        self.positions.update_count()
        self.tables.fit_columns_once()

    # -- layout -----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._first_paint:  # the window's first paint: build the charts and search in events after it
            self._first_paint = False
            QTimer.singleShot(0, self.docks.release_held)
            QTimer.singleShot(0, self._first_moves)

    @Slot()
    def _first_moves(self) -> None:
        if self.charts.search_first():  # fitted to "searching…": room for the moves
            self.tables.grow_account_columns()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.tables.fit_columns_once)  # after the first layout: a view measures its rows

    def _saved_book(self) -> BookDatabase | None:
        return self.database

    def closeEvent(self, event: QCloseEvent) -> None:
        self.pacer.stop()
        self.sources.stop()
        if self.history is not None:
            self.history.close()
        if self.database is not None:
            # Here, not on `destroyed`: a slot run while Qt destroys the children deadlocked on Qt's own mutex.
            self.database.close()
        save_layout(self.settings, self, self.splitter, self.tables.views())
        super().closeEvent(event)
