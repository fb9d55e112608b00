"""Automatic sync: when each linked account is due, one account at a time, with backoff after failures.

The window (desktop/window/auto_sync.py) and `watch --sync-every` (engine/sync/background.py) both ask a
SyncSchedule which account to sync next and tell it how each sync ended. Rules:

- every account is synced every `interval` seconds (an account never synced yet is due at once);
- one sync at a time: nothing is due while one runs, so two syncs never overlap;
- after n failures in a row an account waits interval × 2^n (at most MAX_BACKOFF seconds, never less than the
  interval) before it is tried again; one good sync ends the backoff.

The interval is a setting saved with the book (AUTO_SYNC_SETTING: {"seconds": 60}, or {"seconds": null} for
off); read_interval checks what a user types ('60', '90 s', '2 min', 'off'), at least MIN_INTERVAL seconds so
that the exchanges' rate limits are respected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

AUTO_SYNC_SETTING = "auto_sync"
"""The saved book's setting: {"seconds": 60} (every 60 s) or {"seconds": null} (off)."""
DEFAULT_INTERVAL = 60.0
"""Seconds between two syncs of an account when the book has no setting yet."""
MIN_INTERVAL = 15.0
"""The shortest interval a user can choose, in seconds (each sync makes 3 to 6 requests to the exchange)."""
MAX_INTERVAL = 24 * 3600.0
MAX_BACKOFF = 900.0
"""The longest wait after failures, in seconds (unless the interval itself is longer)."""


class BadInterval(ValueError):
    """A typed interval that cannot be used: the message says what is accepted."""


def read_interval(text: str) -> float | None:
    """Seconds from what a user typed: '60', '60 s', '2 min', '1 h'; 'off' (or '0') is None (no automatic
    sync). Raises BadInterval, naming the accepted range, for anything else or below MIN_INTERVAL."""
    words = text.strip().lower()
    if words in ("off", "0", "never", "none"):
        return None
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)\s*(s|sec|seconds?|m|min|minutes?|h|hours?)?", words)
    if match is None:
        raise BadInterval(f"'{text}' is not an interval: type seconds (60), '2 min', '1 h' or 'off'")
    unit = (match.group(2) or "s")[0]
    seconds = float(match.group(1)) * {"s": 1.0, "m": 60.0, "h": 3600.0}[unit]
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        raise BadInterval(f"sync interval {seconds:g} s: must be from {MIN_INTERVAL:g} s to 24 h, or 'off'")
    return seconds


def interval_from_setting(value: Any) -> float | None:
    """The saved setting read back: its seconds (None: off); no setting, or one that does not read (an older
    or edited book), gives DEFAULT_INTERVAL."""
    if not isinstance(value, dict) or "seconds" not in value:
        return DEFAULT_INTERVAL
    seconds = value["seconds"]
    if seconds is None:
        return None
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        return float(seconds)
    return DEFAULT_INTERVAL


def interval_to_setting(seconds: float | None) -> dict[str, Any]:
    return {"seconds": seconds}


def interval_text(seconds: float | None) -> str:
    """'off', '60 s', '2 min', '1.5 h'."""
    if seconds is None:
        return "off"
    if seconds < 120 or seconds % 60:
        return f"{seconds:g} s"
    return f"{seconds / 60:g} min" if seconds < 7200 else f"{seconds / 3600:g} h"


@dataclass
class SyncSchedule:
    """Which linked account to sync next (see the module's docstring). interval: seconds between two syncs of
    an account (any positive number here: tests use 0.2 s; users are held to MIN_INTERVAL by read_interval);
    times are monotonic seconds. `history` keeps (account, started, finished, ok) of every sync, oldest first
    (the last 100)."""

    interval: float
    max_backoff: float = MAX_BACKOFF
    running: str | None = None
    history: list[tuple[str, float, float, bool]] = field(default_factory=list)
    _next: dict[str, float] = field(default_factory=dict)
    _failures: dict[str, int] = field(default_factory=dict)
    _started: float = 0.0

    def due(self, accounts: Iterable[str], now: float) -> str | None:
        """The account to sync now (the most overdue of `accounts`), or None while one runs or none is due."""
        if self.running is not None:
            return None
        waiting = [(self._next.get(name, -math.inf), name) for name in accounts]
        due = [item for item in waiting if item[0] <= now]
        return min(due)[1] if due else None

    def started(self, account: str, now: float) -> None:
        """An account's sync began (nothing else is due until it finished)."""
        self.running, self._started = account, now

    def finished(self, account: str, ok: bool, now: float) -> float:
        """The account's sync ended (ok: it succeeded); returns the seconds until it is tried again (the
        interval, or the backoff after a failure)."""
        failures = 0 if ok else self._failures.get(account, 0) + 1
        self._failures[account] = failures
        wait = self.interval if ok else min(self.interval * 2**failures, max(self.max_backoff, self.interval))
        self._next[account] = now + wait
        self.history.append((account, self._started, now, ok))
        del self.history[:-100]
        self.running = None
        return wait

    def failures(self, account: str) -> int:
        """The account's failed syncs in a row (0 after a good one)."""
        return self._failures.get(account, 0)

    def forget(self, keep: Iterable[str]) -> None:
        """Drop what is known of accounts not in `keep` (deleted or unlinked ones)."""
        kept = set(keep)
        self._next = {k: v for k, v in self._next.items() if k in kept}
        self._failures = {k: v for k, v in self._failures.items() if k in kept}
