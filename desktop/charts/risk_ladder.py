"""The risk ladder: an account's equity against a uniform move of all its marks, -50% to +50%, with the
equity at which it is liquidated (its cross maintenance margin, engine.margin.stress.account_ladder) and a
"now" line at no move.

Each isolated position's liquidation point is marked where its own mark reaches its liquidation
price, and the account's cross liquidation where the uniform move empties the cross margin (where the two
curves meet). A legend names the curves. Behind them, the distribution of the horizon's move (show_spread):
the moves a mark makes within the probability horizon with 50% and 90% probability, at the account's
notional-weighted volatility under the normal model (engine.margin.liquidation_odds.likely_range). Plot
items are created once and updated in place; hovering shows the values under the cursor and each symbol's
mark at that move.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.charts.caption import Caption
from desktop.charts.chart_style import ThemedChart, sample_under_cursor, show_grid
from desktop.platform.text_colours import problem_colour
from engine.book.formats import money, price
from engine.book.horizon import horizon_label
from engine.margin.layout import BookLayout
from engine.margin.liquidation_odds import likely_range
from engine.margin.model import Book, MarginMode, PriceKey
from engine.margin.risk import BookRisk
from engine.margin.stress import account_ladder, uniform_move_to_liquidation

MOVES = np.linspace(-0.5, 0.5, 201)
MAX_MARKERS = 32
SPREADS = ((0.9, (52, 152, 219, 35)), (0.5, (52, 152, 219, 60)))
"""The shaded moves: probability and colour, widest first."""


class RiskLadder(ThemedChart):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        show_grid(self.plot)
        for axis in ("bottom", "left"):
            self.plot.getAxis(axis).enableAutoSIPrefix(False)
        self.plot.setLabel("bottom", "uniform move of all the account's marks", units="%")
        self.plot.addLegend(offset=(10, 10))
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#3498db", width=2), name="equity")
        self.maintenance = self.plot.plot(
            [], [], pen=pg.mkPen("#e67e22", width=2, style=pg.QtCore.Qt.PenStyle.DashLine), name="liquidation level"
        )
        self.zero = pg.InfiniteLine(angle=0, pos=0, pen=pg.mkPen("#888", style=pg.QtCore.Qt.PenStyle.DashLine))
        self.plot.addItem(self.zero)
        self.now = pg.InfiniteLine(angle=90, pos=0, pen=pg.mkPen("#888"), label="now", labelOpts={"position": 0.05})
        self.plot.addItem(self.now)
        self.marks: list[tuple[str, float]] = []
        """(symbol, mark) of the account's positions, for the hover's readout."""
        self.markers: list[pg.InfiniteLine] = []
        for _ in range(MAX_MARKERS):
            line = pg.InfiniteLine(
                angle=90,
                pen=pg.mkPen("#c0392b"),
                label="",
                labelOpts={"position": 0.9, "color": problem_colour(self.palette())},
            )
            line.hide()
            self.plot.addItem(line)
            self.markers.append(line)
        self.spreads = []
        for _, colour in SPREADS:
            band = pg.LinearRegionItem((0.0, 0.0), movable=False, brush=pg.mkBrush(*colour), pen=pg.mkPen(None))
            band.setZValue(-10)
            band.hide()
            self.plot.addItem(band)
            self.spreads.append(band)
        self.spread_note = Caption(" ")
        self.funding = QLabel(" ")
        self.funding.setObjectName("ladder-funding")
        self.funding.setWordWrap(True)
        self.hover = Caption(" ")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        layout.addWidget(self.spread_note)
        layout.addWidget(self.funding)
        layout.addWidget(self.hover)
        self.account = ""
        self.currency = ""
        self.plot.scene().sigMouseMoved.connect(self._on_mouse)
        self.restyle()

    def restyle(self) -> None:
        """The plot in the palette's colours, the liquidation markers' labels readable on its base."""
        super().restyle()
        for line in self.markers:
            line.label.setColor(problem_colour(self.palette()))
        self.now.label.setColor(self.palette().color(self.palette().ColorRole.Text))
        legend = self.plot.getPlotItem().legend
        if legend is not None:
            legend.setLabelTextColor(self.palette().color(self.palette().ColorRole.Text))

    def themed_plots(self) -> list[pg.PlotWidget]:
        return [self.plot]

    def show_account(
        self,
        book: Book,
        prices: Mapping[PriceKey, float],
        account: str,
        risk: BookRisk,
        layout: BookLayout,
        cross_move: float | object | None = ...,
    ) -> None:
        """Redraw for `account` at these marks (only accounts whose prices are all in `prices`).

        cross_move: the account's uniform move to liquidation when the caller has it already."""
        self.account = account
        self.currency = next((a.currency for a in book.accounts if a.name == account), "")
        equity, level = account_ladder(book, prices, account, list(MOVES), layout)
        self.curve.setData(MOVES * 100, equity)
        self.maintenance.setData(MOVES * 100, level, connect="finite")
        symbols = dict.fromkeys(leg.price_key for leg in layout.legs if leg.account == account)
        self.marks = [(symbol, prices[(exchange, symbol)]) for exchange, symbol in symbols]
        self.plot.setLabel("left", f"equity of {account}", units=self.currency)
        points: list[tuple[float, str]] = []
        for r in risk.positions:
            p = r.position
            if p.account == account and p.margin_mode is MarginMode.ISOLATED and r.liquidation_price is not None:
                points.append(((r.liquidation_price / r.mark_price - 1) * 100, f"{p.symbol.split(':')[0]} liq."))
        cross = uniform_move_to_liquidation(book, prices, account, layout) if cross_move is ... else cross_move
        if cross is not None:
            points.append((cross * 100, "cross liq."))
        for i, (line, (x, text)) in enumerate(zip(self.markers, sorted(points), strict=False)):
            line.setPos(x)
            line.label.setFormat(text)
            line.label.setPosition(0.92 - 0.1 * (i % 5))  # staggered, so neighbouring labels do not overlap
            line.show()
        for line in self.markers[len(points) :]:
            line.hide()
        self.marker_positions = sorted(x for x, _ in points)

    def show_spread(self, volatility: float, hours: float) -> None:
        """Shade the horizon's likely moves at this annualised volatility (NaN: nothing known, nothing shaded)."""
        if not math.isfinite(volatility):
            for band in self.spreads:
                band.hide()
            self.spread_note.setText("No volatility known for this account's symbols: no distribution of moves.")
            return
        words = []
        for band, (coverage, _) in zip(self.spreads, SPREADS, strict=True):
            low, high = likely_range(1.0, volatility, hours, coverage)
            band.setRegion(((low - 1) * 100, (high - 1) * 100))
            band.show()
            words.append(f"{coverage:.0%} within {(low - 1) * 100:+.1f}% to {(high - 1) * 100:+.1f}%")
        self.spread_note.setText(
            f"Shaded: a mark's move within {horizon_label(hours)} at the account's notional-weighted volatility "
            f"{volatility:.0%} (normal model): {'; '.join(words)}."
        )

    def show_funding(self, text: str) -> None:
        """The account's funding per day and days to warning in words (engine.monitor.funding_notes.account_note)."""
        if text != self.funding.text():
            self.funding.setText(text)

    def _on_mouse(self, position: QPointF) -> None:
        sample = sample_under_cursor(self.plot, self.curve, position)
        if sample is None:
            return
        i, x, y = sample
        _, levels = self.maintenance.getData()
        level = levels[i] if levels is not None and i < len(levels) else float("nan")
        at_level = f", liquidation level {money(level, self.currency)}" if np.isfinite(level) else ""
        marks = " · ".join(f"{s.split(':')[0]} {price(m * (1 + x / 100))}" for s, m in self.marks[:6])
        self.hover.setText(
            f"all marks {x:+.1f}%: equity {money(y, self.currency)}{at_level}" + (f" · {marks}" if marks else "")
        )
