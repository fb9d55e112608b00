"""The positions' identity (account, symbol, side) stays in view when the table scrolls right.

Qt's frozen-column pattern (the "Frozen Column" example of Qt's widgets documentation): a second table view
over the left edge of the table, on the same model and selection model, showing only the identity columns,
scrolled vertically with the table and sized to those columns. The identity columns stay the first ones on
screen (a drag that moves one, or moves another before them, is undone), so the overlay covers exactly them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTableView

from desktop.tables.cell_painter import CellPainter


class FrozenColumns(QTableView):
    """The identity columns of `table`, drawn over its left edge (a child of the table: it lives as long).

    columns: logical column indexes, in the order they are shown (they are kept first in the table too)."""

    def __init__(self, table: QTableView, columns: Sequence[int]) -> None:
        super().__init__(table)
        self.table, self.columns = table, tuple(columns)
        self.setObjectName("frozen-identity")
        self.setModel(table.model())
        self.setSelectionModel(table.selectionModel())
        self.setItemDelegate(CellPainter(table.model(), self))  # its own: a shared one's edits reach both views
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollMode(table.verticalScrollMode())
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(table.selectionMode())
        self.setWordWrap(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.setSortingEnabled(False)  # a click on its header sorts the table (below), which owns the arrow
        self.table.viewport().stackUnder(self)
        self._show_only_the_columns()

        header = table.horizontalHeader()
        header.sectionResized.connect(self._column_resized)
        header.sectionMoved.connect(self._keep_first)
        header.geometriesChanged.connect(self._restored)  # a restored layout (restoreState) moves no signal
        header.sortIndicatorChanged.connect(
            lambda column, order: self.horizontalHeader().setSortIndicator(column, order)
        )
        self.horizontalHeader().setSortIndicatorShown(True)
        self.horizontalHeader().setSortIndicator(header.sortIndicatorSection(), header.sortIndicatorOrder())
        self.horizontalHeader().setSectionsClickable(True)
        self.horizontalHeader().sectionClicked.connect(self._sort_table)
        table.verticalHeader().sectionResized.connect(lambda row, _old, new: self.setRowHeight(row, new))
        self.verticalScrollBar().valueChanged.connect(table.verticalScrollBar().setValue)
        table.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        table.model().modelReset.connect(self._show_only_the_columns)
        table.installEventFilter(self)
        self._keep_first()
        self.place()
        self.show()

    def _show_only_the_columns(self) -> None:
        for column in range(self.model().columnCount()):
            self.setColumnHidden(column, column not in self.columns)
            if column in self.columns:
                self.setColumnWidth(column, self.table.columnWidth(column))

    def _column_resized(self, column: int, _old: int, new: int) -> None:
        if column in self.columns:
            self.setColumnWidth(column, new)
            self.place()

    def _keep_first(self, *_moved: object) -> None:
        """The identity columns first on screen, in their order (undoing a drag that moved them)."""
        header = self.table.horizontalHeader()
        for visual, column in enumerate(self.columns):
            if header.visualIndex(column) != visual:
                header.blockSignals(True)
                header.moveSection(header.visualIndex(column), visual)
                header.blockSignals(False)
        for visual, column in enumerate(self.columns):
            self.horizontalHeader().moveSection(self.horizontalHeader().visualIndex(column), visual)
        header.viewport().update()

    def _restored(self) -> None:
        self._keep_first()
        self._show_only_the_columns()
        self.place()

    def _sort_table(self, column: int) -> None:
        """A click on the overlay's header sorts the table by that column, as a click on the table's would."""
        header = self.table.horizontalHeader()
        ascending = Qt.SortOrder.AscendingOrder
        same = header.sortIndicatorSection() == column and header.sortIndicatorOrder() == ascending
        self.table.sortByColumn(column, Qt.SortOrder.DescendingOrder if same else ascending)

    def dataChanged(self, top_left: QModelIndex, bottom_right: QModelIndex, roles: Sequence[int] = ()) -> None:
        """Repaint only for changes that reach the identity columns: a tick changes the live columns, which
        this view hides (without this it repainted all its cells on every refresh)."""
        first, last = top_left.column(), bottom_right.column()
        if any(first <= c <= last for c in self.columns):
            super().dataChanged(top_left, bottom_right, list(roles))

    def width_needed(self) -> int:
        return sum(self.table.columnWidth(c) for c in self.columns if not self.table.isColumnHidden(c))

    def place(self) -> None:
        """Over the table's left edge: its header's height plus its viewport's, the identity columns' width."""
        frame = self.table.frameWidth()
        height = self.table.viewport().height() + self.table.horizontalHeader().height()
        self.horizontalHeader().setFixedHeight(self.table.horizontalHeader().height())
        self.setGeometry(self.table.verticalHeader().width() + frame, frame, self.width_needed(), height)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() in (QEvent.Type.Resize, QEvent.Type.LayoutRequest):
            self.place()
        return super().eventFilter(watched, event)
