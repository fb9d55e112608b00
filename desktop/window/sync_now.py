"""Account ▸ Sync now: the selected account read from its exchange off the GUI thread, then reconciled into the
window's book on the GUI thread (engine.sync.run: read_account in a worker thread, apply_state here).

The network part never blocks the window; its outcome is status in words ("main synced: 1 opened, 0 changed,
0 closed; CHECK BTC/USDT:USDT long: ours …, the exchange's …"), a failure too, never a blocking dialog. The new
book is saved and shown through the host like any other command (one transaction); the sync's log entry is
written to the saved book's sync log beside it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from engine.margin.model import quote_currency_of

if TYPE_CHECKING:  # engine.sync loads ccxt: imported when a sync starts, not with the window
    from engine.sync.errors import SyncError
    from engine.sync.exchange_state import ExchangeState


class SyncNow(QObject):
    """The 'Sync account now' action of a window. host: the window's BookHost (portfolio, apply_portfolio, say,
    selected_account; its saved_book(), when there is one, gets the sync log). settings: exchange id ->
    ccxt constructor settings (the --exchange-config 'ccxt' members). `done` is emitted with the status line
    once a sync has been applied or has failed, then `finished` with (engine.sync.run.AccountSync, that line):
    the automatic sync (desktop.window.auto_sync) paces itself and raises the liquidation checks on it."""

    read = Signal(object)
    done = Signal(str)
    finished = Signal(object, str)

    def __init__(self, host: Any, parent: QWidget, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.settings: Mapping[str, Any] = dict(settings or {})
        self.action = QAction("S&ync account now", parent)
        self.action.triggered.connect(lambda *_: self.sync_selected())
        self.read.connect(self._apply)  # emitted from the worker thread: queued to this object's (GUI) thread
        self.worker: threading.Thread | None = None
        self.refused = ""
        """Why no account of this window is ever synced, said instead of syncing ('': they may be; the demo's
        are examples on simulated prices: desktop.app.build_window)."""

    def sync_selected(self) -> bool:
        """Start syncing the selected account; False (and said why) when none is selected or one is running."""
        name = self.host.selected_account()
        if name is None:
            self.host.say("Select an account to sync.")
            return False
        return self.sync_account(name)

    def busy(self) -> bool:
        """True while a sync's exchange read runs (a second one is not started then)."""
        return self.worker is not None and self.worker.is_alive()

    def sync_account(self, name: str, quiet: bool = False) -> bool:
        """Start syncing the account `name` (quiet: no 'syncing…' status, for the automatic sync); False (and said
        why) while one is running."""
        if self.refused:
            self.host.say(self.refused)
            return False
        if self.busy():
            self.host.say("A sync is already running.")
            return False
        account = self.host.portfolio.book.account(name)
        if not quiet:
            self.host.say(f"{name}: syncing with {account.exchange}…")
        overrides = self.host.portfolio.market_overrides  # read here: the worker fetches the tables it lacks
        self.worker = threading.Thread(target=self._read, args=(account, overrides), name=f"sync-{name}", daemon=True)
        self.worker.start()
        return True

    def _read(self, account: Any, overrides: Any = None) -> None:
        from engine.sync.errors import SyncError, SyncFailure
        from engine.sync.run import read_account

        result: ExchangeState | SyncError
        try:
            result = read_account(account, self.settings, overrides=overrides)
        except SyncError as e:
            result = e
        except Exception as e:  # a bug: the window says the sync failed, the crash reporter gets the traceback
            self.read.emit((account, SyncError(SyncFailure.UNREADABLE, f"sync failed ({type(e).__name__})")))
            raise
        self.read.emit((account, result))

    @Slot(object)
    def _apply(self, payload: tuple[Any, ExchangeState | SyncError]) -> None:
        from engine.sync.errors import SyncError, SyncFailure
        from engine.sync.run import apply_state, failed_sync, summary

        account, result = payload
        saved_book = getattr(self.host, "saved_book", None)
        database = saved_book() if callable(saved_book) else None
        try:
            if isinstance(result, SyncError):
                raise result
            synced, portfolio = apply_state(None, self.host.portfolio, account.name, result)
        except SyncError as e:
            failed = failed_sync(database, account, e, time.time())
            age = "" if failed.last_good is None else f"; last good sync {time.time() - failed.last_good:.0f} s ago"
            self._finish(f"{account.name}: sync failed: {e}{age}", failed)
            return
        outcome = synced.outcome
        assert outcome is not None
        line = (
            f"{account.name} synced: {len(outcome.opened)} opened, {len(outcome.changed)} changed, "
            f"{len(outcome.closed)} closed, {len(outcome.conflicts)} in conflict"
        )
        checks = [
            f"CHECK {symbol} {side.value}: {check.words(quote_currency_of(symbol))}"
            for (symbol, side), (check, _mark) in synced.checks.items()
            if check is not None and check.check
        ]
        if not self.host.apply_portfolio(portfolio, "; ".join([line, *checks])):
            failure = SyncError(SyncFailure.UNREADABLE, "the synced book was not saved")
            self._finish(f"{account.name}: sync not saved", failed_sync(None, account, failure, time.time()))
            return
        if database is not None:
            database.log_synced(account.name, synced.at, summary(outcome, synced.checks))
        self._finish("; ".join([line, *checks]), synced)

    def _finish(self, line: str, result: Any) -> None:
        self.host.say(line)
        self.done.emit(line)
        self.finished.emit(result, line)
