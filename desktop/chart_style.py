"""Charts follow the window's palette: background, axes and text change with the theme."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QWidget


def style_plot(plot: pg.PlotWidget, palette: QPalette) -> None:
    """Background from the palette's base colour; axes, ticks and labels in its text colour."""
    plot.setBackground(palette.color(QPalette.ColorRole.Base))
    text = palette.color(QPalette.ColorRole.Text)
    for name in ("left", "bottom", "right"):
        axis = plot.getPlotItem().getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
    plot.getPlotItem().titleLabel.setAttr("color", text.name())


class ThemedChart(QWidget):
    """A widget holding pyqtgraph plots that restyles them whenever the palette changes."""

    def themed_plots(self) -> list[pg.PlotWidget]:
        return []

    def restyle(self) -> None:
        for plot in self.themed_plots():
            style_plot(plot, self.palette())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.restyle()
