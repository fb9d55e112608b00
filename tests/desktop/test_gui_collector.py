"""Cycles are collected on the GUI thread only: a collection in a feed thread freed Qt wrappers there and
deadlocked against the GUI thread on Qt's own mutex."""

from __future__ import annotations

import gc
import threading

from desktop.platform.gui_collector import GuiThreadCollector


class _Cycle:
    def __init__(self, freed_in: list[str]) -> None:
        self.me = self
        self.freed_in = freed_in

    def __del__(self) -> None:
        self.freed_in.append(threading.current_thread().name)


def test_garbage_made_in_a_feed_thread_is_collected_on_the_gui_thread(qtbot):
    collector = GuiThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        freed_in: list[str] = []

        def feed() -> None:
            for _ in range(50_000):  # allocates far past every threshold: the automatic collector would run here
                _Cycle(freed_in)

        worker = threading.Thread(target=feed, name="feed-test")
        worker.start()
        worker.join()
        assert "feed-test" not in freed_in
        qtbot.waitUntil(lambda: len(freed_in) >= 10_000, timeout=5_000)
        assert set(freed_in) == {threading.current_thread().name}
    finally:
        collector.stop()
    assert gc.isenabled()
