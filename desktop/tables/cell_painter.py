"""Table cells painted straight from a model's formatted rows: one Python call per cell instead of eight.

QStyledItemDelegate asks the model for seven roles of every cell it paints (text, alignment, font,
colours, check state, icon), and the view asks for its flags: each a call from C++ into Python. A
table of 20 rows by 17 columns repainted ten times a second spent most of its paint time there. This
painter asks the model once per cell for the row's `RowLook` (cached by the model until the row
changes) and draws the background, the text and its colour itself. The model's data() still answers
every role, for the views and tools that ask.

What it draws as QStyledItemDelegate does: the row colour, the selection in the palette's highlight
(active or inactive window), the text aligned as the column says and elided with "…" when the column
is too narrow (a number is never clipped to fewer digits). The cell with keyboard focus is left to
QStyledItemDelegate, which draws the style's focus frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView, QWidget

from desktop.platform.text_colours import muted_colour, sign_colour
from engine.monitor.levels import Level

Index = QModelIndex | QPersistentModelIndex

# As plain ints: a bit test on an int is a fifth of an enum.Flag operation, four of them per cell.
_SELECTED = QStyle.StateFlag.State_Selected.value
_FOCUSED = QStyle.StateFlag.State_HasFocus.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ELIDE = Qt.TextElideMode.ElideRight
_TEXT = QPalette.ColorRole.Text
_WIDTHS_KEPT = 20_000
"""Text widths remembered (prices change on every tick; the cache is emptied when it reaches this)."""


@dataclass(frozen=True, slots=True)
class RowLook:
    """How one row is painted: its cells' text and the colours and font of the whole row."""

    cells: list[str]
    background: QColor | None = None
    foreground: QColor | None = None
    """None: the palette's text colour."""
    italic: bool = False
    level: Level = Level.OK
    """The row's risk level (the bars under a cell take its colour)."""
    muted: bool = False
    """A stale price's row without a colour of its own: the theme's muted text (muted_colour), not a live look."""
    signs: tuple[tuple[int, int], ...] = ()
    """(column, sign) of the cells coloured by their sign (uPnL, ROE: +1 gain, -1 loss), where the row has no
    colour of its own (a level, a stale price): sign_colour gives the theme's green or red."""


def cell_foreground(look: RowLook, column: int, palette: QPalette) -> QColor | None:
    """The text colour of one cell of a row (None: the palette's text colour)."""
    if look.muted:
        return muted_colour(palette)
    if look.foreground is None and look.signs:
        for signed, sign in look.signs:
            if signed == column:
                return sign_colour(sign, palette)
    return look.foreground


class PaintedModel(Protocol):
    alignments: list[int]
    """Per column, Qt.AlignmentFlag bits."""

    def rowCount(self) -> int: ...

    def row_look(self, row: int) -> RowLook:
        """The look of a view row."""
        ...


class CellPainter(QStyledItemDelegate):
    """Paints the cells of a view whose model is a PaintedModel (in bold where `bold`: the figure a column
    exists for). `outgrown`, when set, is called each time a text is painted cut (it no longer fits its
    column): the window widens the column then, instead of looking at every cell on a timer."""

    bold = False
    outgrown: Callable[[], None] | None = None

    def __init__(self, model: PaintedModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self._view_font: QFont | None = None
        self._font: QFont | None = None
        self._italic = QFont()
        self._metrics: tuple[QFontMetrics, QFontMetrics] | None = None
        self._widths: dict[tuple[str, bool], int] = {}
        self._margin = 0

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFontMetrics, QFontMetrics]:
        """Metrics of the view's font and of its italic, remade when the view's font changes."""
        if self._metrics is None or option.font != self._view_font:
            self.use_font(option.font, option.widget.style() if option.widget is not None else None)
        assert self._metrics is not None
        return self._metrics

    def use_font(self, font: QFont, style: QStyle | None) -> None:
        """Paint in this font (the view's; bold where `bold`) and its italic, with the style's text margins."""
        self._view_font = QFont(font)
        self._font = QFont(font)
        self._font.setBold(self.bold)
        self._italic = QFont(self._font)
        self._italic.setItalic(True)
        self._metrics = (QFontMetrics(self._font), QFontMetrics(self._italic))
        self._widths.clear()
        focus_margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) if style is not None else 2
        self._margin = focus_margin + 1  # as QCommonStyle lays out an item view's text

    def _width(self, text: str, italic: bool) -> int:
        key = (text, italic)
        width = self._widths.get(key)
        if width is None:
            if len(self._widths) >= _WIDTHS_KEPT:
                self._widths.clear()
            assert self._metrics is not None
            width = self._widths[key] = self._metrics[italic].horizontalAdvance(text)
        return width

    def fitted(self, text: str, italic: bool, width: int) -> str:
        """The text as it fits `width` pixels: whole, else cut with "…" (never silently clipped; `outgrown` is
        called)."""
        if self._width(text, italic) <= width:
            return text
        if self.outgrown is not None:
            self.outgrown()
        assert self._metrics is not None
        return self._metrics[italic].elidedText(text, _ELIDE, width)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        state = option.state.value
        look = self.model.row_look(index.row())
        column = index.column()
        text = look.cells[column]
        self._fonts(option)
        rect = option.rect
        if state & _FOCUSED:  # one cell at most: the style's own drawing, focus frame included
            super().paint(painter, option, index)
            if text and self.outgrown is not None and self._width(text, look.italic) > rect.width() - 2 * self._margin:
                self.outgrown()  # the style cut it: widened as any other cell
            return
        palette = option.palette
        if not state & _ENABLED:
            group = QPalette.ColorGroup.Disabled
        else:
            group = QPalette.ColorGroup.Active if state & _ACTIVE else QPalette.ColorGroup.Inactive
        if state & _SELECTED:
            painter.fillRect(rect, palette.brush(group, QPalette.ColorRole.Highlight))
            colour = palette.color(group, QPalette.ColorRole.HighlightedText)
        else:
            if look.background is not None:
                painter.fillRect(rect, look.background)
            colour = look.foreground
            if colour is None:
                coloured = look.signs or look.muted
                colour = (coloured and cell_foreground(look, column, palette)) or palette.color(group, _TEXT)
        if not text:
            return
        inner = rect.adjusted(self._margin, 0, -self._margin, 0)
        text = self.fitted(text, look.italic, inner.width())
        painter.setPen(colour)
        painter.setFont(self._italic if look.italic else self._font)
        painter.drawText(inner, self.model.alignments[column], text)

    def _column_painter(self, view: QTableView, column: int) -> CellPainter:
        """The painter of this column (its own delegate where it has one), in the view's font."""
        painter = view.itemDelegateForColumn(column)
        if not isinstance(painter, CellPainter):
            return self
        if painter._metrics is None or view.font() != painter._view_font:
            painter.use_font(view.font(), view.style())
        return painter

    def fit_columns(self, view: QTableView, headroom: int = 0, grow_only: bool = False) -> None:
        """Each column as wide as its widest text, or its header, plus `headroom` pixels: what
        resizeColumnsToContents does (over the rows its header's precision says), from cached widths.
        grow_only: widen only the columns whose text no longer fits, narrow none (no jitter on screen)."""
        if self._metrics is None or view.font() != self._view_font:
            self.use_font(view.font(), view.style())
        rows = self.model.rowCount()
        if rows == 0:
            return
        header = view.horizontalHeader()
        precision = header.resizeContentsPrecision()  # as Qt reads it: 0 the rows on screen, -1 all rows
        if precision == 0:
            first = max(0, view.rowAt(0))
            last = view.rowAt(view.viewport().height() - 1)
            last = rows - 1 if last < 0 else last
        else:
            first, last = 0, rows - 1 if precision < 0 else min(rows, precision) - 1
        widths = [header.sectionSizeHint(c) for c in range(header.count())]
        padding = 2 * self._margin + (1 if view.showGrid() else 0)  # QTableView counts the grid line in
        painters = [self._column_painter(view, c) for c in range(header.count())]  # a bold column measures bold
        for row in range(first, last + 1):
            look = self.model.row_look(row)
            for column, text in enumerate(look.cells):
                widths[column] = max(widths[column], painters[column]._width(text, look.italic) + padding)
        for column, width in enumerate(widths):
            if not grow_only or width > view.columnWidth(column):
                view.setColumnWidth(column, width + headroom)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        """The text's width and the font's height, with the style's margins (what fitting a column asks)."""
        look = self.model.row_look(index.row())
        metrics = self._fonts(option)[look.italic]
        width = self._width(look.cells[index.column()], look.italic)
        return QSize(width + 2 * self._margin, metrics.height() + 2)
