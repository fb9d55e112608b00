"""A word-wrapped caption that changes every mark without re-laying out the window around it."""

from __future__ import annotations

import math

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QSize
from PySide6.QtGui import QAbstractTextDocumentLayout, QPainter, QPaintEvent, QPalette, QResizeEvent, QTextDocument
from PySide6.QtWidgets import QSizePolicy, QWidget

_HINT_WIDTH = 320
"""The width (pixels) a caption asks for; it takes whatever its dock gives, down to nothing (words wrap)."""


class Caption(QWidget):
    """Rich text ('<b>…</b>') wrapped to the widget's width, in its palette's window text colour, as a
    word-wrapped QLabel shows it; setText repaints the caption alone, and asks its layout for room only when
    the wrapped text needs another height.

    Why not a QLabel: QLabel.setText always calls updateGeometry, and the layouts above it (the chart, the
    dock, the main window) recompute and repaint on every mark: a third of what the idle window costs
    (tests/benchmarks/bench_idle.py)."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._document = QTextDocument(self)
        self._document.setDocumentMargin(0)
        self._document.setDefaultFont(self.font())
        self._text = ""
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setText(text)

    def text(self) -> str:
        """The text as given to setText (its markup included)."""
        return self._text

    def setText(self, text: str) -> None:
        """Show this text (rich text if Qt's mightBeRichText says so, else plain); the same text is a no-op."""
        if text == self._text:
            return
        before = self.heightForWidth(self.width())
        self._text = text
        if QtGui.Qt.mightBeRichText(text):  # PySide6 keeps QtGui's Qt namespace functions on QtGui.Qt
            self._document.setHtml(text)
        else:
            self._document.setPlainText(text)
        if self.heightForWidth(self.width()) != before:
            self.updateGeometry()
        self.update()

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        """Pixels the text needs when wrapped to `width` pixels (one line at least, so an empty caption
        keeps its place)."""
        self._wrap_at(max(1, width))
        return max(self.fontMetrics().height(), math.ceil(self._document.size().height()))

    def sizeHint(self) -> QSize:
        return QSize(_HINT_WIDTH, self.heightForWidth(_HINT_WIDTH))

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.fontMetrics().height())  # a long symbol wraps: it never widens the dock

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._document.setDefaultFont(self.font())
            self.updateGeometry()
        super().changeEvent(event)

    def _wrap_at(self, width: int) -> None:
        """Wrap the text at `width` pixels. Only when that is a new width: QTextDocument.setTextWidth lays the
        whole text out again even at the width it has (three times per setText, once per paint, before)."""
        if self._document.textWidth() != width:
            self._document.setTextWidth(width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._wrap_at(self.width())
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        self._wrap_at(self.width())
        painter = QPainter(self)
        context = QAbstractTextDocumentLayout.PaintContext()
        group = QPalette.ColorGroup.Active if self.isEnabled() else QPalette.ColorGroup.Disabled
        context.palette.setColor(QPalette.ColorRole.Text, self.palette().color(group, QPalette.ColorRole.WindowText))
        context.clip = event.rect().toRectF()
        self._document.documentLayout().draw(painter, context)
        painter.end()
