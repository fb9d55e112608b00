"""`watch --sync-every`: the saved book's linked accounts synced on a worker thread, one at a time, on the rules of
engine.sync.schedule, while the watch loop goes on. Each sync opens the saved book itself, syncs one account
(engine.sync.run.sync_account: one transaction) and hands back what happened and the book as saved; the loop
picks it up with poll() and uses the new book (engine.monitor.watch.Monitor).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.book.portfolio import Portfolio
from engine.book.safe_text import printable
from engine.margin.model import Book
from engine.monitor.alerts import Alert
from engine.storage.database import BookDatabase, StorageError
from engine.sync.check_alerts import CheckAlerts
from engine.sync.errors import SyncError, SyncFailure
from engine.sync.run import AccountSync, link_problem, sync_account
from engine.sync.schedule import SyncSchedule


@dataclass(frozen=True)
class SyncEvent:
    """One finished sync as the watch loop takes it: result; portfolio the book as saved after it (None when it
    failed: the book in use stays); alerts the liquidation checks it raised (engine.sync.check_alerts); next_in
    the seconds until this account is tried again (the interval, or the backoff after a failure)."""

    result: AccountSync
    next_in: float
    portfolio: Portfolio | None = None
    alerts: list[Alert] = field(default_factory=list)

    def text(self) -> str:
        """'main synced: 1 opened, 0 changed, 0 closed, 0 in conflict', or 'main: sync FAILED: <why>; the book keeps
        its last good sync (3 min old); next try in 120 s'."""
        r = self.result
        if r.error is None:
            o = r.outcome
            assert o is not None
            return (
                f"{printable(r.account)} synced: {len(o.opened)} opened, {len(o.changed)} changed, "
                f"{len(o.closed)} closed, {len(o.conflicts)} in conflict"
            )
        age = "it was never synced" if r.last_good is None else f"{r.at - r.last_good:.0f} s old"
        return (
            f"{printable(r.account)}: sync FAILED: {printable(str(r.error))}; the book keeps its last good sync "
            f"({age}); next try in {round(self.next_in, 1):g} s"
        )

    def record(self) -> dict[str, Any]:
        """The JSON record: {time, account, exchange, ok, opened, changed, closed, conflicts (counts), error
        {kind, message} or null, last_good_sync (Unix seconds or null), next_in_s, text}."""
        r, o = self.result, self.result.outcome
        counts = {k: len(getattr(o, k)) if o else None for k in ("opened", "changed", "closed", "conflicts")}
        return {
            "time": datetime.fromtimestamp(r.at, UTC).isoformat(timespec="seconds"),
            "account": r.account,
            "exchange": r.exchange,
            "ok": r.ok,
            **counts,
            "error": None if r.error is None else {"kind": r.error.kind.value, "message": str(r.error)},
            "last_good_sync": r.last_good,
            "next_in_s": self.next_in,
            "text": self.text(),
        }


class BackgroundSync:
    """Syncs the linked accounts of the saved book at `path` every `interval` seconds on one worker thread.
    settings: exchange id -> ccxt constructor settings. poll() is called from the watch loop; stop() at its end."""

    def __init__(self, path: str, interval: float, settings: Mapping[str, Any] | None = None) -> None:
        self.path = path
        self.settings = dict(settings or {})
        self.schedule = SyncSchedule(interval)
        self.checks = CheckAlerts()
        self._done: queue.Queue[tuple[AccountSync, Portfolio | None]] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._linked: tuple[tuple[Any, ...], list[str], float] = ((), [], -float("inf"))

    def poll(self, book: Book, now: float | None = None) -> list[SyncEvent]:
        """The syncs finished since the last call, and the next due account's sync started (monotonic now)."""
        now = time.monotonic() if now is None else now
        events = []
        while not self._done.empty():
            result, portfolio = self._done.get()
            wait = self.schedule.finished(result.account, result.ok, now)
            events.append(SyncEvent(result, wait, portfolio, self.checks.alerts(result)))
        name = self.schedule.due(self.linked(book, now), now)
        if name is not None:
            self.schedule.started(name, now)
            self._worker = threading.Thread(target=self._sync, args=(book, name), name=f"sync-{name}", daemon=True)
            self._worker.start()
        return events

    def linked(self, book: Book, now: float) -> list[str]:
        """The book's linked accounts, looked up again (keyring, environment) when its accounts change and once an
        interval, not at every poll."""
        accounts, names, at = self._linked
        if accounts != book.accounts or now - at >= self.schedule.interval:
            names = [a.name for a in book.accounts if link_problem(a) is None]
            self._linked = (book.accounts, names, now)
        return names

    def _sync(self, book: Book, name: str) -> None:
        account = book.account(name)
        try:
            with BookDatabase.open(self.path) as db:
                result = sync_account(db, name, self.settings)
                portfolio = db.load() if result.ok else None
        except (StorageError, KeyError) as e:  # the book cannot be saved, or the account left it meanwhile
            error = SyncError(SyncFailure.UNREADABLE, f"the saved book: {e}")
            result, portfolio = AccountSync(name, account.exchange, time.time(), error=error), None
        except Exception as e:  # a bug: said as a failed sync; the traceback goes to stderr
            error = SyncError(SyncFailure.UNREADABLE, f"sync failed ({type(e).__name__})")
            self._done.put((AccountSync(name, account.exchange, time.time(), error=error), None))
            raise
        self._done.put((result, portfolio))

    def stop(self, timeout: float = 10.0) -> bool:
        """Wait for a running sync to end (True when none is left running)."""
        if self._worker is not None:
            self._worker.join(timeout)
            return not self._worker.is_alive()
        return True
