"""When the window's refresh runs: on its timer while prices arrive, and not at all while nothing can change.

The window refreshes on a timer (MainWindow.timer: 10 Hz by default), which coalesces the ticks of every feed
into one recompute per interval. A refresh that finds nothing to do (no price stored, no second passed, no age
on screen that moves) lets the timer rest. Two things wake it: the price store's next write (on the feed's
thread: a queued signal, sent once per rest, never per tick), and the next whole second since the last
recompute (ages grow, prices turn stale, a frozen feed is shown as such). A woken timer reads the store at its
next tick, as when it polled: the interval coalesces the ticks that follow, and lets the feed finish what it
does after a write (its state turns LIVE once a price is kept: the status bar says so with that price). The
demo, whose simulated feed writes once a second, wakes the window about twice a second instead of ten times
(tests/benchmarks/bench_idle.py). While ticks flow the timer never rests and nothing is signalled.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from engine.market.prices import PriceStore


class RefreshPacer(QObject):
    """Rests and wakes `timer` (whose timeout runs the refresh) as the module's docstring says. stop() ends it all
    (the window closes; a test that drives refreshes itself)."""

    _woken = Signal()

    def __init__(self, timer: QTimer, store: PriceStore, parent: QObject) -> None:
        super().__init__(parent)
        self.timer, self.store = timer, store
        self.resting = False
        """The timer rests until the store's next write or the heartbeat (rest()); False while it runs, and
        after stop()."""
        self._armed = False
        """The store's next write wakes the window (set on the GUI thread, cleared by the writer: one signal
        per rest)."""
        self._stopped = False
        self.heartbeat = QTimer(self)
        self.heartbeat.setSingleShot(True)
        self.heartbeat.timeout.connect(self.wake)
        self._woken.connect(self.wake, Qt.ConnectionType.QueuedConnection)
        store.add_listener(self._written)

    def rest(self, due_in_s: float, has_news: Callable[[], bool]) -> None:
        """The refresh found nothing new: stop the timer until the store's next write, or `due_in_s` seconds
        (the next refresh due regardless). has_news: the window's reader's, asked once more after arming, so
        a write made meanwhile is not missed. Nothing after stop()."""
        if self._stopped:
            return
        self._armed = True
        if has_news():  # written since the refresh looked: the timer's next interval reads it
            self._armed = False
            return
        self.resting = True
        self.timer.stop()
        self.heartbeat.start(max(0, math.ceil(due_in_s * 1000) + 1))  # not early: a coarse timer may fire 5% early

    def _written(self) -> None:  # the store's listener: any thread, after a write that changed a key
        if self._armed:
            self._armed = False
            try:
                self._woken.emit()
            except RuntimeError:  # the window is gone (Qt deleted it): nothing to wake
                self.store.remove_listener(self._written)

    @Slot()
    def wake(self) -> None:
        """Run the timer again: it refreshes at its next tick (a write arrived, a second passed, the prices tab
        was shown); a timer that runs already, or was stopped by stop(), is left alone."""
        if not self.resting or self._stopped:
            return
        self.resting = self._armed = False
        self.heartbeat.stop()
        self.timer.start()

    def stop(self) -> None:
        """No refresh any more from the timer, the store or the heartbeat, whatever calls refresh() after (the
        window closes; a test drives its refreshes itself); the store forgets the pacer."""
        self._stopped = True
        self.resting = self._armed = False
        self.heartbeat.stop()
        self.timer.stop()
        self.store.remove_listener(self._written)
