"""The position chart: the selected position's marks over time, and its price levels, drawn in place."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel

from desktop.charts.position_chart import level_prices
from engine.monitor.ring_buffer import RingBuffer
from tests.desktop.test_window import demo_on_manual_prices


def test_the_ring_buffer_keeps_the_newest_samples_in_time_order():
    buffer = RingBuffer(capacity=4)
    for i in range(6):
        buffer.append(float(i), 10.0 * i)
    times, values = buffer.series()
    assert list(times) == [2.0, 3.0, 4.0, 5.0] and list(values) == [20.0, 30.0, 40.0, 50.0]


def test_the_chart_follows_the_selected_position_with_its_levels(qtbot, monkeypatch):
    monkeypatch.setattr("engine.monitor.chart_history.MARKS_EVERY_S", 0.0)  # sample every refresh, not twice a second
    _, store, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitUntil(lambda: window.chart_dock.on_screen)  # built and drawn in an event after the first paint
    assert window.chart.isVisible()  # the Position tab is the one in front
    chart = window.chart
    curve = chart.curve
    # By default: the table's first row, the position closest to liquidation.
    first = window.model._rows[window.model.position_at(0)]
    assert chart.shown[1] == first.position.symbol

    doge_row = next(i for i, r in enumerate(window.model._rows) if r.position.symbol == "DOGE/USDT:USDT")
    window.table.selectionModel().setCurrentIndex(
        window.model.view_index(doge_row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
    )
    assert chart.shown == ("binanceusdm", "DOGE/USDT:USDT")
    for mark in (0.156, 0.155, 0.154):
        store.set_manual(("binanceusdm", "DOGE/USDT:USDT"), mark)
        window.refresh()
    # Redrawn half a refresh interval later, in an event of its own (not in the tables' frame).
    assert list(curve.getData()[1])[-1] != 0.154
    qtbot.waitUntil(lambda: list(curve.getData()[1])[-1] == 0.154, timeout=2_000)
    times, values = curve.getData()
    assert list(values)[-3:] == [0.156, 0.155, 0.154]
    assert np.all(np.diff(times) >= 0)
    assert chart.curve is curve  # updated in place
    r = window.model._rows[doge_row]
    warning, danger = level_prices(r, window.levels.thresholds)
    assert chart.lines["liquidation"].value() == pytest.approx(r.liquidation_price)
    assert chart.lines["entry"].value() == pytest.approx(0.162)
    assert chart.lines["warning"].value() == pytest.approx(warning)
    assert (r.liquidation_price - warning * (1 - 0.15)) == pytest.approx(0, abs=1e-12)  # 15% above liq.
    assert danger < warning
    assert "USDT" in chart.plot.getAxis("left").labelUnits
    assert window.chart_dock.windowTitle() == "Position: DOGE/USDT long"


def test_warning_and_danger_lines_lie_between_the_mark_and_liquidation_for_every_demo_position():
    """The demo's hedge-mode BTC short in Binance main (cross, net long) liquidates when BTC falls: its
    warning and danger lines were drawn above the mark, beyond the side liquidation lies on."""
    from desktop.app import demo_portfolio
    from engine.margin.risk import evaluate_book
    from engine.monitor.levels import Thresholds

    portfolio = demo_portfolio()
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    t = Thresholds()
    checked = []
    for r in risk.positions:
        if r.liquidation_price is None or r.distance_to_liquidation <= 0:
            continue
        warning, danger = level_prices(r, t)
        low, high = sorted((r.mark_price, r.liquidation_price))
        nearer_liq = abs(danger - r.liquidation_price) < abs(warning - r.liquidation_price)
        assert low < danger < high and nearer_liq, r.position
        if r.distance_to_liquidation > t.distance_warning:
            assert low < warning < high, r.position
        checked.append((r.position.symbol, r.position.side.value))
    assert ("BTC/USDT:USDT", "short") in checked
    hedge_short = next(
        r
        for r in risk.positions
        if r.position.account == "Binance main"
        and r.position.side.value == "short"
        and r.position.symbol == "BTC/USDT:USDT"
    )
    warning, danger = level_prices(hedge_short, t)
    assert hedge_short.liquidation_price < danger < warning < hedge_short.mark_price
    assert warning == pytest.approx(hedge_short.liquidation_price / (1 - t.distance_warning))


def test_a_ring_buffer_grows_with_its_samples_and_keeps_the_last_capacity():
    """Memory follows the samples held (20,000 accounts reserved 2.6 GB of day-long buffers in `watch`)."""
    import numpy as np

    buffer = RingBuffer(capacity=1_000)
    assert buffer.times.nbytes < 1_000 * 8
    for k in range(2_500):
        buffer.append(float(k), float(-k))
    times, values = buffer.series()
    assert list(times) == [float(k) for k in range(1_500, 2_500)] and np.array_equal(values, -times)
    assert buffer.times.nbytes == 1_000 * 8 and buffer.count == 1_000 and buffer.appended == 2_500


def test_the_time_axis_keeps_the_newest_mark_in_view_and_moves_only_at_its_edge(qtbot):
    """Redrawing the time axis on every mark was a third of an idle demo's CPU: the range moves when the
    curve reaches the right edge; a hand zoom stops the following."""
    from desktop.charts.position_chart import FOLLOW_AHEAD_S, PositionChart
    from engine.margin.risk import evaluate_book

    portfolio, _, window = demo_on_manual_prices(qtbot)
    r = evaluate_book(portfolio.book, portfolio.price_map()).positions[0]
    key = ("binanceusdm", r.position.symbol)
    chart = PositionChart()
    qtbot.addWidget(chart)
    history = RingBuffer(capacity=1_000)
    ranges = []
    for second in range(40):
        history.append(1_800_000_000.0 + second, r.mark_price * (1 + 0.001 * (second % 5)))
        chart.show_position(r, history, window.levels.thresholds, key)
        ranges.append(tuple(chart.plot.getViewBox().viewRange()[0]))
        low, high = ranges[-1]
        assert low <= 1_800_000_000.0 and high >= 1_800_000_000.0 + second  # every mark in view
    assert len(set(ranges)) <= 40 // FOLLOW_AHEAD_S + 1  # moved every ~10 s, not on each of 40 marks

    chart.plot.getViewBox().sigRangeChangedManually.emit([True, False])  # the user zooms the time axis
    zoomed = chart.plot.getViewBox().viewRange()[0]
    for second in range(40, 60):
        history.append(1_800_000_000.0 + second, r.mark_price)
        chart.show_position(r, history, window.levels.thresholds, key)
    assert chart.plot.getViewBox().viewRange()[0] == zoomed  # left where the user put it


def test_one_spike_does_not_set_the_mark_scale(qtbot):
    """A bad tick at a hundred times the mark flattened the curve until restart: the scale follows the samples
    that are not spikes, and the newest mark is always in view."""
    from desktop.charts.position_chart import PositionChart
    from engine.margin.risk import evaluate_book

    portfolio, _, window = demo_on_manual_prices(qtbot)
    r = evaluate_book(portfolio.book, portfolio.price_map()).positions[0]
    chart = PositionChart()
    qtbot.addWidget(chart)
    history = RingBuffer(capacity=1_000)
    for second in range(60):
        mark = r.mark_price * (100 if second == 20 else 1 + 0.001 * (second % 7))
        history.append(1_800_000_000.0 + second, mark)
        chart.show_position(r, history, window.levels.thresholds, ("binanceusdm", r.position.symbol))
    low, high = chart.plot.getViewBox().viewRange()[1]
    assert low <= r.mark_price and r.mark_price * 1.006 <= high < r.mark_price * 1.1


def test_the_robust_range_keeps_a_real_move_and_the_newest_mark():
    from desktop.charts.chart_style import robust_range

    calm = np.full(50, 100.0)
    assert robust_range(calm) == (100.0, 100.0)
    assert robust_range(np.append(calm, 10_000.0)) == (100.0, 100.0)  # a spike left off
    assert robust_range(np.append(calm, 10_000.0), keep=10_000.0) == (100.0, 10_000.0)  # unless it is the newest
    trend = np.linspace(100.0, 80.0, 50)  # a real fall of 20% is not a spike
    assert robust_range(trend) == (80.0, 100.0)
    assert robust_range(np.array([np.nan])) is None


def test_a_price_alert_on_the_shown_symbol_is_a_dashed_line_at_its_level(qtbot):
    from engine.book.price_alert_rules import Direction, PriceAlert

    _, _store, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitUntil(lambda: window.chart_dock.on_screen)  # built and drawn in an event after the first paint
    chart = window.chart
    key = chart.shown
    other = next(k for k in window.book.price_keys() if k != key)
    rule = PriceAlert(*key, Direction.BELOW, 0.5 * window.session.frame.real_marks[key])
    assert window.price_alerts.apply([rule, PriceAlert(*other, Direction.ABOVE, 1.0)])
    window.charts.draw_chart()
    (line,) = [line for line in chart.alert_lines if line.isVisible()]  # the other symbol's is not drawn
    assert line.value() == pytest.approx(rule.price)
    assert line.label.format.startswith("alert below ")
    window.price_alerts.apply([])
    window.charts.draw_chart()
    assert not any(line.isVisible() for line in chart.alert_lines)
    window.close()


def test_a_new_mark_repaints_the_chart_once(qtbot, monkeypatch):
    """The lines' labels follow the new ranges in the same event: a second repaint of the chart per refresh
    (they moved only once the first paint had applied the ranges) was a sixth of an idle demo's CPU."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    class Paints(QObject):
        count = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            self.count += event.type() == QEvent.Type.Paint
            return False

    monkeypatch.setattr("engine.monitor.chart_history.MARKS_EVERY_S", 0.0)  # sample every refresh
    _, store, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitUntil(lambda: window.chart_dock.on_screen)  # built and drawn in an event after the first paint
    window.pacer.stop()
    chart = window.chart
    key = chart.shown
    qtbot.wait(300)  # the shown window's own first paints and layout settle first
    paints = Paints()
    chart.plot.viewport().installEventFilter(paints)
    counts = []
    for mark in (0.98, 0.96, 0.94, 0.92, 0.90):
        store.set_manual(key, window.session.frame.real_marks[key] * mark)
        window.refresh()
        window.charts.draw_chart()  # at once, not half a refresh later
        qtbot.waitUntil(lambda: paints.count > 0)
        for _ in range(5):  # what would follow the paint
            QApplication.processEvents()
        counts.append(paints.count)
        paints.count = 0
    # Every mark painted twice was the fault; on a loaded machine an unrelated event (a late layout, the
    # probability column's results) may add a paint to one mark or another, never to every one.
    assert min(counts) == 1, counts


def test_the_robust_ranges_quartiles_are_numpys_percentiles():
    from desktop.charts.chart_style import _quartiles

    rng = np.random.default_rng(7)
    for n in (1, 2, 3, 4, 7, 100, 1001):
        values = rng.lognormal(0, 1, n)
        assert _quartiles(np.sort(values)) == pytest.approx(tuple(np.percentile(values, (25, 50, 75))), rel=1e-12)
