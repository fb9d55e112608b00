"""Cyclic garbage collection on the GUI thread only, from a timer.

Python's automatic collector runs in whichever thread happens to allocate past the threshold. In this app
that is often a feed thread (it allocates for every tick), and a collection there can free a cycle that
holds Qt wrappers (a closed dialog, a replaced chart item): their C++ destructors then run outside the GUI
thread and take Qt's locks there. The test suite deadlocked exactly so (py-spy: gc_collect_main ->
QObject::~QObject in a feed thread while the GUI thread held Qt's mutex). So the automatic collector is
switched off and this timer collects on the GUI thread, by the collector's own thresholds (the pattern of
calibre's and other PyQt applications' GarbageCollector). Reference counting, which frees nearly everything,
is unaffected: only cycles wait for the next tick (at most a second).
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer, Slot

CHECK_INTERVAL_MS = 1000


class GuiThreadCollector(QObject):
    """Turns automatic collection off and collects from a timer of the thread that creates it (the GUI
    thread). stop() gives the collector back to Python (automatic collection on again)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = CHECK_INTERVAL_MS) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    @Slot()
    def check(self) -> None:
        """Collect the generations whose allocation counts passed the collector's thresholds, as the automatic
        collector would have, but here."""
        young, middle, old = gc.get_count()
        if young <= self.threshold[0]:
            return
        generation = 0
        if middle > self.threshold[1]:
            generation = 2 if old > self.threshold[2] else 1
        gc.collect(generation)

    def stop(self) -> None:
        self.timer.stop()
        gc.enable()
