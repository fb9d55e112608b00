"""The positions table with its filter bar: filter by account and by text, multi-select, copy as text.

The proxy sorts only when the user clicks a header (never on ticks) and filters only when the filter
changes; a tick that moves a row's numbers does not move the row.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QTableView, QVBoxLayout, QWidget

from desktop.positions_model import COLUMNS, DISTANCE_COLUMN, PositionsModel

ALL_ACCOUNTS = "All accounts"
ACCOUNT_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Account")


class PositionsFilter(QSortFilterProxyModel):
    """Rows of one account (or all) whose cells contain every word of the filter text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.account = ""
        self.words: list[str] = []
        self.setSortRole(Qt.ItemDataRole.UserRole)
        self.setDynamicSortFilter(False)  # sort when asked, not on every tick

    def set_filter(self, account: str, text: str) -> None:
        self.beginFilterChange()
        self.account = account
        self.words = text.lower().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        cells = model.row_text(source_row)
        if self.account and cells[ACCOUNT_COLUMN] != self.account:
            return False
        if not self.words:
            return True
        joined = "\t".join(cells).lower()
        return all(word in joined for word in self.words)


class PositionsTable(QTableView):
    """A table view whose Ctrl+C copies whole selected rows (QTableView's own copies one cell)."""

    copy_requested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class PositionsView(QWidget):
    """Filter bar over the positions table. `selected_rows()` gives source-model rows in view order."""

    filter_changed = Signal()

    def __init__(self, model: PositionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = PositionsFilter(self)
        self.proxy.setSourceModel(model)
        self.account_box = QComboBox()
        self.account_box.setObjectName("account-filter")
        self.account_box.setToolTip("Show the positions of one account")
        self.search = QLineEdit()
        self.search.setObjectName("text-filter")
        self.search.setPlaceholderText("Filter: symbol, side, account… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.count = QLabel()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Positions"))
        bar.addWidget(self.account_box)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.count)
        self.table = PositionsTable()
        self.table.setObjectName("positions")
        self.table.setModel(self.proxy)
        # Indicator first, then sorting on: the rows are sorted once, not twice.
        self.table.horizontalHeader().setSortIndicator(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        # Fitting columns measures at most this many rows (all 1,000 would take a second at start-up).
        self.table.horizontalHeader().setResizeContentsPrecision(100)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.ExtendedSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
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
        account = self.account_box.currentText()
        self.proxy.set_filter("" if account == ALL_ACCOUNTS else account, self.search.text())
        self.update_count()
        self.filter_changed.emit()

    def update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count.setText(f"{shown} of {total}" if shown != total else f"{total}")

    def selected_rows(self) -> list[int]:
        """Source rows of the selected positions, in the order the view shows them."""
        view_rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in view_rows]

    def current_row(self) -> int | None:
        """Source row of the current position, else the first row shown (closest to liquidation)."""
        if self.proxy.rowCount() == 0:
            return None
        view_row = max(0, self.table.currentIndex().row())
        return self.proxy.mapToSource(self.proxy.index(view_row, 0)).row()

    def selected_text(self) -> str:
        """The selected rows (else all shown rows) as tab-separated text with a header line."""
        rows = self.selected_rows() or [
            self.proxy.mapToSource(self.proxy.index(r, 0)).row() for r in range(self.proxy.rowCount())
        ]
        lines = ["\t".join(c.title for c in COLUMNS)]
        lines += ["\t".join(self.model.row_text(row)) for row in rows]
        return "\n".join(lines) + "\n"

    def copy_selected(self) -> None:
        QGuiApplication.clipboard().setText(self.selected_text())
