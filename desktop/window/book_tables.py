"""The window's centre: the preview banner above the accounts table and the positions table, split."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication, QHeaderView, QSplitter, QTableView, QVBoxLayout, QWidget

from desktop.tables.accounts_model import RATIO_COLUMN, AccountsModel
from desktop.tables.cell_painter import CellPainter
from desktop.tables.delegates import DistanceBarDelegate, RatioGaugeDelegate
from desktop.tables.odds_model import OddsPositionsModel
from desktop.tables.position_columns import ACCOUNT_COLUMN, DISTANCE_COLUMN, SIDE_COLUMN, SYMBOL_COLUMN
from desktop.window.frozen_columns import FrozenColumns
from desktop.window.positions_view import PositionsView
from desktop.window.preview_banner import PreviewBanner
from engine.monitor.frame import Frame
from engine.monitor.levels import Thresholds
from engine.monitor.session import WatchSession

COLUMN_HEADROOM_PX = 12
GROW_AFTER_MS = 100
"""How soon after a number was painted cut ("-13,407.57 U…") its column is widened (money is never cut for
longer than that; while a mouse button is down, as when the user drags a column narrower, it waits)."""


def _account_thresholds(session: WatchSession, row: int) -> Thresholds:
    """The thresholds in force for the account on this row of the accounts table (the shown book's order)."""
    accounts = session.book.accounts
    return session.overrides.for_account(accounts[row].name) if 0 <= row < len(accounts) else session.thresholds


class BookTables(QWidget):
    """The accounts and positions of a frame, with their painters; a banner announces a preview.

    model.set_mark: what typing into a Mark cell does (the window sets it); the accounts' moves are
    'searching…' until the first search answers (desktop.window.chart_views). Columns are fitted to their
    contents once, when the first rows are on screen (fit_columns_once), unless fit_pending was cleared
    because the user's own widths were restored; never on updates."""

    def __init__(self, frame: Frame, thresholds: Thresholds, session: WatchSession | None = None) -> None:
        super().__init__()
        self.fit_pending = True
        self.columns_fitted = False
        tier_note = session.tier_note if session is not None else None  # a row's tooltip: its tiers' source, age
        self.model = OddsPositionsModel(frame.shown, frame.rows, tier_note=tier_note)
        self.positions = PositionsView(self.model)
        self.table = self.positions.table
        self.table.setItemDelegate(CellPainter(self.model, self.table))
        self.table.setItemDelegateForColumn(DISTANCE_COLUMN, DistanceBarDelegate(self.model, self.table))
        self.frozen = FrozenColumns(self.table, (ACCOUNT_COLUMN, SYMBOL_COLUMN, SIDE_COLUMN))  # in view when scrolled
        self.accounts_model = AccountsModel(frame.shown, None, frame.account_levels, frame.account_notes)
        self.accounts = QTableView()
        self.accounts.setObjectName("accounts")
        self.accounts.verticalHeader().setVisible(False)
        self.accounts.setModel(self.accounts_model)
        self.accounts.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.accounts.setItemDelegate(CellPainter(self.accounts_model, self.accounts))
        self.ratio_gauge = RatioGaugeDelegate(self.accounts_model, thresholds, self.accounts)
        self.accounts.setItemDelegateForColumn(RATIO_COLUMN, self.ratio_gauge)
        if session is not None:  # a row's tooltip says when its level follows its own thresholds
            self.model.threshold_note = lambda p: session.overrides.position_note(p.account, p.symbol, p.side.value)
            self.accounts_model.threshold_note = lambda name: session.overrides.account_note(name)
            self.ratio_gauge.thresholds_of = lambda row: _account_thresholds(session, row)
        for view in (self.accounts, self.table):
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
            view.setWordWrap(False)  # a number that outgrows its column is elided, never wrapped onto two lines
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.accounts)
        self.splitter.addWidget(self.positions)
        self.splitter.setSizes([170, 530])
        # A preview (a price shock, hypothetical positions) is announced above the tables, whatever dock is
        # shown or hidden, with one click to end it.
        self.banner = PreviewBanner()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.banner)
        column.addWidget(self.splitter, 1)
        self.grow_timer = QTimer(self)
        self.grow_timer.setSingleShot(True)
        self.grow_timer.setInterval(GROW_AFTER_MS)
        self.grow_timer.timeout.connect(self._grow_when_released)
        for view in (self.table, self.accounts, self.frozen):
            columns = range(view.model().columnCount())
            for painter in {view.itemDelegate(), *(view.itemDelegateForColumn(c) for c in columns)}:
                if isinstance(painter, CellPainter):
                    painter.outgrown = self.grow_soon

    def fit_columns_once(self) -> None:
        """Fit both tables' columns to their contents, with room for numbers that grow later: once, when
        rows are on screen."""
        if not self.fit_pending or self.model.rowCount() == 0 or not self.isVisible():
            return
        for view in (self.accounts, self.table):
            view.itemDelegate().fit_columns(view, COLUMN_HEADROOM_PX)
        self.fit_pending = False
        self.columns_fitted = True

    def grow_columns(self) -> None:
        """Widen any column whose text on screen no longer fits ("-13,407.57 U…" never shows); narrow none. The
        rows on screen are measured from cached text widths: well under a millisecond."""
        if self.fit_pending or not self.isVisible():
            return  # the first fit comes first (or the user's restored widths stand until then)
        for view in (self.accounts, self.table):
            if view.model().rowCount():
                view.itemDelegate().fit_columns(view, COLUMN_HEADROOM_PX, grow_only=True)

    def grow_soon(self) -> None:
        """A number was painted cut: widen its column in GROW_AFTER_MS (once for all that are cut meanwhile)."""
        if not self.grow_timer.isActive():
            self.grow_timer.start()

    @Slot()
    def _grow_when_released(self) -> None:
        if QApplication.mouseButtons() != Qt.MouseButton.NoButton:  # a column being dragged: not under the mouse
            self.grow_timer.start()
            return
        self.grow_columns()

    def grow_account_columns(self) -> None:
        """After the moves first arrive: widen the account columns fitted to 'searching…' (never narrow)."""
        if self.columns_fitted:
            self.accounts.itemDelegate().fit_columns(self.accounts, COLUMN_HEADROOM_PX, grow_only=True)

    def views(self) -> tuple[QTableView, QTableView]:
        """The two tables whose columns are fitted and remembered."""
        return self.table, self.accounts
