"""The watch window: positions, accounts, charts and alerts, refreshed from the price store on a timer.

Feeds write into the price store on their own threads; the window pulls a coalesced snapshot on a
timer (10 Hz by default), recomputes the book once through the vectorised engine and updates only the
table rows that changed. Widgets are touched on the GUI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QPaintEvent, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSystemTrayIcon,
    QWidget,
)

from desktop.charts.position_chart import PositionChart
from desktop.dialogs.thresholds_dialog import ThresholdsDialog, thresholds_to_setting
from desktop.platform.icon import app_icon
from desktop.platform.theme import apply_theme
from desktop.tables.positions_model import quoted
from desktop.window.alert_list import AlertList
from desktop.window.book_actions import BookActions
from desktop.window.book_tables import BookTables
from desktop.window.chart_views import ChartViews
from desktop.window.docks import WindowDocks
from desktop.window.menus import WindowMenus, add_context_menus
from desktop.window.preview_banner import describe_shock
from desktop.window.price_sources import FeedFactory, PriceSources, manual_store
from desktop.window.window_layout import restore_layout, save_layout
from engine.book.portfolio import Portfolio
from engine.margin.model import Book, PriceKey
from engine.margin.risk import BookRisk, PositionRisk
from engine.market.prices import MarkRecord, PriceStore, Shock
from engine.monitor.alerts import Alert, AlertPolicy
from engine.monitor.chart_history import StoredAccountHistory
from engine.monitor.levels import LevelTracker, Thresholds
from engine.monitor.price_labels import oldest_price_age, status_line
from engine.monitor.ring_buffer import RingBuffer
from engine.monitor.session import WatchSession

if TYPE_CHECKING:  # annotations only: the docks' modules are imported when their tab is first shown, storage
    # when the book is saved
    from desktop.charts.account_chart import AccountChart
    from desktop.charts.risk_ladder import RiskLadder
    from desktop.window.prices_panel import PricesPanel
    from engine.monitor.watch import Feed
    from engine.storage.database import BookDatabase
    from engine.storage.writer import BackgroundWriter


StoredHistory = StoredAccountHistory


REFRESH_HZ = 10.0
THRESHOLDS_SETTING = "thresholds"
COLUMN_HEADROOM_PX = 12


class MainWindow(QMainWindow):
    def __init__(
        self,
        portfolio: Portfolio,
        source: str,
        store: PriceStore | None = None,
        feeds: Sequence[Feed] = (),
        settings: QSettings | None = None,
        history: BackgroundWriter | None = None,
        thresholds: Thresholds | None = None,
        account_history: Mapping[str, StoredHistory] | None = None,
        stale_after: float = 15.0,
        database: BookDatabase | None = None,
        refresh_hz: float = REFRESH_HZ,
        feed_factory: FeedFactory | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.setWindowTitle(f"Margin Watch — {source}")
        self.setWindowIcon(app_icon())
        self.store = store if store is not None else manual_store(portfolio)
        self.reader = self.store.reader()
        self.settings = settings
        self.history = history
        self._last_refresh = time.monotonic()
        self.sources = PriceSources(self.store, feeds, feed_factory, self._saved_book)
        self.database = database
        """The saved book, open (engine.storage.database), that every change is saved to; None: nothing is saved."""
        # The session holds the book, its layers, levels and alerts (Qt-free, shared with `watch`); the
        # clock is looked up at each call, so tests can stand in a clock of their own.
        self.session = WatchSession(portfolio, thresholds, stale_after, clock=lambda: time.time())
        self.session.history.seed_accounts(account_history or {})  # before the first sample
        self.stale_after = stale_after
        self._quotes: Mapping[PriceKey, MarkRecord] | None = None
        self.session.working_offline = self.sources.working_offline
        self.last_import_error = ""
        self.storage_note = ""
        """Why the saved book is not open (the window then writes no database), first in the status bar."""
        self.saved_book_bar: QWidget | None = None
        self.stored_alert_count = 0

        snapshot = self.reader.read()
        self._quotes = snapshot.quotes
        frame = self.frame = self.session.step(snapshot.quotes, snapshot.quotes.keys())

        # -- positions and accounts -----------------------------------------------------------
        self.tables = t = BookTables(frame, self.levels.thresholds, self.type_mark, self.session)
        self.model, self.positions, self.table = t.model, t.positions, t.table
        self.accounts_model, self.accounts, self.ratio_gauge = t.accounts_model, t.accounts, t.ratio_gauge
        self.splitter, self.banner = t.splitter, t.banner
        self.banner.end_shock.connect(self.end_shock)
        self.banner.leave_out_hypothetical.connect(lambda: self.set_include_hypothetical(False))
        self.setCentralWidget(t)
        self._moves_after_paint = True  # the moves are searched once the window is on screen
        self._show_banner()
        self.positions.set_accounts([a.name for a in self.book.accounts])

        # -- status, alerts and charts ----------------------------------------------------------
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)
        self.alert_list = AlertList()
        self.docks = WindowDocks(self, self.alert_list, self._build_prices)
        d = self.docks
        self.alerts_dock, self.prices_dock, self.ladder_dock = d.alerts, d.prices, d.ladder
        self.chart_dock, self.account_chart_dock = d.chart, d.account_chart
        self.prices_dock.shown.connect(lambda: self.prices.refresh(quotes=self._quotes))
        self.timer = QTimer(self)
        self.timer.setInterval(round(1000 / refresh_hz))
        docks = (self.chart_dock, self.account_chart_dock, self.ladder_dock)
        self.charts = ChartViews(
            self.session,
            self.positions,
            self.model,
            self.accounts,
            self.accounts_model,
            docks,
            self.timer.interval,
            frame,
        )

        # Desktop notifications only where the platform has a tray (checked at run time).
        self.tray = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip("Margin Watch")
            self.tray.show()
        self.actions_ = BookActions(self, self)
        self.menus = WindowMenus(
            self,
            self.actions_,
            self.positions,
            self.docks.in_menu_order(),
            offline=self.offline,
            can_go_online=feed_factory is not None,
            set_offline=self.set_offline,
            set_theme=self.set_theme,
            edit_thresholds=self.edit_thresholds,
        )
        self.offline_action, self.theme_actions = self.menus.offline_action, self.menus.theme_actions
        add_context_menus(self.table, self.accounts, self.actions_, self._shown_account)
        self.resize(1600, 1000)
        # Columns are fitted to their contents once, when the first rows are on screen, unless the
        # user's own widths were restored; never on updates.
        self._fit_pending = not restore_layout(self.settings, self, self.splitter, self.tables.views())
        self._columns_fitted = False
        self._show_status(frame.missing)
        self._raise_alerts(frame.alerts)  # levels are evaluated at start-up too
        self.charts.draw_account_views(force=True)
        self.charts.draw_chart()
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # -- construction helpers ---------------------------------------------------------------------

    def _build_prices(self) -> PricesPanel:
        from desktop.window.prices_panel import PricesPanel

        panel = PricesPanel(self.store, self.book.price_keys(), stale_after=self.stale_after)
        panel.shock_changed.connect(self.set_shock)
        panel.manual_changed.connect(self.save_manual_prices)
        panel.manual_changed.connect(self._manual_changed)
        return panel

    @Slot(list)
    def _manual_changed(self, _keys: list[PriceKey]) -> None:
        self.sources.prices_typed = True
        self.refresh()

    # Where prices come from (desktop.window.price_sources), read where the window and its tests need it.
    @property
    def feeds(self) -> list[Feed]:
        return self.sources.feeds

    @property
    def offline(self) -> bool:
        return self.sources.offline

    @property
    def working_offline(self) -> bool:
        return self.sources.working_offline

    @property
    def levels(self) -> LevelTracker:
        """The real book's levels (with hysteresis): what alerts and the thresholds follow."""
        return self.session.book_alerts.tracker

    @property
    def alert_policy(self) -> AlertPolicy:
        return self.session.book_alerts.policy

    # The session's state, read where the window and its actions need it.
    @property
    def portfolio(self) -> Portfolio:
        return self.session.portfolio

    @property
    def book(self) -> Book:
        """The book shown (hypothetical positions included while they are)."""
        return self.session.book

    @property
    def shock(self) -> Shock | None:
        return self.session.shock

    @property
    def include_hypothetical(self) -> bool:
        return self.session.include_hypothetical

    @property
    def real_evaluator(self):
        return self.session.real_evaluator

    @property
    def marks_history(self) -> dict[PriceKey, RingBuffer]:
        return self.session.history.marks

    @property
    def _risk(self) -> BookRisk:
        return self.frame.shown

    @property
    def _marks(self) -> Mapping[PriceKey, float]:
        return self.frame.marks

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

    def _use_portfolio(self, portfolio: Portfolio) -> None:
        """Compile the book the session evaluates (hypothetical positions left out when toggled off)."""
        self.session.use_portfolio(portfolio)
        if hasattr(self, "charts"):
            self.charts.forget_moves()
        if hasattr(self, "banner"):
            self._show_banner()

    # -- the book, prices and modes ---------------------------------------------------------------

    def say(self, text: str) -> None:
        """A passing message in the status bar (never a dialog)."""
        self.statusBar().showMessage(text, 10_000)

    def type_mark(self, r: PositionRisk, text: str) -> str | None:
        """A mark typed into the positions table: a manual price for that symbol, or the reason it is refused."""
        from desktop.window.prices_panel import PriceRefused, parse_price

        try:
            mark = parse_price(text, r.position.symbol)
        except PriceRefused as e:
            self.say(str(e))
            return str(e)
        key = (self.session.exchange_of[r.position.account], r.position.symbol)
        if problem := self.sources.type_price(key, mark):
            self.say(f"The manual price is used but was not saved: {problem}")
            self.refresh()
            return None
        self.say(f"{r.position.symbol}: manual price {quoted(mark, r.position.symbol)} (Prices dock ▸ Back to live)")
        self.refresh()
        return None

    def real_marks(self) -> dict[PriceKey, float]:
        """The marks in use, before any shock preview."""
        return dict(self.frame.real_marks)

    def real_risk(self) -> BookRisk:
        """The book shown (hypothetical positions included while they are) at the real, unshocked marks."""
        if self.shock is None:
            return self.frame.shown
        return self.session.evaluator.evaluate(self.frame.real_marks)[0]

    def apply_portfolio(self, portfolio: Portfolio, what: str) -> bool:
        """Save the new book (when there is a saved book) and show it; False, and nothing changed, on failure."""
        if self.database is not None:
            from engine.storage.database import StorageError

            try:
                self.database.import_portfolio(portfolio, replace=True)
            except StorageError as e:
                QMessageBox.warning(self, "Margin Watch", f"Nothing was saved, and the book is unchanged:\n\n{e}")
                return False
            self.say(f"{what}: saved")
        else:
            self.say(f"{what} (this window's book is not the saved one: File ▸ Export to keep it)")
        keys_before = set(self.book.price_keys())
        self._use_portfolio(portfolio)
        self.positions.set_accounts([a.name for a in self.book.accounts])
        if self.prices_dock.built:
            self.prices.set_keys(self.book.price_keys())
        if set(self.book.price_keys()) - keys_before and not self.offline:
            self.sources.restart(self.book.price_keys())
        for key, mark in portfolio.price_map().items():  # a new symbol's typed price, until a feed has one
            if self.store.quote(key) is None:
                self.store.set_manual(key, mark)
        self._recompute_now()
        self.charts.draw_account_views(force=True)
        return True

    @Slot(list)
    def save_manual_prices(self, keys: Iterable[PriceKey]) -> None:
        """Save (or clear, after Back to live) the store's manual prices of these keys with the book."""
        if problem := self.sources.save_manual(keys):
            self.say(f"The manual price is used but was not saved: {problem}")

    def set_storage_note(self, note: str) -> None:
        """Why the saved book is not open ('' once it is), first in the status bar from now on."""
        self.storage_note = note
        self._last_refresh = 0.0
        self.refresh()

    def seed_mark_history(self, stored: Mapping[PriceKey, Sequence[tuple[float, float]]]) -> None:
        """Put the marks stored with the book (stored_mark_history) before the ones seen since the start."""
        self.session.history.seed_marks(stored)

    def show_stored_alerts(self, stored: Sequence[Mapping[str, Any]]) -> None:
        """List the alerts stored with the book (newest first, as BookDatabase.alerts gives them) under this
        session's, without sounding or storing them again."""
        self.alert_list.add_stored(stored)
        self.stored_alert_count += len(stored)
        if self.alert_list.count():
            self.alerts_dock.setWindowTitle(f"Alerts ({self.alert_list.count()})")

    def set_include_hypothetical(self, include: bool) -> None:
        """Include or leave out every hypothetical position from every figure (rows, accounts, charts)."""
        if not self.session.set_include_hypothetical(include):
            return
        self.actions_.hypothetical.setChecked(include)
        self._use_portfolio(self.portfolio)
        self._recompute_now()
        self.charts.draw_account_views(force=True)

    @Slot(object)
    def set_shock(self, shock: Shock | None) -> None:
        """Preview the book under a price shock (None: back to the real marks). Nothing is saved; alerts go
        on from the real marks; the banner above the tables says the view is shocked."""
        self.session.set_shock(shock)
        self.charts.forget_moves()  # moves found under the previous shock (or none) are not these marks' moves
        self._show_banner()
        self._recompute_now()
        self.charts.draw_account_views(force=True)

    @Slot()
    def end_shock(self) -> None:
        """End the shock preview (the banner's button): the Prices dock's slider goes back to 0 too."""
        if self.prices_dock.built:
            self.prices.reset_shock()  # emits shock_changed(None), which lands in set_shock
        if self.shock is not None:
            self.set_shock(None)

    def _show_banner(self) -> None:
        hypothetical = sum(p.hypothetical for p in self.book.positions)
        self.banner.show_preview(self.shock, hypothetical)

    @Slot(bool)
    def set_offline(self, offline: bool) -> None:
        """Offline: stop the feeds and keep their last prices as manual ones. Back online: new feeds, and
        the manual prices are replaced by live ones only if the user says so."""
        if offline == self.offline:
            return
        if offline:
            self.sources.go_offline()
            self.say("Offline: the feeds are stopped; the last prices are kept as manual prices.")
        else:
            answer = QMessageBox.question(
                self,
                "Back online",
                "Replace your manual prices with live ones as they arrive?\n\n"
                "No keeps every manual price (Prices dock ▸ Back to live, one symbol at a time).",
            )
            replace = answer == QMessageBox.StandardButton.Yes
            problem = self.sources.go_online(self.book.price_keys(), replace)
            if problem:
                self.say(f"Back online; the cleared manual prices were not saved: {problem}")
            elif replace:
                self.say("Back online: live prices replace the manual ones as they arrive.")
            else:
                self.say("Back online: your manual prices are kept (Prices dock ▸ Back to live).")
        self.session.working_offline = self.sources.working_offline
        self.offline_action.setChecked(offline)
        self._last_refresh = 0.0
        self.refresh()

    # -- refresh ----------------------------------------------------------------------------------

    @Slot()
    def refresh(self) -> None:
        snapshot = self.reader.read()
        self._quotes = snapshot.quotes
        if self.prices_dock.on_screen:  # a tab in the back catches up when it is shown
            self.prices.refresh(snapshot.taken_at, snapshot.quotes)
        # Recompute on new prices, and once a second regardless: ages grow and prices turn stale
        # although nothing arrives (that is exactly what a frozen feed looks like).
        if snapshot.changed or time.monotonic() - self._last_refresh >= 1.0:
            self._last_refresh = time.monotonic()
            self._recompute(snapshot.quotes, snapshot.changed)

    def _recompute_now(self) -> None:
        """A new frame at once, after the book or a layer changed (every key counts as changed)."""
        snapshot = self.reader.read()
        self._quotes = snapshot.quotes
        self._recompute(snapshot.quotes, self.book.price_keys())

    def _recompute(self, quotes: Mapping[PriceKey, MarkRecord], changed: Iterable[PriceKey]) -> None:
        """One step of the session, drawn: the tables, the alerts, the stored history, the charts, the status."""
        frame = self.frame = self.session.step(quotes, changed)
        self.model.set_risk(frame.shown, frame.rows)
        self.accounts_model.set_risk(frame.shown, self.charts.moves(frame), frame.account_levels, frame.account_notes)
        if self.history is not None:  # the real book's, whatever the preview
            samples = self.session.history.stored_samples(frame.real, frame.real_marks, frame.at)
            if samples:
                self.history.record(samples)
        self._raise_alerts(frame.alerts)
        self.charts.draw_account_views()
        self.charts.draw_chart_soon()
        self._show_status(frame.missing)
        self.positions.update_count()
        self._fit_columns_once()

    def _draw_chart(self) -> None:
        self.charts.draw_chart()

    # -- what the book's commands ask of the window (desktop.window.book_actions.BookHost) ----------------

    def selected_positions(self) -> list[int]:
        """Indexes into the full book (hypotheticals included) of the selected positions, current first."""
        rows = self.positions.selected_rows()
        current = self.positions.current_row()
        if not rows and current is not None:
            rows = [current]
        shown = self.model._rows
        positions = [shown[r].position for r in rows if 0 <= r < len(shown)]
        index_of = {id(p): i for i, p in enumerate(self.portfolio.book.positions)}
        return [index_of[id(q)] for q in positions]

    def selected_account(self) -> str | None:
        return self._shown_account()

    def listed_symbols(self) -> dict[str, list[str]]:
        """Symbols each feed's exchange lists (once the feed has loaded its markets)."""
        listed: dict[str, list[str]] = {}
        for feed in self.feeds:
            symbols = getattr(feed, "listed_symbols", None)
            if symbols:
                listed.setdefault(feed.exchange_id, []).extend(symbols)
        return listed

    def _shown_account(self) -> str | None:
        return self.charts.shown_account()

    # -- settings, theme, about -------------------------------------------------------------------

    @Slot()
    def edit_thresholds(self) -> None:
        dialog = ThresholdsDialog(self.levels.thresholds, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_thresholds is not None:
            self.apply_thresholds(dialog.result_thresholds)

    def apply_thresholds(self, thresholds: Thresholds) -> None:
        """Use new thresholds now and save them with the book (when there is a saved book)."""
        if self.database is not None:
            from engine.storage.database import StorageError

            try:
                self.database.set_setting(THRESHOLDS_SETTING, thresholds_to_setting(thresholds))
            except StorageError as e:
                QMessageBox.warning(self, "Margin Watch", f"The thresholds were not saved:\n\n{e}")
                return
        self.session.set_thresholds(thresholds)
        self.ratio_gauge.thresholds = thresholds
        self._last_refresh = 0.0  # re-evaluate every row under the new thresholds at once
        self.refresh()

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        applied = apply_theme(app, name) if isinstance(app, QApplication) else name
        self.menus.check_theme(applied)
        self.remember_theme(applied)

    def remember_theme(self, name: str) -> None:
        """The theme the next start applies."""
        if self.settings is not None:
            self.settings.setValue("view/theme", name)

    # -- alerts, history, status ------------------------------------------------------------------

    def _raise_alerts(self, new: Sequence[Alert]) -> None:
        """Show, sound, notify and store a frame's alerts (desktop.window.alert_list.AlertList.raise_)."""
        if self.alert_list.raise_(new, self.history, self.tray):
            self.alerts_dock.setWindowTitle(f"Alerts ({len(self.alerts) + self.stored_alert_count})")

    def oldest_price_age(self, now: float | None = None) -> float | None:
        """Age in seconds of the oldest feed price the book uses (manual prices have no age)."""
        quotes = self._quotes if self._quotes is not None else {}
        return oldest_price_age(quotes, self.session.price_keys, time.time() if now is None else now)

    def _show_status(self, missing: Sequence[PriceKey]) -> None:
        quotes = self._quotes if self._quotes is not None else {}
        self.status.setText(
            status_line(
                quotes,
                self.session.price_keys,
                [f.state.describe() for f in self.feeds],
                working_offline=self.sources.working_offline,
                prices_typed=self.sources.prices_typed,
                shock=describe_shock(self.shock) if self.shock is not None else "",
                storage_note=self.storage_note,
                history_error=self.history.last_error if self.history is not None else "",
                stale_after=self.stale_after,
                missing=missing,
                empty_book=not self.portfolio.book.accounts,
            )
        )

    # -- layout -----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._moves_after_paint:  # the window's first paint: search in an event after it
            self._moves_after_paint = False
            QTimer.singleShot(0, self._first_moves)

    @Slot()
    def _first_moves(self) -> None:
        if self.charts.search_first() and self._columns_fitted:  # fitted to "searching…": room for the moves
            self.accounts.itemDelegate().fit_columns(self.accounts, COLUMN_HEADROOM_PX, grow_only=True)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_columns_once)  # after the first layout: a view measures the rows it shows

    @Slot()
    def _fit_columns_once(self) -> None:
        if not self._fit_pending or self.model.rowCount() == 0 or not self.isVisible():
            return
        for view in (self.accounts, self.table):  # with room for numbers that grow later
            view.itemDelegate().fit_columns(view, COLUMN_HEADROOM_PX)
        self._fit_pending = False
        self._columns_fitted = True

    def _saved_book(self) -> BookDatabase | None:
        return self.database

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        self.sources.stop()
        if self.history is not None:
            self.history.close()
        if self.database is not None:
            # Here, not on `destroyed`: a Python slot run while Qt destroys the window's children deadlocked
            # on Qt's own mutex (seen in a full test run).
            self.database.close()
        save_layout(self.settings, self, self.splitter, self.tables.views())
        super().closeEvent(event)
