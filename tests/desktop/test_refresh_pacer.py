"""The window's refresh rests while nothing can change, and wakes for a price written on any thread, for the next
second, and for the prices tab (desktop.window.refresh_pacer)."""

from __future__ import annotations

import threading

from engine.market.prices import PriceStore, Tick
from tests.desktop.test_window import demo_on_manual_prices


def _rested(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.pacer.resting, timeout=3000)
    assert not window.timer.isActive()


def _shown_marks(window, key) -> list[float]:
    """The marks the positions table holds for this price key's rows."""
    exchange_of = window.session.exchange_of
    return [r.mark_price for r in window.model._rows if (exchange_of[r.position.account], r.position.symbol) == key]


def test_a_window_with_nothing_new_rests_and_a_feed_thread_wakes_it(qtbot):
    """A price written by another thread (a feed's) while the window rests is on screen within one refresh
    interval, with no second due (nothing but the write woke it); then the window rests again."""
    _, store, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitExposed(window)
    _rested(qtbot, window)
    window.pacer.heartbeat.start(60_000)  # no second due soon: only the write can wake it
    key = next(iter(store._manual))
    assert 123.456 not in _shown_marks(window, key)
    writer = threading.Thread(target=store.set_manual, args=(key, 123.456))
    writer.start()
    writer.join()
    qtbot.waitUntil(lambda: 123.456 in _shown_marks(window, key), timeout=400)
    _rested(qtbot, window)  # and rests again once nothing more arrives


def test_a_resting_window_still_refreshes_every_second(qtbot):
    """Ages grow and a frozen feed turns stale with nothing written: the heartbeat refreshes once a second."""
    _, _, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitExposed(window)
    _rested(qtbot, window)
    recomputes = []
    original = window._recompute
    window._recompute = lambda *a: (recomputes.append(1), original(*a))[1]
    qtbot.waitUntil(lambda: len(recomputes) >= 2, timeout=3500)  # nothing was written meanwhile


def test_a_window_whose_prices_flow_never_rests(qtbot):
    _, store, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitExposed(window)
    key = next(iter(store._manual))
    rested = []
    original = window.pacer.rest
    window.pacer.rest = lambda *a: (rested.append(1), original(*a))[1]
    for i in range(15):  # a write every 40 ms: every 100 ms refresh finds something new
        store.set_manual(key, 100.0 + i)
        qtbot.wait(40)
    assert not rested and window.timer.isActive()


def test_stop_stops_every_wake(qtbot):
    """What tests and the closing window use: after stop(), neither a write nor the heartbeat refreshes."""
    _, store, window = demo_on_manual_prices(qtbot)
    window.show()
    qtbot.waitExposed(window)
    _rested(qtbot, window)
    window.pacer.stop()
    refreshes = []
    window.refresh = lambda: refreshes.append(1)
    store.set_manual(next(iter(store._manual)), 99.0)
    qtbot.wait(1300)
    assert not refreshes and not window.timer.isActive()
    window.refresh = type(window).refresh.__get__(window)
    window.refresh()  # a refresh called by hand after stop() (that found nothing) starts no heartbeat
    window.refresh()
    assert not window.pacer.resting and not window.pacer.heartbeat.isActive() and not window.timer.isActive()
    assert window.pacer._written not in store._listeners  # the store forgets the stopped window


def test_the_store_calls_its_listeners_after_a_change_only():
    store = PriceStore()
    calls = []
    listener = lambda: calls.append(1)  # noqa: E731
    store.add_listener(listener)
    key = ("binanceusdm", "BTC/USDT:USDT")
    store.publish([Tick(key, 60_000.0)])
    assert calls == [1]
    store.publish([Tick(key, -1.0), Tick(key, None)])  # all refused: nothing changed
    assert calls == [1]
    store.set_manual(key, 61_000.0)
    store.publish([Tick(key, 60_500.0)])  # kept under the manual price: the mark shown did not change
    store.clear_manual()
    store.freeze_as_manual()
    assert calls == [1, 1, 1, 1]
    store.remove_listener(listener)
    store.set_manual(key, 62_000.0)
    assert calls == [1, 1, 1, 1]
