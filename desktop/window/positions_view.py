"""The positions table with its filter bar: filter by account and by text, multi-select, copy as text.

The model sorts only when the user clicks a header (never on ticks) and filters only when the filter
changes; a tick that moves a row's numbers does not move the row.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop.tables.position_columns import ACCOUNT_COLUMN, COLUMNS, DISTANCE_COLUMN, SIDE_COLUMN, SYMBOL_COLUMN
from desktop.tables.positions_model import PositionsModel

ALL_ACCOUNTS = "All accounts"
AUTO_RESORT_SECONDS = (0, 5, 30, 60)
"""The re-sort timer's choices (0: keep the order until the user sorts)."""
KEPT_COLUMNS = frozenset({ACCOUNT_COLUMN, SYMBOL_COLUMN, SIDE_COLUMN, DISTANCE_COLUMN})
"""Columns the header's menu cannot hide: which position, and how far from liquidation."""


class PositionsTable(QTableView):
    """A table view whose Ctrl+C copies whole selected rows (QTableView's own copies one cell)."""

    copy_requested = Signal()

    def rows_on_screen(self) -> range:
        """The view rows drawn now (none while the table is hidden: a tab in the back, a minimised window)."""
        if not self.isVisible() or (first := self.rowAt(0)) < 0:
            return range(0)
        last = self.rowAt(self.viewport().height() - 1)
        return range(first, (last if last >= 0 else self.model().rowCount() - 1) + 1)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class PositionsView(QWidget):
    """Filter bar over the positions table. `selected_rows()` gives positions (book indices) in view order."""

    filter_changed = Signal()

    def __init__(self, model: PositionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.account_box = QComboBox()
        self.account_box.setObjectName("account-filter")
        self.account_box.setToolTip("Show the positions of one account")
        self.search = QLineEdit()
        self.search.setObjectName("text-filter")
        self.search.setPlaceholderText("Filter: symbol, side, account… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.count = QLabel()
        self._build_resort()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Positions"))
        bar.addWidget(self.account_box)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count)
        bar.addWidget(self.resort_button)
        bar.addWidget(self.auto_resort)
        self.table = PositionsTable()
        self.table.setObjectName("positions")
        self.table.verticalHeader().setVisible(False)  # before the model: a shown one measures 200 rows first
        self.table.setModel(model)
        model.rows_on_screen = self.table.rows_on_screen
        self.table.horizontalHeader().setSortIndicator(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        # Fitting the columns measures the rows on screen only: each row measured costs ~0.8 ms of
        # Python data() calls, and the rows further down are elided, never wrapped, when wider.
        self.table.horizontalHeader().setResizeContentsPrecision(0)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        header = self.table.horizontalHeader()
        header.setSectionsMovable(True)  # order, widths and hidden columns are remembered (window_layout)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(lambda at: self.column_menu().exec(header.mapToGlobal(at)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)

        self.copy_action = QAction("&Copy rows", self.table)
        self.copy_action.setShortcut(QKeySequence.StandardKey.Copy)
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(self.copy_selected)
        self.table.addAction(self.copy_action)
        self.table.copy_requested.connect(self.copy_selected)
        self.find_action = QAction("&Filter positions", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(lambda: (self.search.setFocus(), self.search.selectAll()))
        self.closest_action = QAction("Go to the position &closest to liquidation", self)
        self.closest_action.setShortcut("Ctrl+L")
        self.closest_action.triggered.connect(self.go_to_closest)

        self.account_box.currentTextChanged.connect(self._apply_filter)
        self.search.textChanged.connect(self._apply_filter)
        self.set_accounts([])

    def set_accounts(self, names: list[str]) -> None:
        """The account choices (keeping the current one when it still exists)."""
        current = self.account_box.currentText()
        self.account_box.blockSignals(True)
        self.account_box.clear()
        self.account_box.addItems([ALL_ACCOUNTS, *names])
        self.account_box.setCurrentText(current if current in names else ALL_ACCOUNTS)
        self.account_box.blockSignals(False)
        self._apply_filter()

    def _apply_filter(self) -> None:
        """Filter the rows; the positions that stay in view stay selected (and current)."""
        account = self.account_box.currentText()
        self.model.set_filter("" if account == ALL_ACCOUNTS else account, self.search.text().split())
        self.update_count()
        self.filter_changed.emit()

    def update_count(self) -> None:
        """The row count, and whether the rows are still in the order the sort arrow shows."""
        shown, total = self.model.rowCount(), self.model.total
        self.count.setText(f"{shown} of {total}" if shown != total else f"{total}")
        self.resort_button.setVisible(self.model.order_is_stale())

    def _build_resort(self) -> None:
        """The 'Order stale: re-sort' button (shown when ticks broke the sorted order) and the re-sort timer."""
        self.resort_button = QPushButton("Order stale: re-sort")
        self.resort_button.setObjectName("resort")
        self.resort_button.setToolTip("Rows never move on a tick; the numbers moved since the last sort (F5)")
        self.resort_button.setShortcut(QKeySequence.StandardKey.Refresh)
        self.resort_button.clicked.connect(self.resort)
        self.resort_button.hide()
        self.auto_resort = QComboBox()
        self.auto_resort.setObjectName("auto-resort")
        self.auto_resort.setToolTip("Re-sort the rows on a timer (never on every tick)")
        for seconds in AUTO_RESORT_SECONDS:
            self.auto_resort.addItem(f"Re-sort every {seconds} s" if seconds else "Keep the order", seconds)
        self.auto_resort.currentIndexChanged.connect(self._auto_resort_changed)
        self._resort_timer = QTimer(self)
        self._resort_timer.timeout.connect(self.resort)

    def resort(self) -> None:
        """Sort the rows again by the sorted column (the selection follows its rows)."""
        self.model.resort()
        self.resort_button.hide()

    def _auto_resort_changed(self) -> None:
        seconds = self.auto_resort.currentData()
        if seconds:
            self._resort_timer.start(seconds * 1000)
        else:
            self._resort_timer.stop()

    def column_menu(self) -> QMenu:
        """The header's menu: each column shown or hidden (the identity and the distance stay), and the
        default columns back."""
        header = self.table.horizontalHeader()
        menu = QMenu(self)
        for column, c in enumerate(COLUMNS):
            action = menu.addAction(c.title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.setEnabled(column not in KEPT_COLUMNS)
            action.toggled.connect(lambda shown, column=column: header.setSectionHidden(column, not shown))
        menu.addSeparator()
        menu.addAction("Default columns", self.default_columns)
        return menu

    def default_columns(self) -> None:
        """Every column shown, in the default order (desktop.tables.position_columns.ORDER)."""
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionHidden(column, False)
            header.moveSection(header.visualIndex(column), column)

    def go_to_closest(self) -> None:
        """Select the shown position closest to liquidation, scroll to it and give the table the focus."""
        row = self.model.closest_row()
        if row is None:
            return
        index = self.model.index(row, DISTANCE_COLUMN)
        self.table.setCurrentIndex(index)
        self.table.selectRow(row)
        self.table.scrollTo(index)
        self.table.setFocus()

    def selected_rows(self) -> list[int]:
        """Positions (book indices) of the selected rows, in the order the view shows them."""
        view_rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.position_at(r) for r in view_rows]

    def current_row(self) -> int | None:
        """Position of the current row, else of the first row shown (closest to liquidation)."""
        if self.model.rowCount() == 0:
            return None
        return self.model.position_at(max(0, self.table.currentIndex().row()))

    def selected_text(self) -> str:
        """The selected rows (else all shown rows) as tab-separated text with a header line."""
        rows = self.selected_rows() or [self.model.position_at(r) for r in range(self.model.rowCount())]
        lines = ["\t".join(c.title for c in COLUMNS)]
        lines += ["\t".join(self.model.row_text(row)) for row in rows]
        return "\n".join(lines) + "\n"

    def copy_selected(self) -> None:
        QGuiApplication.clipboard().setText(self.selected_text())
