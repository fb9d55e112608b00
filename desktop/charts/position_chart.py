"""The selected position's mark over time, with its entry, liquidation, warning and danger prices, and its
take-profit and stop-loss where set (the caption says when the stop lies beyond liquidation).

Everything is drawn with items made once and updated in place (setData / setPos); the curve clips to
the view and downsamples itself, so hours of history stay cheap to redraw. Hovering shows the time
and the mark under the cursor.

The time axis follows the newest mark with room ahead (FOLLOW_AHEAD_S, or a tenth of the span shown): the
range, and with it the axis's ticks and labels, is redone when the curve reaches the right edge, not on every
mark (redrawing the axis was a third of an idle demo's CPU). Zooming or panning by hand stops the following.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop.charts.caption import Caption
from desktop.charts.chart_style import ThemedChart, robust_range, sample_under_cursor, show_grid
from desktop.tables.position_columns import quoted
from engine.book.formats import percent, price
from engine.book.horizon import horizon_label
from engine.book.price_alert_rules import PriceAlert
from engine.margin.liquidation_odds import likely_range
from engine.margin.model import Side, quote_currency_of
from engine.margin.risk import PositionRisk
from engine.margin.stops import stop_figures
from engine.monitor.levels import Thresholds
from engine.monitor.ring_buffer import RingBuffer

FOLLOW_AHEAD_S = 10.0
"""Seconds of room left on the right of the newest mark (at least; a tenth of the span once that is more)."""
MARK_HEADROOM = 0.2
"""Room left above and below the marks when the mark axis is set, as a share of their range: the marks that
follow fit without moving the axis (and redrawing both axes, the chart's dearest paint)."""
MARK_SLACK = 3.0
"""The mark axis is narrowed once it is more than this many times as tall as the marks need."""

LINES = (  # name, colour, style
    ("entry", "#7f8c8d", pg.QtCore.Qt.PenStyle.DashLine),
    ("liquidation", "#e74c3c", pg.QtCore.Qt.PenStyle.SolidLine),
    ("danger", "#e67e22", pg.QtCore.Qt.PenStyle.DotLine),
    ("warning", "#d4ac0d", pg.QtCore.Qt.PenStyle.DotLine),
    ("take profit", "#27ae60", pg.QtCore.Qt.PenStyle.DashDotLine),
    ("stop loss", "#8e44ad", pg.QtCore.Qt.PenStyle.DashDotLine),
)


ALERT_COLOUR = "#16a085"
"""The price alerts' dashed lines (a colour none of LINES uses)."""


def level_prices(r: PositionRisk, thresholds: Thresholds) -> tuple[float | None, float | None]:
    """Marks at which the position's distance to liquidation reaches the warning and danger levels.

    They lie between the mark and the liquidation price, on the side the liquidation price lies on:
    below the mark for a long, above it for a short, except where the account liquidates the other way
    (a hedge-mode short in a cross account that is net long liquidates when the price falls). That side
    is read from the mark and the signed distance (engine.margin.liquidation: positive while the mark has not
    reached the liquidation price); the position's side decides only when there is no mark or distance.
    Distance d is |mark - liq| / mark, so the level at d is liq / (1 - d) below the mark, liq / (1 + d) above.
    """
    liq = r.liquidation_price
    if liq is None:
        return None, None
    if r.mark_price is not None and r.distance_to_liquidation is not None and r.mark_price != liq:
        below = (r.mark_price > liq) == (r.distance_to_liquidation >= 0)
    else:
        below = r.position.side is Side.LONG
    if below:
        return liq / (1 - thresholds.distance_warning), liq / (1 - thresholds.distance_danger)
    return liq / (1 + thresholds.distance_warning), liq / (1 + thresholds.distance_danger)


def stop_caption(r: PositionRisk) -> str:
    """The caption's words on the stop-loss: '' without one; its price and distance to the liquidation price, or
    that it lies beyond it and would never fire (engine.margin.stops)."""
    stops = stop_figures(r)
    if stops.stop_loss is None:
        return ""
    stop = f"; stop {quoted(stops.stop_loss, r.position.symbol)}"
    if stops.stop_beyond_liquidation:
        return f"{stop} <b>beyond liquidation: it would never fire</b>"
    if stops.stop_to_liquidation is None:
        return stop
    return f"{stop}, {percent(stops.stop_to_liquidation)} before liquidation"


@dataclass(frozen=True)
class LikelyBand:
    """The prices the mark ends `hours` between with probability `coverage` (engine.margin.liquidation_odds.
    likely_range: the normal model at the symbol's annualised volatility)."""

    low: float
    high: float
    hours: float
    coverage: float = 0.9

    @classmethod
    def of(cls, mark: float | None, volatility: float, hours: float, coverage: float = 0.9) -> LikelyBand | None:
        """None without a mark or a volatility (NaN)."""
        if mark is None or not math.isfinite(mark) or mark <= 0 or not math.isfinite(volatility):
            return None
        return cls(*likely_range(mark, volatility, hours, coverage), hours, coverage)

    def words(self, symbol: str) -> str:
        return (
            f"{self.coverage:.0%} likely in {horizon_label(self.hours)}: {quoted(self.low, symbol)} to "
            f"{quoted(self.high, symbol)} (normal model)"
        )


class PositionChart(ThemedChart):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()})
        show_grid(self.plot)
        left = self.plot.getAxis("left")
        left.enableAutoSIPrefix(False)
        left.setWidth(84)  # room for prices such as 104,250.00 beside the rotated unit label
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#3498db", width=2))
        self.curve.setClipToView(True)
        self.curve.setDownsampling(auto=True, method="peak")
        self.lines = {
            name: pg.InfiniteLine(
                angle=0,
                pen=pg.mkPen(color, style=style),
                label=name,
                labelOpts={"position": 0.93, "color": color, "anchors": [(1, 1), (1, 1)]},
            )
            for name, color, style in LINES
        }
        for line in self.lines.values():
            line.hide()
            self.plot.addItem(line)
        self.band = pg.LinearRegionItem(
            (0.0, 1.0), orientation="horizontal", movable=False, brush=pg.mkBrush(52, 152, 219, 40), pen=pg.mkPen(None)
        )
        self.band.setZValue(-10)  # under the curve and the lines
        self.band.hide()
        self.plot.addItem(self.band)
        self.caption = Caption(" ")  # wraps: a long symbol must not widen the dock
        self.funding = QLabel(" ")
        self.funding.setObjectName("position-funding")
        self.funding.setWordWrap(True)
        self.hover = Caption(" ")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.funding)
        layout.addWidget(self.plot)
        layout.addWidget(self.hover)
        self.shown: tuple[str, str] | None = None
        self._drawn_samples = -1
        self._following = True
        self._x_end = -math.inf
        self.plot.getViewBox().sigRangeChangedManually.connect(self._stop_following)
        self.unit = ""
        self.alert_lines: list[pg.InfiniteLine] = []
        """One dashed line per price alert on the shown symbol (show_price_alerts), reused as they change."""
        self._alerts_drawn: tuple[PriceAlert, ...] = ()
        self.plot.scene().sigMouseMoved.connect(self._on_mouse)
        self.restyle()

    def themed_plots(self) -> list[pg.PlotWidget]:
        return [self.plot]

    def show_position(
        self,
        r: PositionRisk,
        history: RingBuffer,
        thresholds: Thresholds,
        key: tuple[str, str],
        what_if: str = "",
        band: LikelyBand | None = None,
    ) -> None:
        """Called on every refresh: the curve and the axis label are only touched when they changed (each
        touch repaints the plot, axes included); the lines move only when their price did.

        what_if: the row's what-if note ('' for the real book): the curve is the real marks' history,
        the lines and the caption a preview's, and the caption says so. band: the horizon's likely range
        (shaded, and in the caption), None without a volatility."""
        if key != self.shown:  # a new position: fit it (time: followed, marks: without spikes), then let the user zoom
            self.plot.enableAutoRange(x=False, y=False)
            self._following, self._x_end = True, -math.inf
            self._drawn_samples = -1
        self.shown = key
        if history.appended != self._drawn_samples:
            times, marks = history.series()
            self.curve.setData(times, marks)
            self._follow(times)
            self._fit_marks(marks)
            self._drawn_samples = history.appended
        unit = quote_currency_of(r.position.symbol)
        if unit != self.unit:
            self.unit = unit
            self.plot.setLabel("left", "mark", units=unit)
        warning, danger = level_prices(r, thresholds)
        for name, value in (
            ("entry", r.position.entry_price),
            ("liquidation", r.liquidation_price),
            ("warning", warning),
            ("danger", danger),
            ("take profit", r.position.take_profit),
            ("stop loss", r.position.stop_loss),
        ):
            line = self.lines[name]
            if value is None:
                line.hide()
            else:
                line.setPos(value)
                line.show()
        symbol = r.position.symbol
        self._show_band(band, symbol)
        # The new ranges' transform now, not in the paint: the lines' labels follow a transform change by moving,
        # which after the paint asked for a second one (two repaints of the chart per refresh).
        self.plot.getViewBox().prepareForPaint()
        preview = f"<b>{what_if.upper()}</b> (lines and figures; the curve is the real marks): " if what_if else ""
        likely = "" if band is None else f"; {band.words(symbol)}"
        self.caption.setText(
            f"{preview}<b>{r.position.account} · {symbol} {r.position.side.value}</b>: mark"
            f" {quoted(r.mark_price, symbol)}, liquidation {quoted(r.liquidation_price, symbol)},"
            f" {percent(r.distance_to_liquidation)} to go{stop_caption(r)}{likely}"
        )

    def show_price_alerts(self, rules: Sequence[PriceAlert]) -> None:
        """A dashed horizontal line at each price alert's level, labelled 'alert below 85,000.00' (rules: those of
        the shown symbol); nothing is touched when they are the ones drawn."""
        rules = tuple(rules)
        if rules == self._alerts_drawn:
            return
        self._alerts_drawn = rules
        while len(self.alert_lines) < len(rules):
            line = pg.InfiniteLine(
                angle=0,
                pen=pg.mkPen(ALERT_COLOUR, style=pg.QtCore.Qt.PenStyle.DashLine, width=1.5),
                label="",
                labelOpts={"position": 0.07, "color": ALERT_COLOUR, "anchors": [(0, 1), (0, 1)]},
            )
            self.plot.addItem(line)
            self.alert_lines.append(line)
        for i, line in enumerate(self.alert_lines):
            if i < len(rules):
                line.setPos(rules[i].price)
                line.label.setFormat(f"alert {rules[i].direction.value} {price(rules[i].price)}")
                line.show()
            else:
                line.hide()

    def show_funding(self, text: str) -> None:
        """The position's funding and its projection in words (engine.monitor.funding_notes.position_note)."""
        if text != self.funding.text():
            self.funding.setText(text)

    def _show_band(self, band: LikelyBand | None, symbol: str) -> None:
        if band is None:
            self.band.hide()
            return
        if tuple(self.band.getRegion()) != (band.low, band.high):
            self.band.setRegion((band.low, band.high))
        self.band.show()

    def _follow(self, times: np.ndarray) -> None:
        """Keep the newest mark in view, moving the time range only when the curve reaches its right edge."""
        if not self._following or not len(times) or times[-1] <= self._x_end:
            return
        first, last = float(times[0]), float(times[-1])
        self._x_end = last + max(FOLLOW_AHEAD_S, (last - first) / 10)
        self.plot.setXRange(first, self._x_end, padding=0)

    def _fit_marks(self, marks: np.ndarray) -> None:
        """The mark axis over the samples that are not spikes (one bad tick must not flatten the curve until the
        app restarts), the newest mark and the likely range always in view; left alone once the user zoomed or
        panned. Like the time axis it moves only when it must (each move redraws both axes): when those leave
        the range, or when the range is more than MARK_SLACK times as tall as they need (a spike dropped out, a
        calmer market); it is then set with MARK_HEADROOM of their range to spare above and below."""
        if not self._following:
            return
        fitted = robust_range(marks, float(marks[-1]) if len(marks) else None)
        if fitted is None:
            return
        low, high = fitted
        if self.band.isVisible():  # the horizon's likely range in view too
            band_low, band_high = self.band.getRegion()
            low, high = min(low, band_low), max(high, band_high)
        span = high - low or abs(high) * 0.002 or 2.0  # a flat curve: a tenth of a percent around it
        shown_low, shown_high = self.plot.getViewBox().viewRange()[1]
        if shown_low <= low and high <= shown_high and shown_high - shown_low <= MARK_SLACK * span:
            return
        pad = span * MARK_HEADROOM if high > low else span / 2
        self.plot.setYRange(low - pad, high + pad, padding=0)

    def _stop_following(self, *_changed: object) -> None:
        self._following = False

    def _on_mouse(self, position: QPointF) -> None:
        sample = sample_under_cursor(self.plot, self.curve, position)
        if sample is None:
            return
        _, x, y = sample
        stamp = time.strftime("%H:%M:%S", time.localtime(x))
        self.hover.setText(f"{stamp}: mark {quoted(y, self.shown[1] if self.shown else '')}")
