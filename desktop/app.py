"""The desktop window and its composition root: book, price store, feeds, and the refresh timer.

Feeds write into the price store on their own threads; the window pulls a coalesced snapshot on a
timer, recomputes the book once and updates only the table rows that changed. Widgets are touched
on the GUI thread only.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt, QTimer, Slot
from PySide6.QtGui import QCloseEvent, QColor, QShowEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QTableView,
)

from desktop.accounts_model import AccountsModel
from desktop.positions_model import DISTANCE_COLUMN, LEVEL_BACKGROUND, PositionsModel, RowState
from desktop.risk_ladder import RiskLadder
from desktop.thresholds_dialog import ThresholdsDialog, thresholds_from_setting, thresholds_to_setting
from engine.alerts import Alert, AlertPolicy
from engine.bundled import resource
from engine.feeds.ccxt_feed import feeds_for
from engine.feeds.exchange_config import ExchangeSettings
from engine.feeds.simulated import SimulatedFeed
from engine.layout import book_layout
from engine.levels import Level, LevelTracker, Thresholds
from engine.portfolio import Portfolio, PortfolioError, load_portfolio, loads_portfolio, parse_portfolio
from engine.prices import PriceSource, PriceStore, Quote
from engine.report import price
from engine.risk import BookRisk, evaluate_priced_accounts
from engine.storage.database import BookDatabase, StorageError
from engine.storage.paths import data_dir as resolve_data_dir
from engine.storage.paths import database_path
from engine.storage.writer import BackgroundWriter
from engine.stress import uniform_move_to_liquidation
from engine.watch import Feed

REFRESH_MS = 500
LADDER_EVERY_S = 2.0
THRESHOLDS_SETTING = "thresholds"
HISTORY_EVERY_S = 1.0
COLUMN_HEADROOM_PX = 24


def source_label(quote: Quote | None, now: float, stale: bool) -> str:
    """'live 0.4 s', 'manual', 'simulated', 'STALE 21 s' or 'missing'."""
    if quote is None:
        return "missing"
    if quote.source is PriceSource.MANUAL:
        return "manual"
    age = quote.age(now)
    return (
        f"{'STALE' if stale else quote.source.value} {age:.1f} s"
        if age < 60
        else (f"{'STALE' if stale else quote.source.value} {age / 60:.0f} min")
    )


def demo_portfolio() -> Portfolio:
    return loads_portfolio(resource("demo", "book.json").read_text(encoding="utf-8"))


def manual_store(portfolio: Portfolio) -> PriceStore:
    """A store holding the portfolio's prices as manual prices."""
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    return store


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
        stale_after: float = 15.0,
        database_file: Path | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(f"Margin Watch — {source}")
        self.portfolio = portfolio
        self.store = store if store is not None else manual_store(portfolio)
        self.reader = self.store.reader()
        self.feeds = list(feeds)
        self.settings = settings
        self.history = history
        self._last_sample = 0.0
        self._last_refresh = time.monotonic()
        for feed in self.feeds:  # first, so prices a feed has at once (the simulated one) show at once
            feed.start()
        self.database_file = database_file
        if thresholds is None and database_file is not None:
            with contextlib.suppress(StorageError), BookDatabase.open(database_file) as db:
                thresholds = thresholds_from_setting(db.setting(THRESHOLDS_SETTING))
        self.levels = LevelTracker(thresholds)
        self.alert_policy = AlertPolicy()
        self.alerts: list[Alert] = []
        self._new_alerts: list[Alert] = []
        self.stale_after = stale_after
        self.layout = book_layout(portfolio.book)
        marks = self.reader.read().marks()
        risk, missing = evaluate_priced_accounts(portfolio.book, marks)

        self.model = PositionsModel(risk, self._row_states(risk))
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        proxy.setSortRole(Qt.ItemDataRole.UserRole)
        proxy.setDynamicSortFilter(False)  # sort when asked, not on every tick
        self.table = QTableView()
        self.table.setObjectName("positions")
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.accounts_model = AccountsModel(risk, self._moves(risk, marks))
        self.accounts = QTableView()
        self.accounts.setObjectName("accounts")
        self.accounts.setModel(self.accounts_model)
        self.accounts.verticalHeader().setVisible(False)
        for view in (self.accounts, self.table):
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            view.setWordWrap(False)  # a number that outgrows its column is elided, never wrapped onto two lines
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.accounts)
        self.splitter.addWidget(self.table)
        self.splitter.setSizes([180, 520])
        self.setCentralWidget(self.splitter)
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)
        self.alert_list = QListWidget()
        self.alerts_dock = QDockWidget("Alerts", self)
        self.alerts_dock.setObjectName("alerts")
        self.alerts_dock.setWidget(self.alert_list)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.alerts_dock)
        self.ladder = RiskLadder()
        self.ladder_dock = QDockWidget("Risk ladder", self)
        self.ladder_dock.setObjectName("risk-ladder")
        self.ladder_dock.setWidget(self.ladder)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.ladder_dock)
        self.resizeDocks([self.ladder_dock], [380], Qt.Orientation.Horizontal)
        self._ladder_drawn = 0.0
        self.accounts.selectionModel().currentRowChanged.connect(lambda *_: self._draw_ladder(force=True))
        self.resizeDocks([self.alerts_dock], [110], Qt.Orientation.Vertical)  # the tables come first
        # Desktop notifications only where the platform has a tray (checked at run time).
        self.tray = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning), self)
            self.tray.setToolTip("Margin Watch")
            self.tray.show()
        self.resize(1600, 760)
        # Columns are fitted to their contents once, when the first rows are on screen, unless the
        # user's own widths were restored; never on updates.
        self._fit_pending = not self._restore_layout()
        self._show_status(missing)
        self._raise_alerts()  # levels are evaluated at start-up too
        self._risk, self._marks = risk, marks
        self._draw_ladder(force=True)

        settings_menu = self.menuBar().addMenu("&Settings")
        action = settings_menu.addAction("Risk &thresholds…")
        action.setShortcut("Ctrl+T")
        action.triggered.connect(self.edit_thresholds)

        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    @Slot()
    def refresh(self) -> None:
        snapshot = self.reader.read()
        # Recompute on new prices, and once a second regardless: ages grow and prices turn stale
        # although nothing arrives (that is exactly what a frozen feed looks like).
        if snapshot.changed or time.monotonic() - self._last_refresh >= 1.0:
            self._last_refresh = time.monotonic()
            risk, missing = evaluate_priced_accounts(self.portfolio.book, snapshot.marks())
            self.model.set_risk(risk, self._row_states(risk))
            self.accounts_model.set_risk(risk, self._moves(risk, snapshot.marks()))
            self._record_history(risk, snapshot.marks())
            self._raise_alerts()
            self._risk, self._marks = risk, snapshot.marks()
            self._draw_ladder()
            self._show_status(missing)
            self._fit_columns_once()

    def _moves(self, risk: BookRisk, marks: dict[tuple[str, str], float]) -> dict[str, float | None]:
        """Per shown account, the uniform move of its cross marks that liquidates it.

        A search per account, so it is refreshed at most every LADDER_EVERY_S seconds (and at once when
        the shown accounts change), not on every tick.
        """
        names = tuple(a.account.name for a in risk.accounts)
        cached = getattr(self, "_moves_cache", None)
        if cached is not None and cached[0] == names and time.monotonic() - cached[1] < LADDER_EVERY_S:
            return cached[2]
        moves = self._compute_moves(risk, marks)
        self._moves_cache = (names, time.monotonic(), moves)
        return moves

    def _compute_moves(self, risk: BookRisk, marks: dict[tuple[str, str], float]) -> dict[str, float | None]:
        return {
            a.account.name: uniform_move_to_liquidation(self.portfolio.book, marks, a.account.name, self.layout)
            for a in risk.accounts
        }

    def _row_states(self, risk: BookRisk) -> list[RowState]:
        """Each shown position's level (with hysteresis) and the source and age of its price."""
        position_index = {id(p): i for i, p in enumerate(self.portfolio.book.positions)}
        exchange_of = {a.name: a.exchange for a in self.portfolio.book.accounts}
        now = time.time()
        states = []
        for r in risk.positions:
            key = position_index.get(id(r.position), r.position)
            crossing = self.levels.position(key, r.distance_to_liquidation)
            level = self.levels.levels.get(key, Level.OK)
            quote = self.store.quote((exchange_of[r.position.account], r.position.symbol))
            stale = quote is not None and quote.is_stale(now, self.stale_after)
            subject = f"{r.position.account} {r.position.symbol} {r.position.side.value}"
            for alert in (
                self.alert_policy.on_crossing(key, crossing, now, subject, r.distance_to_liquidation, r.mark_price),
                self.alert_policy.on_price_age(
                    key, level, stale, now, subject, r.distance_to_liquidation, r.mark_price
                ),
            ):
                if alert is not None:
                    self._new_alerts.append(alert)
            states.append(RowState(level, source_label(quote, now, stale), stale))
        return states

    def _draw_ladder(self, force: bool = False) -> None:
        """Redraw the risk ladder for the selected account: on selection, else at most every 2 s."""
        if not force and time.monotonic() - self._ladder_drawn < LADDER_EVERY_S:
            return
        shown = [a.account.name for a in self._risk.accounts]
        if not shown:
            return
        row = self.accounts.currentIndex().row()
        account = shown[row] if 0 <= row < len(shown) else shown[0]
        self.ladder.show_account(self.portfolio.book, self._marks, account, self._risk, self.layout)
        self.ladder_dock.setWindowTitle(f"Risk ladder: {account}")
        self._ladder_drawn = time.monotonic()

    @Slot()
    def edit_thresholds(self) -> None:
        dialog = ThresholdsDialog(self.levels.thresholds, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_thresholds is not None:
            self.apply_thresholds(dialog.result_thresholds)

    def apply_thresholds(self, thresholds: Thresholds) -> None:
        """Use new thresholds now and save them with the book (when there is a saved book)."""
        if self.database_file is not None:
            try:
                with BookDatabase.open(self.database_file) as db:
                    db.set_setting(THRESHOLDS_SETTING, thresholds_to_setting(thresholds))
            except StorageError as e:
                QMessageBox.warning(self, "Margin Watch", f"The thresholds were not saved:\n\n{e}")
                return
        self.levels = LevelTracker(thresholds)
        self._last_refresh = 0.0  # re-evaluate every row under the new thresholds at once
        self.refresh()

    def _raise_alerts(self) -> None:
        """Show, sound, notify and store the alerts found by the last evaluation."""
        new, self._new_alerts = self._new_alerts, []
        for alert in new:
            self.alerts.append(alert)
            stamp = time.strftime("%H:%M:%S", time.localtime(alert.at))
            mark = "" if alert.mark is None else f", mark {price(alert.mark)}"
            item = QListWidgetItem(f"{stamp}  {alert.describe()}{mark}")
            item.setBackground(LEVEL_BACKGROUND.get(alert.new, QColor(0, 0, 0, 0)))
            self.alert_list.insertItem(0, item)
            if self.history is not None:
                self.history.record_alert(alert)
            if self.tray is not None:
                self.tray.showMessage("Margin Watch", alert.describe(), QSystemTrayIcon.MessageIcon.Warning, 10_000)
        if new:
            QApplication.beep()
            self.alerts_dock.setWindowTitle(f"Alerts ({len(self.alerts)})")

    def _record_history(self, risk: BookRisk, marks: dict[tuple[str, str], float]) -> None:
        """Queue chart history (at most once a second); the writer thread does the disk work."""
        now = time.time()
        if self.history is None or now - self._last_sample < HISTORY_EVERY_S:
            return
        self._last_sample = now
        samples = [(f"mark:{exchange}:{symbol}", now, mark) for (exchange, symbol), mark in marks.items()]
        for a in risk.accounts:
            samples.append((f"equity:{a.account.name}", now, a.equity))
            if a.margin_ratio is not None:
                samples.append((f"margin_ratio:{a.account.name}", now, a.margin_ratio))
        self.history.record(samples)

    def _show_status(self, missing: list[tuple[str, str]]) -> None:
        parts = [f.state.describe() for f in self.feeds] or ["prices: manual (from the book), not live"]
        if self.history is not None and self.history.last_error:
            parts.append(f"history not saved: {self.history.last_error}")
        if missing:
            parts.append("waiting for prices: " + ", ".join(symbol for _, symbol in missing))
        if not self.portfolio.book.accounts:
            parts.append("no saved book yet: run 'marginwatch import FILE', or try 'marginwatch --demo'")
        self.status.setText("   ·   ".join(parts))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._fit_columns_once)  # after the first layout: a view measures the rows it shows

    @Slot()
    def _fit_columns_once(self) -> None:
        if not self._fit_pending or self.model.rowCount() == 0 or not self.isVisible():
            return
        for view in (self.accounts, self.table):
            view.resizeColumnsToContents()
            for column in range(view.model().columnCount()):  # room for numbers that grow later
                view.setColumnWidth(column, view.columnWidth(column) + COLUMN_HEADROOM_PX)
        self._fit_pending = False

    def _restore_layout(self) -> bool:
        """Apply the saved layout; True when there was one."""
        if self.settings is None or self.settings.value("window/geometry") is None:
            return False
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        docks = self.settings.value("window/docks")
        if docks is not None:
            self.restoreState(docks)
        for key, widget in (("window/splitter", self.splitter),):
            state = self.settings.value(key)
            if state is not None:
                widget.restoreState(state)
        for view in (self.table, self.accounts):
            state = self.settings.value(f"columns/{view.objectName()}")
            if state is not None:
                view.horizontalHeader().restoreState(state)
        return True

    def _save_layout(self) -> None:
        if self.settings is None:
            return
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/docks", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        for view in (self.table, self.accounts):
            self.settings.setValue(f"columns/{view.objectName()}", view.horizontalHeader().saveState())
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.timer.stop()
        for feed in self.feeds:
            feed.stop()
        if self.history is not None:
            self.history.close()
        self._save_layout()
        super().closeEvent(event)


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


def _prices_and_feeds(portfolio: Portfolio, options: WindowOptions) -> tuple[PriceStore, list[Feed], str]:
    """Offline: the book's prices as manual ones. Online: a ccxt feed per exchange, and the book's
    prices are not applied (they must not mask live ones), as in `marginwatch watch`."""
    if options.offline:
        return manual_store(portfolio), [], "offline"
    store = PriceStore()
    return store, list(feeds_for(portfolio.book.price_keys(), store, options.exchange_settings)), "live"


def build_window(options: WindowOptions | None = None) -> MainWindow:
    options = options or WindowOptions()
    folder = resolve_data_dir(options.data_dir)
    settings = layout_settings(folder)
    if options.demo:
        portfolio = demo_portfolio()
        store = PriceStore()
        feed = SimulatedFeed(store, portfolio.price_map(), seed=7)
        return MainWindow(portfolio, "demo book · simulated prices", store, [feed], settings)
    if options.book_file:
        portfolio = load_portfolio(options.book_file)
        store, feeds, mode = _prices_and_feeds(portfolio, options)
        return MainWindow(
            portfolio, f"{options.book_file} · {mode}", store, feeds, settings, stale_after=options.stale_after
        )
    history = None
    try:
        with BookDatabase.open(database_path(options.data_dir)) as db:
            portfolio = db.load()
            notice = db.notice.message
            db.thin_history()
        history = BackgroundWriter(database_path(options.data_dir))
    except (StorageError, PortfolioError) as e:  # PortfolioError: a saved book the bundled tables no longer cover
        QMessageBox.warning(None, "Margin Watch", f"The saved book could not be opened:\n\n{e}")
        portfolio, notice = parse_portfolio({"accounts": [], "positions": []}), ""
    store, feeds, mode = _prices_and_feeds(portfolio, options)
    window = MainWindow(
        portfolio,
        f"saved book · {mode}",
        store,
        feeds,
        settings,
        history=history,
        stale_after=options.stale_after,
        database_file=database_path(options.data_dir),
    )
    if notice:
        QMessageBox.information(window, "Margin Watch", notice)
    return window


def run_app(options: WindowOptions | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Margin Watch")
    window = build_window(options)
    window.show()
    return app.exec()
