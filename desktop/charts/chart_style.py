"""What the charts share: they follow the window's palette, and hovering finds the sample under the cursor."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QGraphicsItem, QWidget


def show_grid(plot: pg.PlotWidget) -> None:
    """Grid lines from the axes' ticks, with each axis (and its grid) kept as a pixmap between changes.

    Played straight onto the view, an axis with grid lines costs about 5 ms a paint, and every tick
    that moves the curve or a price line repaints the area under the grid; the pixmap is redrawn only
    when the axis changes (its range, size or style) and is otherwise copied in well under a millisecond.
    """
    plot.showGrid(x=True, y=True, alpha=0.25)
    for name in ("left", "bottom", "right"):
        plot.getPlotItem().getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


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


SPREAD_KEPT = 6.0
"""How many interquartile ranges from the median a sample may lie and still set the scale (a spike beyond is
left off the scale, not the scale ruined by it)."""


def _quartiles(ordered: np.ndarray) -> tuple[float, float, float]:
    """The 25th, 50th and 75th percentiles of a sorted, non-empty 1-D array, interpolated linearly between the
    closest ranks (numpy.percentile's default method; that function imports numpy.ma, ~20 ms of the window's
    start-up at its first chart)."""
    last = len(ordered) - 1
    result = []
    for q in (0.25, 0.5, 0.75):
        rank = q * last
        below = math.floor(rank)
        above = min(below + 1, last)
        result.append(float(ordered[below] + (ordered[above] - ordered[below]) * (rank - below)))
    return result[0], result[1], result[2]


def robust_range(values: np.ndarray, keep: float | None = None) -> tuple[float, float] | None:
    """(low, high) of the samples that are not spikes: within SPREAD_KEPT interquartile ranges of the median
    (a flat series: all of them), widened to include `keep` (the newest mark, always in view). None for no
    finite sample. values: 1-D array, any length."""
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None
    q1, median, q3 = _quartiles(np.sort(finite))
    spread = (q3 - q1) * SPREAD_KEPT
    kept = finite[np.abs(finite - median) <= spread] if spread > 0 else finite[finite == median]
    low, high = float(kept.min()), float(kept.max())
    if keep is not None and math.isfinite(keep):
        low, high = min(low, keep), max(high, keep)
    return low, high


def sample_under_cursor(
    plot: pg.PlotWidget, curve: pg.PlotDataItem, position: QPointF
) -> tuple[int, float, float] | None:
    """(index, x, y) of the curve's sample nearest the cursor's x, or None when off the plot or empty."""
    if not plot.sceneBoundingRect().contains(position):
        return None
    x = plot.getPlotItem().vb.mapSceneToView(position).x()
    xs, ys = curve.getData()
    if xs is None or len(xs) == 0:
        return None
    i = int(np.clip(np.searchsorted(xs, x), 0, len(xs) - 1))
    return i, float(xs[i]), float(ys[i])
