"""Fusion with radio buttons and check boxes that can be seen, on the dark window as on the light one.

Fusion outlines an indicator in the window colour made darker (qfusionstyle.cpp: outline = window.darker(140)),
which on a dark palette is all but black on near-black: the what-if dialog's Add / Reduce / Close / Flip could
not be told apart from the background (and on the light theme the outline was 2:1). This style draws Fusion's
indicator, then outlines it in the palette's placeholder text colour (5:1 on either theme's base).
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPalette, QPen
from PySide6.QtWidgets import QProxyStyle, QStyle, QStyleOption, QWidget

_OUTLINED = (QStyle.PrimitiveElement.PE_IndicatorRadioButton, QStyle.PrimitiveElement.PE_IndicatorCheckBox)


class IndicatorStyle(QProxyStyle):
    """Fusion, its radio and check indicators outlined at 3:1 or more against the window (WCAG's control minimum)."""

    def __init__(self) -> None:
        super().__init__("Fusion")

    def drawPrimitive(
        self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter, widget: QWidget | None = None
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in _OUTLINED:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(option.palette.color(QPalette.ColorRole.PlaceholderText), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)
        if element == QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(rect)
        else:
            painter.drawRoundedRect(rect, 1.5, 1.5)
        painter.restore()
