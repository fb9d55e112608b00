"""A read-only table model over rows of pre-formatted cells: data() only looks up strings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QGuiApplication

from desktop.tables.cell_painter import RowLook, cell_foreground

Index = QModelIndex | QPersistentModelIndex

_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
LOOK_ROLES = frozenset({_BACKGROUND, _FOREGROUND, int(Qt.ItemDataRole.FontRole)})
"""The roles a RowLook answers."""


class TextTableModel(QAbstractTableModel):
    """Rows of strings under headers; columns flagged numeric are right-aligned.

    Subclasses add roles through extra_data() (sort keys, fonts) without repeating the Qt plumbing.
    """

    def __init__(self, headers: Sequence[str], numeric: Sequence[bool], cells: list[list[str]]) -> None:
        super().__init__()
        self._headers = list(headers)
        self.alignments = [
            int((Qt.AlignmentFlag.AlignRight if n else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter)
            for n in numeric
        ]
        self._cells = cells
        self._italic = QFont()
        self._italic.setItalic(True)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._headers)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.row_text(index.row())[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignments[index.column()]
        if role in LOOK_ROLES:
            return self.look_data(index.row(), index.column(), role)
        return self.extra_data(index.row(), index.column(), role)

    def look_data(self, row: int, column: int, role: int) -> Any:
        """Background, foreground or font of a cell, from its row's RowLook: what the cell painter draws
        is what every other reader of the model is told."""
        look = self.row_look(row)
        if role == _BACKGROUND:
            return look.background
        if role == _FOREGROUND:
            coloured = look.signs or look.muted
            return cell_foreground(look, column, QGuiApplication.palette()) if coloured else look.foreground
        return self._italic if look.italic else None

    def extra_data(self, row: int, column: int, role: int) -> Any:
        return None

    def row_text(self, row: int) -> list[str]:
        """The row's cells as shown."""
        return self._cells[row]

    def row_look(self, row: int) -> RowLook:
        """The row as a CellPainter paints it (plain text in the palette's colours here)."""
        return RowLook(self.row_text(row))

    def replace_cells(
        self,
        cells: list[list[str]],
        also_changed: frozenset[int] = frozenset(),
        swap: Callable[[], None] | None = None,
    ) -> None:
        """New values for the same rows: one dataChanged per run of changed rows, no reset (keeps selection).

        When the number of rows changes (a position added or removed) the model is reset instead.
        also_changed: rows to signal although their text is the same (their colour changed).
        swap: puts a subclass's own per-row state in place; it is called inside the reset, so the old rows
        stay readable until beginResetModel() has told the views (Qt's contract; reading a row of the
        new, shorter state through an old index crashed).
        """
        if len(cells) != len(self._cells):
            self.beginResetModel()
            if swap is not None:
                swap()
            self._cells = cells
            self.endResetModel()
            return
        if swap is not None:
            swap()
        old, self._cells = self._cells, cells
        self.signal_rows(sorted(also_changed))
        self.signal_cells(
            (r, c)
            for r in range(len(cells))
            if r not in also_changed and cells[r] != old[r]
            for c, (new_text, old_text) in enumerate(zip(cells[r], old[r], strict=True))
            if new_text != old_text
        )

    def signal_cells(self, cells: Iterable[tuple[int, int]]) -> None:
        """dataChanged for each of these (row, column) cells alone: the view repaints exactly them. A range
        of cells repaints one row and one column beyond it as well (QTableViewPrivate::intersectedRect makes
        the rect from inclusive corner points, one pixel too wide and too tall; tests/desktop/
        test_cell_signals.py shows it), which for a row of changed cells doubled what a tick repainted."""
        emit, index = self.dataChanged.emit, self.createIndex
        for row, column in cells:
            cell = index(row, column)
            emit(cell, cell)

    def signal_rows(self, rows: Sequence[int], columns: Sequence[tuple[int, int]] | None = None) -> None:
        """dataChanged per run of consecutive rows (rows in ascending order) and per range of columns
        (first, last), all columns when none are given: the view repaints only the cells signalled. Rows are the
        model's own (indexes are made with createIndex: index() checks the range through two calls into Python,
        rowCount and columnCount, for each end of each range)."""
        spans = columns if columns is not None else [(0, len(self._headers) - 1)]
        start = previous = None
        for row in [*rows, None]:
            if start is not None and row == previous + 1:
                previous = row
                continue
            if start is not None:
                for first, last in spans:
                    self.dataChanged.emit(self.createIndex(start, first), self.createIndex(previous, last))
            start = previous = row

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._headers[section]
        return None
