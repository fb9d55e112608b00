"""Cell painters: a bar under the distance to liquidation, a gauge under the margin ratio.

Both paint the cell's text as every other cell (desktop.tables.cell_painter), then read a number from the
model's UserRole (the sort key) and draw a bar under the text in the colour of the row's level
(RowLook.level, hysteresis included), so a bar turns exactly when its row does. Nothing here computes risk.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyleOptionViewItem

from desktop.tables.cell_painter import CellPainter, PaintedModel
from engine.monitor.levels import Level, Thresholds

BAR_COLOUR = {
    Level.OK: QColor(46, 204, 113, 150),
    Level.WARNING: QColor(241, 196, 15, 190),
    Level.DANGER: QColor(230, 126, 34, 210),
    Level.LIQUIDATED: QColor(192, 57, 43, 230),
}
DISTANCE_FULL_SCALE = 0.5
"""A distance of 50% or more fills the bar: beyond that the difference no longer matters at a glance."""

Index = QModelIndex | QPersistentModelIndex


def _bar_rect(cell: QRect, fraction: float) -> QRect:
    """A thin bar along the bottom of the cell, `fraction` of its width (0..1)."""
    inner = cell.adjusted(3, cell.height() - 6, -3, -2)
    inner.setWidth(round(inner.width() * min(1.0, max(0.0, fraction))))
    return inner


class DistanceBarDelegate(CellPainter):
    """The distance to liquidation as bold text over a bar: full at 50% or more, empty at liquidation."""

    bold = True

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        distance = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(distance, float) or math.isinf(distance):
            return
        colour = BAR_COLOUR[self.model.row_look(index.row()).level]  # the row's level, hysteresis included
        painter.save()
        painter.fillRect(_bar_rect(option.rect, distance / DISTANCE_FULL_SCALE), colour)
        painter.restore()


class RatioGaugeDelegate(CellPainter):
    """The margin ratio over a gauge from 0 to 100%, with the warning and danger thresholds ticked."""

    def __init__(self, model: PaintedModel, thresholds: Thresholds, parent=None) -> None:
        super().__init__(model, parent)
        self.thresholds = thresholds
        self.thresholds_of: Callable[[int], Thresholds] | None = None
        """A row's own thresholds (an account's override), when the window sets it; else `thresholds` for all."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        super().paint(painter, option, index)
        ratio = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(ratio, float) or math.isnan(ratio):
            return
        painter.save()
        track = _bar_rect(option.rect, 1.0)
        painter.fillRect(track, QColor(127, 127, 127, 60))
        painter.fillRect(_bar_rect(option.rect, ratio), BAR_COLOUR[self.model.row_look(index.row()).level])
        painter.setPen(option.palette.color(option.palette.ColorRole.Text))
        t = self.thresholds_of(index.row()) if self.thresholds_of is not None else self.thresholds
        for mark in (t.ratio_warning, t.ratio_danger):
            x = track.left() + round(track.width() * mark)
            painter.drawLine(x, track.top() - 2, x, track.bottom())
        painter.restore()
