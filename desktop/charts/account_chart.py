"""An account's equity and margin ratio over time, with the margin-ratio thresholds drawn in.

Two plots share one time axis (zooming one zooms both). Samples come from ring buffers the window
fills once a second, seeded at start-up from the history stored with the book, so the chart opens on
the past day rather than empty. Items are created once and updated in place; hovering shows values.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.charts.caption import Caption
from desktop.charts.chart_style import ThemedChart, sample_under_cursor, show_grid
from engine.book.formats import money
from engine.monitor.levels import Thresholds
from engine.monitor.ring_buffer import RingBuffer


class AccountChart(ThemedChart):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.equity_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.ratio_plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        self.ratio_plot.setXLink(self.equity_plot)
        for plot in (self.equity_plot, self.ratio_plot):
            show_grid(plot)
            axis = plot.getAxis("left")
            axis.enableAutoSIPrefix(False)
            axis.setWidth(84)
        self.ratio_plot.setLabel("left", "margin ratio", units="%")
        self.equity = self.equity_plot.plot([], [], pen=pg.mkPen("#3498db", width=2))
        self.ratio = self.ratio_plot.plot([], [], pen=pg.mkPen("#9b59b6", width=2), connect="finite")
        for curve in (self.equity, self.ratio):
            curve.setClipToView(True)
            curve.setDownsampling(auto=True, method="peak")
        self.ratio_lines = {
            name: pg.InfiniteLine(
                angle=0,
                pen=pg.mkPen(color, style=pg.QtCore.Qt.PenStyle.DotLine),
                label=name,
                labelOpts={"position": 0.93, "color": color, "anchors": [(1, 1), (1, 1)]},
            )
            for name, color in (("warning", "#d4ac0d"), ("danger", "#e67e22"), ("liquidation", "#e74c3c"))
        }
        for line in self.ratio_lines.values():
            self.ratio_plot.addItem(line)
        self.ratio_lines["liquidation"].setPos(100.0)
        self.hover = Caption(" ")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.equity_plot, 3)
        layout.addWidget(self.ratio_plot, 2)
        layout.addWidget(self.hover)
        self.account = ""
        self.currency = ""
        for plot in (self.equity_plot, self.ratio_plot):
            plot.scene().sigMouseMoved.connect(self._on_mouse)
        self.restyle()

    def themed_plots(self) -> list[pg.PlotWidget]:
        return [self.equity_plot, self.ratio_plot]

    def show_account(
        self, account: str, currency: str, equity: RingBuffer, ratio: RingBuffer, thresholds: Thresholds
    ) -> None:
        if account != self.account:
            self.equity_plot.enableAutoRange()
            self.ratio_plot.enableAutoRange()
        if currency != self.currency or not self.equity_plot.getAxis("left").labelText:
            self.equity_plot.setLabel("left", "equity", units=currency)  # each setLabel redraws the axis
        self.account, self.currency = account, currency
        self.equity.setData(*equity.series())
        times, ratios = ratio.series()
        self.ratio.setData(times, ratios * 100)
        self.ratio_lines["warning"].setPos(thresholds.ratio_warning * 100)
        self.ratio_lines["danger"].setPos(thresholds.ratio_danger * 100)

    def _on_mouse(self, position: QPointF) -> None:
        plot = self.ratio_plot if self.ratio_plot.sceneBoundingRect().contains(position) else self.equity_plot
        sample = sample_under_cursor(plot, self.equity, position)
        if sample is None:
            return
        i, x, equity = sample
        _, ratio = self.ratio.getData()
        stamp = time.strftime("%H:%M:%S", time.localtime(x))
        text = f"{self.account} at {stamp}: equity {money(equity, self.currency)}"
        if ratio is not None and i < len(ratio) and np.isfinite(ratio[i]):
            text += f", margin ratio {float(ratio[i]):.2f}%"
        self.hover.setText(text)
