"""The probability of liquidation computed off the GUI thread: in the child process of
engine.monitor.odds_process (the window), or on one short-lived thread per job (`watch`, and the window's
fallback when the child cannot run).

The caller submits a job (the book, its marks, the rows' marks, liquidation prices and distances, and the
book's volatility inputs) every few seconds; the worker computes each position's figure and each cross
account's (engine.monitor.odds_compute) and leaves the result for the caller to take on its next tick.
What depends only on the book (the volatilities and correlations, the compiled book and its move search)
is made once per book and kept. A job is never queued behind another: while one runs, a new one is refused
(the next tick submits fresher marks anyway). Qt-free.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from engine.margin.model import Book
from engine.monitor.odds_job import BOOTSTRAP, MODELS, NORMAL, OddsJob, OddsResult, VolatilityInputs

if TYPE_CHECKING:  # the computation and the child process are imported with the first job (start-up time)
    from engine.monitor.odds_compute import Prepared

__all__ = ["BOOTSTRAP", "MODELS", "NORMAL", "OddsJob", "OddsResult", "OddsWorker", "VolatilityInputs"]


class OddsWorker:
    """Runs one OddsJob at a time, on a thread of its own (ended when the job is done) or, with
    in_process=False, in the one child process of engine.monitor.odds_process (a thread shares the
    interpreter lock with the GUI thread and delays it; a process does not: bench_odds_lag)."""

    def __init__(self, in_process: bool = True) -> None:
        self.in_process = in_process
        self._thread: threading.Thread | None = None
        self._result: OddsResult | None = None
        self._lock = threading.Lock()
        self._prepared: tuple[Book, VolatilityInputs, Prepared] | None = None
        self._pending: tuple[int, object] | None = None  # (job number, token) in the child process

    @property
    def busy(self) -> bool:
        if not self.in_process:
            return self._pending is not None
        return self._thread is not None and self._thread.is_alive()

    def submit(self, job: OddsJob) -> bool:
        """Start computing a job; False (nothing started) while the previous one still runs."""
        if self.busy:
            return False
        if not self.in_process:
            from engine.monitor.odds_process import ChildGone, child

            try:
                self._pending = (child().submit(job), job.token)
                return True
            except ChildGone:
                self.in_process = True  # the figures come from a thread, rather than not at all
        self._thread = threading.Thread(target=self._run, args=(job,), name="liquidation-odds", daemon=True)
        self._thread.start()
        return True

    def take(self) -> OddsResult | None:
        """The newest finished result not taken yet (None: none). Raises RuntimeError with the child's
        traceback when the job failed there (a bug of ours)."""
        if self._pending is not None:
            from engine.monitor.odds_process import ChildGone, child

            number, token = self._pending
            try:
                result = child().collect(number)
            except ChildGone:  # the job is lost; the next one runs on a thread
                self._pending, self.in_process = None, True
                return None
            except RuntimeError:  # the job failed there: it is over (the next one may be fine), then said
                self._pending = None
                raise
            if result is None:
                return None
            self._pending = None
            return replace(result, token=token)  # the token stayed here: the rows' own objects
        with self._lock:
            result, self._result = self._result, None
        return result

    def join(self, timeout: float = 5.0) -> None:
        """Wait for a running thread job to end (the window's close); a child-process job is left to finish
        there, its result unread."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _prepare(self, job: OddsJob) -> Prepared:
        from engine.monitor.odds_compute import prepare

        cached = self._prepared
        if cached is None or cached[0] is not job.book or cached[1] is not job.inputs:
            self._prepared = cached = (job.book, job.inputs, prepare(job.book, job.inputs))
        return cached[2]

    def _run(self, job: OddsJob) -> None:
        from engine.monitor.odds_compute import compute

        result = compute(job, self._prepare(job))
        with self._lock:
            self._result = result
