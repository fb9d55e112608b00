"""What an idle window redraws: a mark that arrives repaints what shows it, not the layout around it.

A monitor stays open all day on a laptop (issue 15's idle target, tests/benchmarks/bench_idle.py). Each test
here catches one fault that made a quiet window work on every mark: the chart's caption re-laying out the
dock and the main window, the mark axis redrawn for marks already in view, the window copying the price
store ten times a second when nothing arrived.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QVBoxLayout, QWidget

from desktop.charts.caption import Caption
from engine.monitor.ring_buffer import RingBuffer
from tests.desktop.event_counter import EventCounter
from tests.desktop.test_window import demo_on_manual_prices


def test_a_new_caption_of_the_same_height_repaints_the_caption_alone(qtbot):
    """A caption with a new mark in it asks no layout for room (a QLabel did, at every mark); one that wraps
    onto another line does, and shows every word; its text is kept as given, markup included."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    caption = Caption("<b>main · BTC/USDT:USDT long</b>: mark 61,000.00 USDT")
    layout.addWidget(caption)
    layout.addStretch(1)
    qtbot.addWidget(holder)
    holder.resize(420, 200)
    holder.show()
    qtbot.waitExposed(holder)
    qtbot.wait(20)
    one_line = caption.height()
    requests = EventCounter(holder, QEvent.Type.LayoutRequest)
    for mark in ("61,000.50", "61,001.00", "60,999.75"):
        caption.setText(f"<b>main · BTC/USDT:USDT long</b>: mark {mark} USDT")
        qtbot.wait(5)
    assert requests.count == 0 and caption.height() == one_line
    assert caption.text() == "<b>main · BTC/USDT:USDT long</b>: mark 60,999.75 USDT"

    long = "<b>main · BTC/USDT:USDT long</b>: " + ", ".join(f"level {k} at {60_000 + k:,}.00 USDT" for k in range(12))
    caption.setText(long)
    qtbot.waitUntil(lambda: caption.height() > 2 * one_line)  # wrapped, not cut: the layout gave it the room
    assert requests.count >= 1 and caption.width() <= holder.width()
    wrapped = caption.height()
    holder.resize(210, 400)  # half as wide: the same text wraps onto more lines (laid out at the new width)
    qtbot.waitUntil(lambda: caption.height() > wrapped)
    assert caption.heightForWidth(caption.width()) == caption.height()


def test_the_mark_axis_moves_only_when_the_marks_leave_it(qtbot):
    """Sixty marks wandering half a percent: the mark axis was set (and both axes redrawn) at every one; now
    it is set when a mark leaves the range, and every mark stays in view; a move far out of range is
    followed at once."""
    from desktop.charts.position_chart import PositionChart
    from engine.margin.risk import evaluate_book

    portfolio, _, window = demo_on_manual_prices(qtbot)
    r = evaluate_book(portfolio.book, portfolio.price_map()).positions[0]
    key = ("binanceusdm", r.position.symbol)
    chart = PositionChart()
    qtbot.addWidget(chart)
    history = RingBuffer(capacity=1_000)
    walk = r.mark_price * (1 + 0.005 * np.sin(np.arange(60) / 7.0))
    ranges = []
    for second, mark in enumerate(walk):
        history.append(1_800_000_000.0 + second, float(mark))
        chart.show_position(r, history, window.levels.thresholds, key)
        low, high = chart.plot.getViewBox().viewRange()[1]
        assert low <= walk[: second + 1].min() and walk[: second + 1].max() <= high  # every mark in view
        ranges.append((low, high))
    assert len(set(ranges)) <= 10  # set a few times as the curve grew, not at each of 60 marks

    history.append(1_800_000_060.0, r.mark_price * 1.2)  # a real move, far above the range
    chart.show_position(r, history, window.levels.thresholds, key)
    low, high = chart.plot.getViewBox().viewRange()[1]
    assert high >= r.mark_price * 1.2 and low <= walk.min()


def test_an_idle_refresh_reads_nothing_until_a_price_arrives_or_a_second_passes(qtbot, monkeypatch):
    """The ten refreshes a second copied the whole price store although nothing had arrived; a refresh now
    takes a snapshot only when a price changed, when the prices tab shows ages, or once a second (ages grow,
    a frozen feed turns stale), and a new price is still drawn at the next refresh."""
    _, store, window = demo_on_manual_prices(qtbot)
    window.pacer.stop()
    window.refresh()  # whatever the start-up left unread
    reads = []
    original = window.reader.read
    monkeypatch.setattr(window.reader, "read", lambda: reads.append(1) or original())
    window._last_refresh = time.monotonic()
    for _ in range(5):
        window.refresh()
    assert reads == []
    key = ("binanceusdm", "DOGE/USDT:USDT")
    store.set_manual(key, 0.2)
    window.refresh()
    assert len(reads) == 1
    assert [r.mark_price for r in window.model._rows if r.position.symbol == key[1]] == [0.2]
    window._last_refresh -= 1.5  # a second passed with nothing new: read again (ages, staleness)
    window.refresh()
    assert len(reads) == 2
