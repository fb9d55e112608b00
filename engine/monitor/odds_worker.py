"""The live table's probability of liquidation, computed off the GUI thread: one short-lived thread per job.

The window submits a job (the shown rows' marks, liquidation prices and distances, and each row's
volatility) every few seconds; the thread computes the closed form of engine.margin.liquidation_odds and
leaves the result for the window to take on its next tick. A job is never queued behind another: while one
runs, a new one is refused (the next tick submits fresher marks anyway). Qt-free.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from engine.margin.liquidation_odds import touch_probabilities


@dataclass(frozen=True)
class OddsJob:
    """What one refresh of the column needs; arrays float64, shape (rows,), in the table's book order.

    token: identifies the rows (the book's positions); the result is shown only on those rows."""

    token: object
    mark: np.ndarray
    liquidation: np.ndarray
    distance: np.ndarray
    volatility: np.ndarray
    """Annualised, NaN where unknown."""
    hours: float


@dataclass(frozen=True)
class OddsResult:
    """A job's answer: probability per row (NaN: unknown), the thread it was computed on, and how long it took."""

    token: object
    probability: np.ndarray
    hours: float
    thread: int
    seconds: float


class OddsWorker:
    """Runs one OddsJob at a time on a thread of its own (ended when the job is done)."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._result: OddsResult | None = None
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, job: OddsJob) -> bool:
        """Start computing a job; False (nothing started) while the previous one still runs."""
        if self.busy:
            return False
        self._thread = threading.Thread(target=self._run, args=(job,), name="liquidation-odds", daemon=True)
        self._thread.start()
        return True

    def take(self) -> OddsResult | None:
        """The newest finished result not taken yet (None: none)."""
        with self._lock:
            result, self._result = self._result, None
        return result

    def join(self, timeout: float = 5.0) -> None:
        """Wait for a running job to end (the window's close)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, job: OddsJob) -> None:
        start = time.perf_counter()
        p = touch_probabilities(job.mark, job.liquidation, job.distance, job.volatility, job.hours)
        result = OddsResult(job.token, p, job.hours, threading.get_ident(), time.perf_counter() - start)
        with self._lock:
            self._result = result
