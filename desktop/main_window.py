"""The watch window: positions, accounts, charts and alerts, refreshed from the price store on a timer.

Feeds write into the price store on their own threads; the window pulls a coalesced snapshot on a
timer (10 Hz by default), recomputes the book once through the vectorised engine and updates only the
table rows that changed. Widgets are touched on the GUI thread only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QKeySequence, QPaintEvent, QShowEvent
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
    QSystemTrayIcon,
    QTableView,
    QWidget,
)

from desktop.accounts_model import RATIO_COLUMN, AccountsModel
from desktop.book_actions import BookActions
from desktop.cell_painter import CellPainter
from desktop.delegates import DistanceBarDelegate, RatioGaugeDelegate
from desktop.icon import app_icon
from desktop.lazy_dock import LazyDock
from desktop.position_chart import PositionChart
from desktop.positions_model import DISTANCE_COLUMN, LEVEL_BACKGROUND, PositionsModel, RowState, quoted
from desktop.positions_view import PositionsView
from desktop.price_labels import price_source
from desktop.ring_buffer import RingBuffer
from desktop.theme import THEMES, applied_theme, apply_theme
from desktop.thresholds_dialog import ThresholdsDialog, thresholds_to_setting
from engine.alerts import Alert, AlertPolicy
from engine.layout import book_layout
from engine.levels import Level, LevelTracker, Thresholds
from engine.live_risk import LiveEvaluator, VectorPositions, position_distances, positions_known
from engine.model import Book, Position, PriceKey
from engine.portfolio import Portfolio
from engine.prices import PriceStore, Quote, Shock
from engine.report import account_ratio_text, price
from engine.risk import BookRisk, PositionRisk
from engine.vectorised_stress import MoveSearch

if TYPE_CHECKING:  # annotations only: the docks' modules are imported when their tab is first shown, storage
    # when the book is saved
    from desktop.account_chart import AccountChart
    from desktop.prices_panel import PricesPanel
    from desktop.risk_ladder import RiskLadder
    from engine.storage.database import BookDatabase
    from engine.storage.writer import BackgroundWriter
    from engine.watch import Feed


StoredHistory = tuple[list[tuple[float, float]], dict[float, float]]
"""An account's stored equity samples (time, value) and its margin ratios by time."""


def stored_account_history(db: BookDatabase, book: Book, days: float = 1.0) -> dict[str, StoredHistory]:
    """The last `days` of each account's equity and margin ratio in the book's database (read where the
    database is open anyway, at start-up, rather than opening it again)."""
    since = time.time() - days * 86_400
    return {
        a.name: (db.history(f"equity:{a.name}", since), dict(db.history(f"margin_ratio:{a.name}", since)))
        for a in book.accounts
    }


def stored_mark_history(db: BookDatabase, book: Book, days: float = 1.0) -> dict[PriceKey, list[tuple[float, float]]]:
    """The last `days` of each of the book's marks stored with it (time, mark), for the position chart."""
    since = time.time() - days * 86_400
    stored = {key: db.history(f"mark:{key[0]}:{key[1]}", since) for key in book.price_keys()}
    return {key: samples for key, samples in stored.items() if samples}


def _single_shot(parent: QWidget, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.timeout.connect(slot)
    return timer


FeedFactory = Callable[[Sequence[PriceKey], PriceStore], Sequence["Feed"]]

REFRESH_HZ = 10.0
LADDER_EVERY_S = 2.0
THRESHOLDS_SETTING = "thresholds"
HISTORY_EVERY_S = 1.0
MARKS_EVERY_S = 0.5
"""Chart samples of each mark at most twice a second: the ring buffer then holds an hour."""
MARKS_CAPACITY = 7_200
ACCOUNT_CAPACITY = 86_400
"""A day of equity and margin-ratio samples at one a second."""
COLUMN_HEADROOM_PX = 12
VERSION_FALLBACK = "development build"


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("marginwatch")
    except PackageNotFoundError:
        return VERSION_FALLBACK


def position_keys(positions: Sequence[Position]) -> list[tuple]:
    """A key per position that survives edits elsewhere in the book (levels and alerts are keyed by it).

    Account, symbol, side and the hypothetical flag identify a position; a counter tells apart the rare
    duplicates (two hypothetical trades on one symbol).
    """
    seen: dict[tuple, int] = {}
    keys = []
    for p in positions:
        base = (p.account, p.symbol, p.side.value, p.hypothetical)
        seen[base] = seen.get(base, -1) + 1
        keys.append((*base, seen[base]))
    return keys


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
        database_file: Path | None = None,
        refresh_hz: float = REFRESH_HZ,
        feed_factory: FeedFactory | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.setWindowTitle(f"Margin Watch — {source}")
        self.setWindowIcon(app_icon())
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
        self.levels = LevelTracker(thresholds)
        self.alert_policy = AlertPolicy()
        self.alerts: list[Alert] = []
        self._new_alerts: list[Alert] = []
        self.stale_after = stale_after
        self.marks_history: dict[PriceKey, RingBuffer] = {}
        self._marks_sampled: dict[PriceKey, float] = {}
        self.equity_history: dict[str, RingBuffer] = {}
        self.ratio_history: dict[str, RingBuffer] = {}
        self._account_sampled = 0.0
        self._account_drawn: tuple[int, float] = (-1, 0.0)
        self._moves_fresh = False
        # Work run between frames (see _between_frames_ms), each at most once per refresh.
        self._moves_timer = _single_shot(self, self._update_moves)
        self._chart_timer = _single_shot(self, self._draw_chart)
        self._moves_cache: tuple[tuple[str, ...], float, dict[str, float | None]] | None = None
        self.include_hypothetical = True
        self._quotes: Mapping[PriceKey, Quote] | None = None
        self.feed_factory = feed_factory
        self.offline = not self.feeds
        self.shock: Shock | None = None
        self.last_import_error = ""
        self.storage_note = ""
        """Why the saved book is not open (the window then writes no database), first in the status bar."""
        self.saved_book_bar: QWidget | None = None
        self.stored_alert_count = 0

        self._use_portfolio(portfolio)
        marks = self.reader.read().marks()
        self._real_marks = marks
        risk, missing = self.evaluator.evaluate(marks)

        # -- positions and accounts -----------------------------------------------------------
        self.model = PositionsModel(risk, self._row_states(risk), set_mark=self.type_mark)
        self.positions = PositionsView(self.model)
        self.table = self.positions.table
        self.table.setItemDelegate(CellPainter(self.model, self.table))
        self.table.setItemDelegateForColumn(DISTANCE_COLUMN, DistanceBarDelegate(self.model, self.table))
        # The moves are searched once the window is on screen (_first_moves): "searching…" until then.
        self.accounts_model = AccountsModel(risk, None, self._account_levels(risk))
        self._moves_after_paint = True
        self.accounts = QTableView()
        self.accounts.setObjectName("accounts")
        self.accounts.verticalHeader().setVisible(False)
        self.accounts.setModel(self.accounts_model)
        self.accounts.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.accounts.setItemDelegate(CellPainter(self.accounts_model, self.accounts))
        self.ratio_gauge = RatioGaugeDelegate(self.accounts_model, self.levels.thresholds, self.accounts)
        self.accounts.setItemDelegateForColumn(RATIO_COLUMN, self.ratio_gauge)
        for view in (self.accounts, self.table):
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            view.setWordWrap(False)  # a number that outgrows its column is elided, never wrapped onto two lines
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.accounts)
        self.splitter.addWidget(self.positions)
        self.splitter.setSizes([170, 530])
        self.setCentralWidget(self.splitter)
        self.positions.set_accounts([a.name for a in self.book.accounts])

        # -- status, alerts and charts ----------------------------------------------------------
        self.status = QLabel()
        self.statusBar().addWidget(self.status, 1)
        self.alert_list = QListWidget()
        self.alert_list.setUniformItemSizes(True)  # one line each: laid out without measuring every alert
        self.alerts_dock = self._dock("Alerts", "alerts", self.alert_list, Qt.DockWidgetArea.BottomDockWidgetArea)
        # The charts and the prices table are built when their tab first comes to the front.
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.ladder_dock = self._lazy_dock("Risk ladder", "risk-ladder", self._build_ladder, right)
        self.resizeDocks([self.ladder_dock], [460], Qt.Orientation.Horizontal)
        self.chart_dock = self._lazy_dock("Position", "position-chart", PositionChart, right)
        self.account_chart_dock = self._lazy_dock("Account history", "account-chart", self._build_account_chart, right)
        self.prices_dock = self._lazy_dock("Prices", "prices", self._build_prices, bottom)
        self.tabifyDockWidget(self.alerts_dock, self.prices_dock)
        self.alerts_dock.raise_()
        self.tabifyDockWidget(self.ladder_dock, self.chart_dock)
        self.tabifyDockWidget(self.chart_dock, self.account_chart_dock)
        self.chart_dock.shown.connect(self._draw_chart)
        for dock in (self.ladder_dock, self.account_chart_dock):
            dock.shown.connect(lambda: self._draw_account_views(force=True))
        self.prices_dock.shown.connect(lambda: self.prices.refresh(quotes=self._quotes))
        self.chart_dock.raise_()
        self.resizeDocks([self.alerts_dock], [110], Qt.Orientation.Vertical)  # the tables come first
        self._ladder_drawn = 0.0
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._draw_chart())
        self.positions.filter_changed.connect(self._draw_chart)
        self.accounts.selectionModel().currentRowChanged.connect(lambda *_: self._draw_account_views(force=True))

        # Desktop notifications only where the platform has a tray (checked at run time).
        self.tray = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip("Margin Watch")
            self.tray.show()
        self.actions_ = BookActions(self)
        self._build_menus()
        self._build_context_menus()
        self.resize(1600, 1000)
        # Columns are fitted to their contents once, when the first rows are on screen, unless the
        # user's own widths were restored; never on updates.
        self._fit_pending = not self._restore_layout()
        self._columns_fitted = False
        self._seed_account_history(account_history or {})
        self._risk, self._marks = risk, marks
        self._record_samples(risk, marks, marks.keys())
        self._show_status(missing)
        self._raise_alerts()  # levels are evaluated at start-up too
        self._draw_account_views(force=True)
        self._draw_chart()

        self.timer = QTimer(self)
        self.timer.setInterval(round(1000 / refresh_hz))
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    # -- construction helpers ---------------------------------------------------------------------

    def _dock(self, title: str, name: str, widget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _lazy_dock(self, title: str, name: str, build: Callable[[], QWidget], area: Qt.DockWidgetArea) -> LazyDock:
        dock = LazyDock(title, name, build, self)
        self.addDockWidget(area, dock)
        return dock

    def _build_ladder(self) -> RiskLadder:
        from desktop.risk_ladder import RiskLadder

        return RiskLadder()

    def _build_account_chart(self) -> AccountChart:
        from desktop.account_chart import AccountChart

        return AccountChart()

    def _build_prices(self) -> PricesPanel:
        from desktop.prices_panel import PricesPanel

        panel = PricesPanel(self.store, self.book.price_keys(), stale_after=self.stale_after)
        panel.shock_changed.connect(self.set_shock)
        panel.manual_changed.connect(self.save_manual_prices)
        panel.manual_changed.connect(lambda _keys: self.refresh())
        return panel

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
        """Compile the book the window evaluates (hypothetical positions left out when toggled off)."""
        self.portfolio = portfolio
        self.book: Book = portfolio.book if self.include_hypothetical else portfolio.book.without_hypothetical()
        self.layout = book_layout(self.book)
        self.evaluator = LiveEvaluator(self.book, self.layout)
        self.move_search = MoveSearch(self.evaluator.compiled)
        self._keys = position_keys(self.book.positions)
        self._key_of = {id(p): k for p, k in zip(self.book.positions, self._keys, strict=True)}
        self._exchange_of = {a.name: a.exchange for a in self.book.accounts}
        self._price_key_of_row = [(self._exchange_of[p.account], p.symbol) for p in self.book.positions]
        self._price_keys = self.book.price_keys()
        self._moves_cache = None

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.file_menu = file_menu
        a = self.actions_
        for action in (a.import_book, a.export_book, None, a.import_csv, a.export_csv, None):
            file_menu.addAction(action) if action is not None else file_menu.addSeparator()
        self.offline_action = file_menu.addAction("Work &offline (manual prices)")
        self.offline_action.setCheckable(True)
        self.offline_action.setChecked(self.offline)
        self.offline_action.setEnabled(self.feed_factory is not None or not self.offline)
        self.offline_action.setShortcut("Ctrl+Shift+O")
        self.offline_action.toggled.connect(self.set_offline)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.edit_menu = edit_menu
        edit_menu.addAction(self.positions.copy_action)
        edit_menu.addAction(self.positions.find_action)
        edit_menu.addSeparator()
        for action in (
            a.new_position,
            a.edit_position,
            a.whatif,
            a.margin,
            a.delete,
            None,
            a.new_account,
            a.edit_account,
            None,
            a.hypothetical,
        ):
            edit_menu.addAction(action) if action is not None else edit_menu.addSeparator()
        self.addAction(self.positions.find_action)

        view_menu = self.menuBar().addMenu("&View")
        self.view_menu = view_menu
        theme_menu = view_menu.addMenu("&Theme")
        self.theme_actions = QActionGroup(self)
        for name in THEMES:
            action = theme_menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setData(name)
            self.theme_actions.addAction(action)
        self.theme_actions.triggered.connect(lambda action: self.set_theme(action.data()))
        view_menu.addSeparator()
        for dock, shortcut in (
            (self.chart_dock, "Ctrl+1"),
            (self.account_chart_dock, "Ctrl+2"),
            (self.ladder_dock, "Ctrl+3"),
            (self.alerts_dock, "Ctrl+4"),
            (self.prices_dock, "Ctrl+5"),
        ):
            action = dock.toggleViewAction()
            action.setShortcut(shortcut)
            view_menu.addAction(action)

        settings_menu = self.menuBar().addMenu("&Settings")
        action = settings_menu.addAction("Risk &thresholds…")
        action.setShortcut("Ctrl+T")
        action.triggered.connect(self.edit_thresholds)

        help_menu = self.menuBar().addMenu("&Help")
        about = help_menu.addAction("&About Margin Watch")
        about.setShortcut(QKeySequence.StandardKey.HelpContents)
        about.triggered.connect(self.show_about)
        self._check_theme(applied_theme(QApplication.instance()))  # what run_app applied, from the settings

    def _build_context_menus(self) -> None:
        a = self.actions_
        first = self.table.actions()[0] if self.table.actions() else None
        for action in (a.edit_position, a.whatif, a.margin, a.delete, a.new_position):
            self.table.insertAction(first, action)
        separator = QAction(self.table)
        separator.setSeparator(True)
        self.table.insertAction(first, separator)
        self.accounts.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        open_trade = QAction("&Open a position (what-if)…", self.accounts)
        open_trade.triggered.connect(
            lambda: (account := self._shown_account()) and self.actions_.open_trade_on_account(account)
        )
        self.accounts.addAction(open_trade)
        for action in (a.new_position, a.edit_account, a.new_account):
            self.accounts.addAction(action)

    # -- the book, prices and modes ---------------------------------------------------------------

    def say(self, text: str) -> None:
        """A passing message in the status bar (never a dialog)."""
        self.statusBar().showMessage(text, 10_000)

    def type_mark(self, r: PositionRisk, text: str) -> str | None:
        """A mark typed into the positions table: a manual price for that symbol, or the reason it is refused."""
        from desktop.prices_panel import PriceRefused, parse_price

        try:
            mark = parse_price(text, r.position.symbol)
        except PriceRefused as e:
            self.say(str(e))
            return str(e)
        key = (self._exchange_of[r.position.account], r.position.symbol)
        self.store.set_manual(key, mark)
        self.save_manual_prices([key])
        self.say(f"{r.position.symbol}: manual price {quoted(mark, r.position.symbol)} (Prices dock ▸ Back to live)")
        self.refresh()
        return None

    def real_marks(self) -> dict[PriceKey, float]:
        """The marks in use, before any shock preview."""
        return dict(self._real_marks)

    def real_risk(self) -> BookRisk:
        return self._risk if self.shock is None else self.evaluator.evaluate(self._real_marks)[0]

    def apply_portfolio(self, portfolio: Portfolio, what: str) -> bool:
        """Save the new book (when there is a saved book) and show it; False, and nothing changed, on failure."""
        if self.database_file is not None:
            from engine.storage.database import BookDatabase, StorageError

            try:
                with BookDatabase.open(self.database_file) as db:
                    db.import_portfolio(portfolio, replace=True)
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
            self._restart_feeds()
        for key, mark in portfolio.price_map().items():  # a new symbol's typed price, until a feed has one
            if self.store.quote(key) is None:
                self.store.set_manual(key, mark)
        self._recompute(self.marks_for(self.reader.read().marks()), self.book.price_keys())
        self._draw_account_views(force=True)
        return True

    @Slot(list)
    def save_manual_prices(self, keys: Iterable[PriceKey]) -> None:
        """Save (or clear, after Back to live) the store's manual prices of these keys with the book."""
        if self.database_file is None:
            return
        from engine.prices import PriceSource  # here, not at the top: keeps this hook one block for merges
        from engine.storage.database import BookDatabase, StorageError

        marks = {}
        for key in keys:
            quote = self.store.quote(key)
            marks[key] = quote.mark if quote is not None and quote.source is PriceSource.MANUAL else None
        try:
            with BookDatabase.open(self.database_file) as db:
                db.save_manual_prices(marks)
        except StorageError as e:
            self.say(f"The manual price is used but was not saved: {e}")

    def set_storage_note(self, note: str) -> None:
        """Why the saved book is not open ('' once it is), first in the status bar from now on."""
        self.storage_note = note
        self._last_refresh = 0.0
        self.refresh()

    def seed_mark_history(self, stored: Mapping[PriceKey, Sequence[tuple[float, float]]]) -> None:
        """Put the marks stored with the book (stored_mark_history) before the ones seen since the start."""
        for key, samples in stored.items():
            buffer = RingBuffer(MARKS_CAPACITY)
            for at, mark in samples:
                buffer.append(at, mark)
            if key in self.marks_history:
                for at, mark in zip(*self.marks_history[key].series(), strict=True):
                    buffer.append(float(at), float(mark))
            self.marks_history[key] = buffer

    def show_stored_alerts(self, stored: Sequence[Mapping[str, Any]]) -> None:
        """List the alerts stored with the book (newest first, as BookDatabase.alerts gives them) under this
        session's, without sounding or storing them again."""
        for row in stored:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["at"]))
            mark = "" if row["mark"] is None else f", mark {price(row['mark'])}"
            self.alert_list.addItem(QListWidgetItem(f"{stamp}  {row['subject']}{mark}"))
        self.stored_alert_count += len(stored)
        if self.alert_list.count():
            self.alerts_dock.setWindowTitle(f"Alerts ({self.alert_list.count()})")

    def set_include_hypothetical(self, include: bool) -> None:
        """Include or leave out every hypothetical position from every figure (rows, accounts, charts)."""
        if include == self.include_hypothetical:
            return
        self.include_hypothetical = include
        self.actions_.hypothetical.setChecked(include)
        self._use_portfolio(self.portfolio)
        self._recompute(self.marks_for(self.reader.read().marks()), self.book.price_keys())
        self._draw_account_views(force=True)

    @Slot(object)
    def set_shock(self, shock: Shock | None) -> None:
        """Preview the book under a price shock (None: back to the real marks). Nothing is saved or alerted."""
        self.shock = shock
        self._moves_cache = None  # moves found under the previous shock (or none) are not these marks' moves
        self._recompute(self.marks_for(self.reader.read().marks()), self.book.price_keys())
        self._draw_account_views(force=True)

    @Slot(bool)
    def set_offline(self, offline: bool) -> None:
        """Offline: stop the feeds and keep their last prices as manual ones. Back online: new feeds, and
        the manual prices are replaced by live ones only if the user says so."""
        if offline == self.offline:
            return
        self.offline = offline
        if offline:
            for feed in self.feeds:
                feed.stop()
            self.feeds = []
            self.store.freeze_as_manual()
            self.say("Offline: the feeds are stopped; the last prices are kept as manual prices.")
        else:
            answer = QMessageBox.question(
                self,
                "Back online",
                "Replace your manual prices with live ones as they arrive?\n\n"
                "No keeps every manual price (Prices dock ▸ Back to live, one symbol at a time).",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.store.clear_manual()
                self.save_manual_prices(self.book.price_keys())
            self._restart_feeds()
        self.offline_action.setChecked(offline)
        self._last_refresh = 0.0
        self.refresh()

    def _restart_feeds(self) -> None:
        for feed in self.feeds:
            feed.stop()
        self.feeds = list(self.feed_factory(self.book.price_keys(), self.store)) if self.feed_factory else []
        for feed in self.feeds:
            feed.start()

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
            self._recompute(self.marks_for(snapshot.marks()), snapshot.changed)

    def marks_for(self, marks: dict[PriceKey, float]) -> dict[PriceKey, float]:
        """The marks the book is evaluated at: the real ones, under the shock preview when there is one."""
        self._real_marks = marks
        return self.shock.apply(marks) if self.shock is not None else marks

    def _recompute(self, marks: dict[PriceKey, float], changed: Iterable[PriceKey]) -> None:
        previewing = self.shock is not None
        if previewing:  # levels of the preview start afresh and are thrown away: no alert, no hysteresis change
            real_levels, self.levels = self.levels, LevelTracker(self.levels.thresholds)
        risk, missing = self.evaluator.evaluate(marks)
        self.model.set_risk(risk, self._row_states(risk))
        self.accounts_model.set_risk(risk, self._moves(risk, marks), self._account_levels(risk))
        self._risk, self._marks = risk, marks
        if previewing:
            self.levels = real_levels
            self._new_alerts.clear()
        else:
            self._record_history(risk, marks)
            self._raise_alerts()
            self._record_samples(risk, marks, changed)
        self._draw_account_views()
        self._draw_chart_soon()
        self._show_status(missing)
        self.positions.update_count()
        self._fit_columns_once()

    def _moves(self, risk: BookRisk, marks: dict[PriceKey, float]) -> dict[str, float | None]:
        """Per shown account, the uniform move of its cross marks that liquidates it.

        A search over every account, so it is redone at most every LADDER_EVERY_S seconds, between two
        frames (after the refresh has painted: the search, the refresh and its paint never make one long
        pause); at once only when the shown accounts change.
        """
        self._moves_fresh = False
        names = tuple(a.account.name for a in risk.accounts)
        cached = self._moves_cache
        if cached is None or cached[0] != names:
            self._moves_fresh = True
            return self._search_moves(risk, marks)
        if time.monotonic() - cached[1] >= LADDER_EVERY_S and not self._moves_timer.isActive():
            self._moves_timer.start(self._between_frames_ms())
        return cached[2]

    @Slot()
    def _update_moves(self) -> None:
        if self._moves_cache is None:  # the book changed meanwhile: the next refresh searches
            return
        moves = self._search_moves(self._risk, self._marks)
        self.accounts_model.set_risk(self._risk, moves, self.accounts_model.levels)

    def _search_moves(self, risk: BookRisk, marks: dict[PriceKey, float]) -> dict[str, float | None]:
        """Every account's move at once (an account missing a cross mark has none; the others are unaffected)."""
        names = tuple(a.account.name for a in risk.accounts)
        found = self.move_search.moves(self.evaluator.compiled.prices_from(marks))
        moves = {a.name: move for a, move in zip(self.book.accounts, found, strict=True)}
        self._moves_cache = (names, time.monotonic(), moves)
        return moves

    def _row_states(self, risk: BookRisk) -> list[RowState]:
        """Each shown position's level (with hysteresis) and the source and age of its price.

        Levels are found for all rows in one array operation; only rows that crossed a level or whose
        price is (or was) stale go on to the alert policy, and each price's label is made once however
        many positions share it.
        """
        now = time.time()
        rows = risk.positions
        if isinstance(rows, VectorPositions) and rows.positions is self.book.positions:
            keys, price_keys = self._keys, self._price_key_of_row
        else:  # the accounts whose marks are all in: a part of the book
            positions = [r.position for r in rows]
            keys = [self._key_of.get(id(p), p) for p in positions]
            price_keys = [(self._exchange_of[p.account], p.symbol) for p in positions]
        levels, crossings = self.levels.positions(keys, position_distances(rows), positions_known(rows))
        quotes = self._quotes
        quote = quotes.get if quotes is not None else self.store.quote  # the snapshot's: no lock per key
        shock = self.shock
        labels: dict[PriceKey, tuple[str, bool]] = {}
        for price_key in dict.fromkeys(price_keys):
            shocked = shock is not None and shock.touches(price_key)
            labels[price_key] = price_source(quote(price_key), now, self.stale_after, shocked)
        states = [RowState(level, *labels[k]) for level, k in zip(levels, price_keys, strict=True)]

        crossed = {c.key: c for c in crossings}
        any_stale = any(stale for _, stale in labels.values())
        if crossed or any_stale or self.alert_policy.stale_spells():  # else no row has anything to alert
            for i, (key, state) in enumerate(zip(keys, states, strict=True)):
                crossing = crossed.get(key)
                if crossing is None and not state.stale and not self.alert_policy.in_stale_spell(key):
                    continue
                r = rows[i]
                p = r.position
                subject = f"{p.account} {p.symbol} {p.side.value}"
                for alert in (
                    self.alert_policy.on_crossing(key, crossing, now, subject, r.distance_to_liquidation, r.mark_price),
                    self.alert_policy.on_price_age(
                        key, state.level, state.stale, now, subject, r.distance_to_liquidation, r.mark_price
                    ),
                ):
                    if alert is not None:
                        self._new_alerts.append(alert)
        return states

    def _account_levels(self, risk: BookRisk) -> list[Level]:
        """Each account's margin-ratio level (with hysteresis); a rise is an alert like a position's."""
        now = time.time()
        levels = []
        for a in risk.accounts:
            key = ("account", a.account.name)
            # The level follows the cross ratio; while a cross mark is missing the account keeps its level.
            known = not (a.missing and a.has_cross)
            crossing = self.levels.account(key, a.margin_ratio, equity_gone=a.liquidated) if known else None
            if crossing is not None:
                alert = self.alert_policy.on_crossing(
                    key, crossing, now, f"account {a.account.name} (margin ratio {account_ratio_text(a)})", None, None
                )
                if alert is not None:
                    self._new_alerts.append(alert)
            levels.append(self.levels.levels.get(key, Level.OK))
        return levels

    # -- charts -----------------------------------------------------------------------------------

    def _record_samples(self, risk: BookRisk, marks: Mapping[PriceKey, float], changed: Iterable[PriceKey]) -> None:
        """Chart history in memory: marks at most twice a second each, account figures once a second."""
        now = time.time()
        sampled = self._marks_sampled
        for key in changed:
            if key in marks and now - sampled.get(key, 0.0) >= MARKS_EVERY_S:
                sampled[key] = now
                self.marks_history.setdefault(key, RingBuffer(MARKS_CAPACITY)).append(now, marks[key])
        if now - self._account_sampled < HISTORY_EVERY_S:
            return
        self._account_sampled = now
        for a in risk.accounts:
            name = a.account.name
            if a.missing:  # no sample made of a missing mark
                continue
            self.equity_history.setdefault(name, RingBuffer(ACCOUNT_CAPACITY)).append(now, a.equity)
            ratio = float("nan") if a.margin_ratio is None else a.margin_ratio
            self.ratio_history.setdefault(name, RingBuffer(ACCOUNT_CAPACITY)).append(now, ratio)

    def _seed_account_history(self, stored: Mapping[str, StoredHistory]) -> None:
        """Start the account charts from the day of history stored with the book (stored_account_history)."""
        for name, (equity, ratios) in stored.items():
            e_buffer = self.equity_history.setdefault(name, RingBuffer(ACCOUNT_CAPACITY))
            r_buffer = self.ratio_history.setdefault(name, RingBuffer(ACCOUNT_CAPACITY))
            for at, value in equity:
                e_buffer.append(at, value)
                r_buffer.append(at, ratios.get(at, float("nan")))

    def _between_frames_ms(self) -> int:
        """Half a refresh interval: work started this long after a refresh runs once the refresh's frame
        is painted, instead of adding to it (a refresh and its paint take 20-30 ms of the 100)."""
        return self.timer.interval() // 2

    def _draw_chart_soon(self) -> None:
        """Redraw the chart between frames: its paint never lands in the frame that repaints the tables
        (the two together made the longest pauses of the GUI thread)."""
        if not self._chart_timer.isActive():
            self._chart_timer.start(self._between_frames_ms())

    def _draw_chart(self) -> None:
        """The selected position (else the one closest to liquidation, the table's first row)."""
        row = self.positions.current_row()
        if row is None or not 0 <= row < len(self.model._rows) or not self.chart_dock.on_screen:
            return
        r = self.model._rows[row]
        key = (self._exchange_of[r.position.account], r.position.symbol)
        history = self.marks_history.get(key)
        if history is not None:
            self.chart.show_position(r, history, self.levels.thresholds, key)
            self.chart_dock.setWindowTitle(f"Position: {r.position.symbol.split(':')[0]} {r.position.side.value}")

    def _shown_account(self) -> str | None:
        shown = [a.account.name for a in self._risk.accounts]
        if not shown:
            return None
        row = self.accounts.currentIndex().row()
        return shown[row] if 0 <= row < len(shown) else shown[0]

    def _draw_account_views(self, force: bool = False) -> None:
        """Account history (on each new sample) and risk ladder (at most every 2 s) of the selected account.

        Charts hidden behind another tab are not drawn; they catch up when shown. The ladder is not drawn
        in the refresh that recomputed the accounts' moves, so the two costs never land on one frame.
        """
        account = self._shown_account()
        if account is None:
            return
        if account in self.equity_history and self.account_chart_dock.on_screen:
            samples = self.equity_history[account].count, self._account_sampled
            if force or samples != self._account_drawn:
                currency = self.book.account(account).currency
                self.account_chart.show_account(
                    account, currency, self.equity_history[account], self.ratio_history[account], self.levels.thresholds
                )
                self._account_drawn = samples
        self.account_chart_dock.setWindowTitle(f"Account history: {account}")
        self.ladder_dock.setWindowTitle(f"Risk ladder: {account}")
        if not self.ladder_dock.on_screen or (
            not force and (time.monotonic() - self._ladder_drawn < LADDER_EVERY_S or self._moves_fresh)
        ):
            return
        self._ladder_drawn = time.monotonic()
        if self._risk.account(account).missing:  # no ladder on a made-up price
            self.ladder_dock.setWindowTitle(f"Risk ladder: {account} (waiting for prices)")
            return
        move = self._moves_cache[2].get(account) if self._moves_cache is not None else ...  # ...: the ladder searches
        self.ladder.show_account(self.book, self._marks, account, self._risk, self.layout, cross_move=move)

    # -- settings, theme, about -------------------------------------------------------------------

    @Slot()
    def edit_thresholds(self) -> None:
        dialog = ThresholdsDialog(self.levels.thresholds, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_thresholds is not None:
            self.apply_thresholds(dialog.result_thresholds)

    def apply_thresholds(self, thresholds: Thresholds) -> None:
        """Use new thresholds now and save them with the book (when there is a saved book)."""
        if self.database_file is not None:
            from engine.storage.database import BookDatabase, StorageError

            try:
                with BookDatabase.open(self.database_file) as db:
                    db.set_setting(THRESHOLDS_SETTING, thresholds_to_setting(thresholds))
            except StorageError as e:
                QMessageBox.warning(self, "Margin Watch", f"The thresholds were not saved:\n\n{e}")
                return
        self.levels = LevelTracker(thresholds)
        self.ratio_gauge.thresholds = thresholds
        self._last_refresh = 0.0  # re-evaluate every row under the new thresholds at once
        self.refresh()

    def _check_theme(self, name: str) -> None:
        for action in self.theme_actions.actions():
            action.setChecked(action.data() == name)

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        applied = apply_theme(app, name) if isinstance(app, QApplication) else name
        self._check_theme(applied)
        self.remember_theme(applied)

    def remember_theme(self, name: str) -> None:
        """The theme the next start applies."""
        if self.settings is not None:
            self.settings.setValue("view/theme", name)

    @Slot()
    def show_about(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("About Margin Watch")
        box.setIconPixmap(app_icon().pixmap(96, 96))
        box.setText(
            f"<h3>Margin Watch {app_version()}</h3>"
            "<p>How far each leveraged position is from liquidation, live, with the exchange's own margin "
            "rules: tiered maintenance margin, cross and isolated, long and short, linear and inverse.</p>"
            "<p>Prices come from the exchanges' public feeds through ccxt; no API keys are used or stored. "
            "Liquidation prices for exchanges without a modelled rule profile are marked as estimates.</p>"
            f"<p>Qt {_qt_version()}. MIT licence.</p>"
        )
        box.exec()

    # -- alerts, history, status ------------------------------------------------------------------

    def _raise_alerts(self) -> None:
        """Show, sound, notify and store the alerts found by the last evaluation."""
        new, self._new_alerts = self._new_alerts, []
        for alert in new:
            self.alerts.append(alert)
            stamp = time.strftime("%H:%M:%S", time.localtime(alert.at))
            mark = "" if alert.mark is None else f", mark {price(alert.mark)}"
            item = QListWidgetItem(f"{stamp}  {alert.describe()}{mark}")
            item.setBackground(LEVEL_BACKGROUND.get(alert.new, QColor(0, 0, 0, 0)))
            if alert.new in LEVEL_BACKGROUND:
                item.setForeground(QColor(255, 255, 255) if alert.new is Level.LIQUIDATED else QColor(0, 0, 0))
            self.alert_list.insertItem(0, item)
            if self.history is not None:
                self.history.record_alert(alert)
            if self.tray is not None:
                self.tray.showMessage("Margin Watch", alert.describe(), QSystemTrayIcon.MessageIcon.Warning, 10_000)
        if new:
            QApplication.beep()
            self.alerts_dock.setWindowTitle(f"Alerts ({len(self.alerts) + self.stored_alert_count})")

    def _record_history(self, risk: BookRisk, marks: dict[PriceKey, float]) -> None:
        """Queue stored history (at most once a second); the writer thread does the disk work."""
        now = time.time()
        if self.history is None or now - self._last_sample < HISTORY_EVERY_S:
            return
        self._last_sample = now
        samples = [(f"mark:{exchange}:{symbol}", now, mark) for (exchange, symbol), mark in marks.items()]
        for a in risk.accounts:
            if a.missing:
                continue
            samples.append((f"equity:{a.account.name}", now, a.equity))
            if a.margin_ratio is not None:
                samples.append((f"margin_ratio:{a.account.name}", now, a.margin_ratio))
        self.history.record(samples)

    def oldest_price_age(self, now: float | None = None) -> float | None:
        """Age in seconds of the oldest feed price the book uses (manual prices have no age)."""
        now = time.time() if now is None else now
        quote = self._quotes.get if self._quotes is not None else self.store.quote  # the last refresh's, as the rows
        ages = [q.age(now) for key in self._price_keys if (q := quote(key)) is not None and q.source.value != "manual"]
        return max(ages) if ages else None

    def _show_status(self, missing: list[PriceKey]) -> None:
        parts = [f.state.describe() for f in self.feeds] or ["prices: manual (from the book), not live"]
        if self.storage_note:
            parts.insert(0, self.storage_note)
        oldest = self.oldest_price_age()
        if oldest is not None:
            age = f"{oldest:.1f} s" if oldest < 60 else f"{oldest / 60:.0f} min"
            parts.append(("STALE: " if oldest > self.stale_after else "") + f"oldest price {age} old")
        if self.history is not None and self.history.last_error:
            parts.append(f"history not saved: {self.history.last_error}")
        if missing:
            parts.append("waiting for prices: " + ", ".join(symbol for _, symbol in missing))
        if not self.portfolio.book.accounts and not self.storage_note:
            parts.append("no saved book yet: run 'marginwatch import FILE', or try 'marginwatch --demo'")
        self.status.setText("   ·   ".join(parts))

    # -- layout -----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self._moves_after_paint:  # the window's first paint: search in an event after it
            self._moves_after_paint = False
            QTimer.singleShot(0, self._first_moves)

    @Slot()
    def _first_moves(self) -> None:
        """The accounts' moves to liquidation, searched first once the window has appeared (about 20 ms on
        a book of 1,000 positions, which would otherwise delay the first picture)."""
        if self._moves_cache is None:  # no refresh has searched meanwhile
            moves = self._search_moves(self._risk, self._marks)
            self.accounts_model.set_risk(self._risk, moves, self.accounts_model.levels)
            if self._columns_fitted:  # fitted to "searching…": room for the moves found
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
        state = self.settings.value("window/splitter")
        if state is not None:
            self.splitter.restoreState(state)
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


def manual_store(portfolio: Portfolio) -> PriceStore:
    """A store holding the portfolio's prices as manual prices."""
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    return store


def _qt_version() -> str:
    from PySide6 import __version__

    return __version__
