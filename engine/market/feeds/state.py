"""What a feed is doing, in words a status bar can show."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum


class FeedStatus(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    SIMULATED = "simulated"


@dataclass(frozen=True, slots=True)
class FeedState:
    exchange: str
    status: FeedStatus = FeedStatus.CONNECTING
    transport: str = ""
    """'websocket: watch_mark_prices', 'rest: fetch_tickers', ... once chosen."""
    attempt: int = 0
    next_try_at: float | None = None
    """Wall-clock time of the next reconnection attempt while reconnecting."""
    last_error: str = ""
    unknown_symbols: tuple[str, ...] = ()
    connection: str = ""
    """Why this feed's prices may not come straight from the exchange (another host, plain http, no TLS
    check, a proxy), from exchange_config.connection_note; '' when they do. Shown in every state."""
    since: float = field(default_factory=time.time)

    def describe(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        text = f"{self.exchange}: {self.status.value}"
        if self.connection:
            text += f" [warning: {self.connection}]"
        if self.status is FeedStatus.SIMULATED:
            text += " (a random walk, not market prices)"
        if self.status is FeedStatus.RECONNECTING:
            wait = max(0.0, (self.next_try_at or now) - now)
            text += f" (attempt {self.attempt}, next try in {wait:.0f} s)"
        if self.last_error and self.status is not FeedStatus.LIVE:
            text += f": {self.last_error}"
        return text


class StateCell:
    """The latest FeedState, written by the feed thread and read by anyone."""

    def __init__(self, initial: FeedState) -> None:
        self._lock = threading.Lock()
        self._state = initial

    def get(self) -> FeedState:
        with self._lock:
            return self._state

    def update(self, **changes: object) -> FeedState:
        with self._lock:
            if "status" in changes and changes["status"] != self._state.status:
                changes.setdefault("since", time.time())
            self._state = replace(self._state, **changes)  # type: ignore[arg-type]
            return self._state
