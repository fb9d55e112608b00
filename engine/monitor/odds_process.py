"""One child process computing the probability-of-liquidation jobs of every OddsWorker(in_process=False).

Why a process: Python threads share one interpreter lock, so a thread running a big book's Monte Carlo
holds it for milliseconds at a time and the GUI thread waits (tests/benchmarks/bench_odds_lag.py measured
it); a process has its own. The child is spawned (not forked: the parent runs Qt and feed threads) at the
first job, is daemonic (it ends with the app, a running job with it), and serves jobs one after another
over a pipe: (number, job) in, (number, OddsResult or RuntimeError with the traceback) out. The book and
its volatility inputs are sent only when they differ from the last job's (the child keeps what it derived
from them); the rows' token stays in the parent. A frozen build calls multiprocessing.freeze_support()
first (packaging/launcher.py).

A job is pickled on the caller's thread and written to the pipe by a sender thread: the first job carries the
whole book, more than the pipe holds, and the child reads it only once it has imported its modules, so
writing it on the GUI thread held the window still for 150 to 300 ms right after its first paint.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from typing import TYPE_CHECKING, Any

from engine.monitor.odds_job import OddsJob, OddsResult

if TYPE_CHECKING:  # the computation is the child's: the parent (the GUI) only sends jobs (start-up time)
    from engine.monitor.odds_compute import Prepared


class OddsChild:
    """The parent's end: submit() queues a job for the sender thread and returns its number; collect(number) its
    result when done. target: the child's loop (serve; a test's stand-in)."""

    def __init__(self, target: Callable[[Connection], None] | None = None) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_end = context.Pipe()
        self.process = context.Process(target=target or serve, args=(child_end,), name="liquidation-odds", daemon=True)
        self.process.start()
        child_end.close()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)
        self._done: dict[int, OddsResult | RuntimeError] = {}
        self._sent: tuple[object, object] | None = None  # the (book, inputs) the child holds (kept: ids stay theirs)
        self._outbox: deque[bytes] = deque()  # pickled jobs not written yet, oldest first
        self._sending = False  # a sender thread runs (it ends once the outbox is empty)
        self._outbox_lock = threading.Lock()
        self._broken: OSError | None = None

    def submit(self, job: OddsJob) -> int:
        """Queue a job for the child; its number, at once (the sender thread writes it). Raises ChildGone when the
        process is gone, or a write to it failed."""
        with self._lock:
            if self._broken is not None or not self.process.is_alive():
                raise ChildGone(f"the liquidation odds process ended (exit code {self.process.exitcode})")
            number = next(self._numbers)
            held = (job.book, job.inputs)
            slim = replace(job, token=None)
            if self._sent is not None and held[0] is self._sent[0] and held[1] is self._sent[1]:
                slim = replace(slim, book=None, inputs=None)  # type: ignore[arg-type]
            data = bytes(ForkingPickler.dumps((number, slim)))  # what Connection.send writes
            with self._outbox_lock:
                self._outbox.append(data)
                if not self._sending:
                    self._sending = True
                    threading.Thread(target=self._send_queued, name="liquidation-odds-sender", daemon=True).start()
            self._sent = held
            return number

    def _send_queued(self) -> None:
        """The sender thread: writes the queued jobs in order and ends when none is left, or when a write fails
        (the process is gone: submit and collect say ChildGone from then on)."""
        while True:
            with self._outbox_lock:
                if not self._outbox:
                    self._sending = False
                    return
                data = self._outbox.popleft()
            try:
                self._conn.send_bytes(data)
            except OSError as e:
                with self._outbox_lock:
                    self._broken, self._sending = e, False
                    self._outbox.clear()
                return

    def collect(self, number: int) -> OddsResult | None:
        """The result of job `number` once it is done (None: not yet). Raises RuntimeError when it failed, and
        ChildGone when the process ended before answering (it could not start, or was killed)."""
        with self._lock:
            try:
                while self._conn.poll():
                    done, result = self._conn.recv()
                    self._done[done] = result
            except (EOFError, OSError) as e:
                raise ChildGone(f"the liquidation odds process ended (exit code {self.process.exitcode})") from e
            result = self._done.pop(number, None)
            if result is None and (self._broken is not None or not self.process.is_alive()):
                raise ChildGone(f"the liquidation odds process ended (exit code {self.process.exitcode})")
        if isinstance(result, RuntimeError):
            raise result
        return result


class ChildGone(Exception):
    """The child process is gone: the caller computes on a thread instead (engine.monitor.odds_worker)."""


_CHILD: OddsChild | None = None
_CHILD_LOCK = threading.Lock()


def child() -> OddsChild:
    """The process's one OddsChild (started on first use). Raises ChildGone once one has ended: no second is
    started (a build that cannot start it would start one every few seconds)."""
    global _CHILD
    with _CHILD_LOCK:
        if _CHILD is None:
            _CHILD = OddsChild()
        elif not _CHILD.process.is_alive():
            raise ChildGone(f"the liquidation odds process ended (exit code {_CHILD.process.exitcode})")
        return _CHILD


def serve(conn: Connection) -> None:
    """The child's loop: until the parent's end closes."""
    from engine.monitor.odds_compute import compute, prepare

    held: tuple[Any, Any, Prepared] | None = None
    while True:
        try:
            number, job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            if job.book is not None:
                held = (job.book, job.inputs, prepare(job.book, job.inputs))
            if held is None:
                raise RuntimeError("a job without its book before any book")
            result: OddsResult | RuntimeError = compute(replace(job, book=held[0], inputs=held[1]), held[2])
        except Exception:  # a bug of ours: the parent raises it with the child's traceback
            result = RuntimeError(f"liquidation odds child process:\n{traceback.format_exc()}")
        conn.send((number, result))
