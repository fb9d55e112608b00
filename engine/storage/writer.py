"""Storage writes off the caller's thread: the GUI enqueues and returns at once.

One thread owns its own connection and drains the queue; history samples that queued up meanwhile go
to disk in one transaction. The connection is a `sibling()` of the window's repository: SQLite
connections are per thread, and a second connection lets a history commit (an fsync) never hold the
GUI's connection; the file was checked when the repository was opened, so the sibling is not checked
again. The writer writes records only (history, alerts: outside the book's checksum). A failed write
is kept as `last_error` (for the status bar) and the writer goes on with the next batch: price
history is never worth stopping the monitor for.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence

from engine.monitor.alerts import Alert
from engine.storage.database import BookDatabase, StorageError

log = logging.getLogger(__name__)
_STOP = object()

Sample = tuple[str, float, float]


class BackgroundWriter:
    """A thread that stores history samples and alerts in the book opened as `database` (which stays the
    caller's: the writer has its own connection to the same file)."""

    def __init__(self, database: BookDatabase) -> None:
        self._database = database
        self.path = database.path
        self.last_error = ""
        self.written = 0
        self._queue: queue.Queue[object] = queue.Queue()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="storage-writer", daemon=True)
        self._thread.start()

    def record(self, samples: Sequence[Sample]) -> None:
        """Queue (series, time, value) samples; never blocks on the disk."""
        if samples:
            self._idle.clear()
            self._queue.put(list(samples))

    def record_alert(self, alert: Alert) -> None:
        """Queue an alert for the book's alert history."""
        self._idle.clear()
        self._queue.put(alert)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued so far is written (or has failed). True when done in time."""
        self._queue.put(None)
        return self._idle.wait(timeout)

    def close(self, timeout: float = 5.0) -> bool:
        self._queue.put(_STOP)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            db = self._database.sibling()
        except StorageError as e:
            self.last_error = str(e)
            db = None
        try:
            while True:
                item = self._queue.get()
                batch: list[Sample] = []
                alerts: list[Alert] = []
                stop = item is _STOP
                pending = [] if stop else [item]
                while not stop:  # take whatever else queued up meanwhile: one transaction for all of it
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is _STOP:
                        stop = True
                    else:
                        pending.append(more)
                for entry in pending:
                    if isinstance(entry, list):
                        batch.extend(entry)
                    elif isinstance(entry, Alert):
                        alerts.append(entry)
                for alert in alerts:
                    if db is None:
                        break
                    try:
                        db.add_alert(
                            alert.at, alert.describe(), alert.old.label, alert.new.label, alert.distance, alert.mark
                        )
                    except StorageError as e:
                        self.last_error = str(e)
                if batch and db is not None:
                    try:
                        db.record_history(batch)
                        self.written += len(batch)
                        self.last_error = ""
                    except StorageError as e:
                        self.last_error = str(e)
                        log.warning("history not saved: %s", e)
                if self._queue.empty():
                    self._idle.set()
                if stop:
                    return
        finally:
            if db is not None:
                db.close()
            self._idle.set()
