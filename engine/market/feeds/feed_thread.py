"""The life of a feed's thread, shared by the price feeds, the funding feed and the candle refresher: started
once, asked to stop (and woken where it waits), joined with a timeout, its state read by any thread."""

from __future__ import annotations

import threading

from engine.market.feeds.state import FeedState, StateCell


class FeedThread:
    """A daemon thread running `_run` until `_stop` is set; `state` is its FeedState (thread-safe).

    Subclasses give `_run` (the thread's body: it returns soon after `_stop` is set) and, where the thread waits
    on something the stop event does not reach (an asyncio loop), `_wake`. start() twice raises RuntimeError."""

    def __init__(self, state: FeedState, thread_name: str) -> None:
        self._state = StateCell(state)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._thread_name = thread_name

    @property
    def state(self) -> FeedState:
        return self._state.get()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self._thread_name} already started")
        self._thread = threading.Thread(target=self._run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to stop and join it; True when it ended within timeout seconds (or never started)."""
        self._stop.set()
        self._wake()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _wake(self) -> None:
        """Interrupt a wait that the stop event does not reach; nothing by default."""

    def _run(self) -> None:
        raise NotImplementedError
