"""Settings ▸ Sync linked accounts every…: every linked account synced on an interval without a click, and an
alert when a sync finds our liquidation price and the exchange's apart.

The interval is saved with the book (engine.sync.schedule.AUTO_SYNC_SETTING; default 60 s, 'off' possible, at
least 15 s). Syncs go through the window's Sync now (desktop.window.sync_now.SyncNow: the exchange is read off
the GUI thread), one account at a time and never while another sync runs (a manual one included); a failed
account waits longer after each failure in a row (engine.sync.schedule), and each failure is status in words
with the age of its last good sync and when it is tried again, never a dialog. Every sync, automatic or by
hand, hands its cross-checks to engine.sync.check_alerts: a position that enters CHECK is one alert through the
session (the Alerts dock, the tray, the stored history and the channels), not one per sync.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMenu, QMessageBox

from engine.sync.schedule import (
    AUTO_SYNC_SETTING,
    DEFAULT_INTERVAL,
    BadInterval,
    SyncSchedule,
    interval_from_setting,
    interval_text,
    interval_to_setting,
    read_interval,
)

if TYPE_CHECKING:
    from engine.sync.run import AccountSync

MAX_TICK = 5.0
"""Seconds between two looks at the schedule (a quarter of the interval when that is shorter)."""


class AutoSync(QObject):
    """The window's automatic sync (see the module's docstring). window: the MainWindow (its actions_.sync,
    session, book_host and saved book); menu: the Settings menu the entry is added to."""

    def __init__(self, window: QMainWindow, menu: QMenu) -> None:
        super().__init__(window)
        self.window: Any = window
        self.sync = window.actions_.sync  # type: ignore[attr-defined]
        database = window._saved_book()  # type: ignore[attr-defined]
        self.interval: float | None = (
            interval_from_setting(database.setting(AUTO_SYNC_SETTING)) if database is not None else DEFAULT_INTERVAL
        )
        self.schedule = SyncSchedule(self.interval or DEFAULT_INTERVAL)
        self.checks: Any = None  # engine.sync.check_alerts.CheckAlerts, made with the first sync (it loads ccxt)
        self._linked: tuple[tuple[Any, ...], list[str], float] = ((), [], 0.0)
        self._seen: list[str] | None = None  # the names the schedule was last told of
        self._lookup: threading.Thread | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.action = menu.addAction("")
        self.action.triggered.connect(self.ask)
        self.sync.finished.connect(self._finished)
        window.installEventFilter(self)
        self.use_interval(self.interval)

    def use_interval(self, seconds: float | None) -> None:
        """Sync every `seconds` from now on (None: off), without saving it (tests use 0.2 s; apply() saves)."""
        self.interval = seconds
        self.action.setText(f"Sync linked accounts every… ({interval_text(seconds)})")
        if seconds is None:
            self.timer.stop()
            return
        self.schedule.interval = seconds
        self.timer.start(round(1000 * min(MAX_TICK, seconds / 4)))

    def turn_off(self, why: str) -> None:
        """Never sync this window's accounts (the demo's): off, and the menu entry disabled with `why` as its tip."""
        self.use_interval(None)
        self.action.setEnabled(False)
        self.action.setToolTip(why)

    def ask(self) -> None:
        """The typed interval ('60', '2 min', 'off'); a bad one is named in a message and nothing changes."""
        text, ok = QInputDialog.getText(
            self.window, "Automatic sync", "Sync linked accounts every (seconds, at least 15; '2 min'; or 'off'):",
            text=interval_text(self.interval),
        )  # fmt: skip
        if not ok:
            return
        try:
            self.apply(read_interval(text))
        except BadInterval as e:
            QMessageBox.warning(self.window, "Margin Watch", str(e))

    def apply(self, seconds: float | None) -> bool:
        """Save the interval with the book (when there is one) and use it; False, and said why, when it could not
        be saved (then nothing changes)."""
        database = self.window._saved_book()
        if database is not None:
            from engine.storage.database import StorageError

            try:
                database.set_setting(AUTO_SYNC_SETTING, interval_to_setting(seconds))
            except StorageError as e:
                QMessageBox.warning(self.window, "Margin Watch", f"The setting was not saved:\n\n{e}")
                return False
        self.use_interval(seconds)
        return True

    def linked(self) -> list[str]:
        """The book's linked accounts (engine.sync.keys.link_problem), looked up again when the accounts change and
        once an interval (a key stored in the keyring meanwhile). The keyring is asked on a thread of its own (a
        lookup takes ~20 ms an account, the first one ~300 ms to load the keyring's backends: the GUI thread
        froze for them), so a book's linked accounts are known one tick after it is opened or edited."""
        accounts = self.window.portfolio.book.accounts
        seen, names, at = self._linked
        due = seen != accounts or time.monotonic() - at >= (self.interval or DEFAULT_INTERVAL)
        if due and self._lookup is None:
            self._lookup = threading.Thread(target=self._look_up, args=(accounts,), name="link lookup", daemon=True)
            self._lookup.start()
        if seen != accounts:
            return []  # not known yet for this book
        if names is not self._seen:
            self._seen = names
            self.schedule.forget(names)
        return names

    def _look_up(self, accounts: tuple[Any, ...]) -> None:
        """The link lookup thread: which of these accounts are linked (one tuple assignment publishes it)."""
        from engine.sync.keys import link_problem  # not engine.sync.run: ccxt is loaded by the first sync's worker

        try:
            self._linked = (accounts, [a.name for a in accounts if link_problem(a) is None], time.monotonic())
        finally:
            self._lookup = None

    @Slot()
    def tick(self) -> None:
        """Start the next due account's sync, unless a sync runs (one started by hand included)."""
        if self.interval is None or self.sync.busy() or self.schedule.running is not None:
            return
        name = self.schedule.due(self.linked(), time.monotonic())
        if name is not None:
            self.schedule.started(name, time.monotonic())
            if not self.sync.sync_account(name, quiet=True):
                self.schedule.running = None

    @Slot(object, str)
    def _finished(self, result: AccountSync, line: str) -> None:
        """A sync ended (automatic or by hand): its checks become alerts; an automatic one is paced, and a failure
        says when it is tried again."""
        if self.checks is None:
            from engine.sync.check_alerts import CheckAlerts

            self.checks = CheckAlerts()
        self.window.session.add_alerts(self.checks.alerts(result))
        if self.schedule.running != result.account:
            return
        wait = self.schedule.finished(result.account, result.ok, time.monotonic())
        if not result.ok:
            self.window.say(f"{line}; next try in {round(wait, 1):g} s")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.timer.stop()
            lookup = self._lookup
            if lookup is not None:
                lookup.join(5)
            if self.sync.worker is not None:
                self.sync.worker.join(5)  # a read under way ends within ccxt's timeout; no thread outlives the window
        return False
