"""Sending notices off the caller's thread: one worker thread and queue per channel, retries with exponential
backoff, a per-channel rate limit, and each channel's state (ok / failing, the last error, the last time sent).

dispatch() only puts the notice on the queues of the channels that accept it and returns: a slow, failing or
rate-limited channel never blocks the refresh, `watch`'s loop or another channel. A notice that still fails
after every attempt is dropped and counted (the channel shows failing with the error); so is the oldest
queued notice when a channel's queue is full. close() lets the queues drain up to a deadline, so a `watch
--count 1` still delivers the alert of its first step before it exits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from engine.alerts.channels import Channel, ChannelKind
from engine.alerts.http_send import Delivery, send
from engine.alerts.notice import Notice, channel_test_notice
from engine.book.safe_text import printable

Sender = Callable[..., Delivery]
"""send(outgoing, timeout) -> Delivery (engine.alerts.http_send.send; tests may pass their own)."""


@dataclass(frozen=True)
class Timing:
    """How hard a channel tries: attempts per notice, the first wait between attempts in seconds (doubled after
    each failure, up to max_wait; a 429's Retry-After wins when given, capped at max_wait), the request
    timeout, the rate limit's window in seconds (each channel's max_per_minute counts within it), and how
    many notices a channel queues before dropping the oldest."""

    attempts: int = 4
    first_wait: float = 2.0
    max_wait: float = 60.0
    timeout: float = 10.0
    rate_window: float = 60.0
    queue_limit: int = 100

    def backoff(self, failures: int) -> float:
        """Seconds to wait after the n-th failed attempt of a notice (1, 2, ...): first_wait * 2**(n - 1)."""
        return min(self.max_wait, self.first_wait * 2 ** (failures - 1))


@dataclass(frozen=True)
class ChannelState:
    """A channel's state as the user sees it. status: 'idle' (nothing sent yet), 'ok' (the last delivery
    worked), 'failing' (the last attempt failed: last_error says why, secrets scrubbed); last_sent: wall-clock
    seconds of the last delivery (None: never); dropped: notices given up on; queued: waiting now."""

    name: str
    kind: str
    status: str = "idle"
    last_error: str = ""
    last_sent: float | None = None
    sent: int = 0
    dropped: int = 0
    queued: int = 0

    def describe(self) -> str:
        """'phone (ntfy): ok, last sent 2026-12-01 01:52:48 UTC' / 'bot (telegram): failing: connection refused'."""
        return f"{printable(self.name)} ({self.kind}): {self.summary()}"

    def summary(self) -> str:
        """The state without the channel's name: 'ok, last sent …', 'failing: <error>, 2 not delivered'."""
        head = self.status
        if self.status == "failing":
            head += f": {self.last_error}"
        if self.last_sent is not None:
            head += ", last sent " + time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.last_sent))
        if self.dropped:
            head += f", {self.dropped} not delivered"
        return head


_CLOSE = object()


class ChannelWorker:
    """One channel's queue and thread (started by start(); stopped by close()). submit() never blocks."""

    def __init__(self, channel: Channel, timing: Timing, sender: Sender, clock: Callable[[], float]) -> None:
        self.channel = channel
        self.timing = timing
        self._send = sender
        self._clock = clock
        self._queue: deque[object] = deque()
        self._ready = threading.Condition()
        self._abort = threading.Event()
        self._sent_at: deque[float] = deque()
        self._state = ChannelState(channel.name, channel.kind.value)
        self._thread = threading.Thread(target=self._run, name=f"alerts-{channel.name}", daemon=True)

    @property
    def state(self) -> ChannelState:
        with self._ready:
            return replace(self._state, queued=sum(1 for item in self._queue if item is not _CLOSE))

    def start(self) -> None:
        self._thread.start()

    def submit(self, notice: Notice | None) -> None:
        """Queue a notice (None: a heartbeat ping); the oldest is dropped (and counted) when the queue is full."""
        with self._ready:
            if len(self._queue) >= self.timing.queue_limit:
                self._queue.popleft()
                self._state = replace(self._state, dropped=self._state.dropped + 1)
            self._queue.append(notice)
            self._ready.notify()

    def pending(self) -> int:
        with self._ready:
            return len(self._queue)

    def close(self) -> None:
        """Ask the thread to finish what is queued, then stop (join() waits for it)."""
        with self._ready:
            self._queue.append(_CLOSE)
            self._ready.notify()

    def abort(self) -> None:
        """Stop now: waits are cut short and nothing more is attempted."""
        self._abort.set()
        with self._ready:
            self._queue.appendleft(_CLOSE)
            self._ready.notify()

    def join(self, timeout: float) -> bool:
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue:
                    self._ready.wait()
                item = self._queue.popleft()
            if item is _CLOSE or self._abort.is_set():
                return
            self._wait_for_rate_limit()
            try:
                self._deliver(item)  # type: ignore[arg-type]
            except Exception as e:  # a fault of ours must not silence the channel for the rest of the run
                self._fail(self._scrub(f"internal error: {type(e).__name__}: {e}"), give_up=True)

    def _wait_for_rate_limit(self) -> None:
        """Wait until the channel has sent fewer than max_per_minute notices within the rate window."""
        window, limit = self.timing.rate_window, max(1, self.channel.max_per_minute)
        while not self._abort.is_set():
            now = time.monotonic()
            while self._sent_at and now - self._sent_at[0] >= window:
                self._sent_at.popleft()
            if len(self._sent_at) < limit:
                return
            self._abort.wait(self._sent_at[0] + window - now)

    def _deliver(self, notice: Notice | None) -> None:
        """Attempt delivery up to timing.attempts times, waiting timing.backoff (or the server's Retry-After)
        between attempts; record the outcome in the state."""
        outgoing = self.channel.request(notice)
        attempts = 2 if self.channel.kind is ChannelKind.HEARTBEAT else self.timing.attempts
        for attempt in range(1, attempts + 1):
            self._sent_at.append(time.monotonic())
            delivery = self._send(outgoing, self.timing.timeout)
            if delivery.ok:
                with self._ready:
                    s = self._state
                    self._state = replace(s, status="ok", last_error="", last_sent=self._clock(), sent=s.sent + 1)
                return
            self._fail(self._scrub(delivery.error), give_up=not delivery.retry or attempt == attempts)
            if not delivery.retry or attempt == attempts:
                return
            wait = self.timing.backoff(attempt)
            if delivery.retry_after is not None:
                wait = min(self.timing.max_wait, max(wait, delivery.retry_after))
            if self._abort.wait(wait):
                return

    def _fail(self, error: str, give_up: bool) -> None:
        with self._ready:
            s = self._state
            self._state = replace(s, status="failing", last_error=error, dropped=s.dropped + give_up)

    def _scrub(self, text: str) -> str:
        for secret in self.channel.secrets():
            text = text.replace(secret, "***")
        return text


class Dispatcher:
    """Fans notices out to the channels that accept them (Channel.accepts), each through its own worker.

    channels: the configured channels (a heartbeat channel among them takes ping() only); timing: retries,
    backoff and rate limit (Timing; tests shorten them); sender: the HTTP call; clock: wall-clock seconds."""

    def __init__(
        self,
        channels: Iterable[Channel],
        timing: Timing | None = None,
        sender: Sender = send,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timing = timing or Timing()
        self.clock = clock
        self.workers = {c.name: ChannelWorker(c, self.timing, sender, clock) for c in channels}
        for worker in self.workers.values():
            worker.start()

    def dispatch(self, notices: Sequence[Notice]) -> None:
        """Queue each notice on every channel that accepts it; returns at once."""
        for notice in notices:
            for worker in self.workers.values():
                if worker.channel.accepts(notice):
                    worker.submit(notice)

    def ping(self) -> None:
        """Queue a heartbeat ping (unless one is still waiting: pings never pile up)."""
        for worker in self.workers.values():
            if worker.channel.kind is ChannelKind.HEARTBEAT and not worker.pending():
                worker.submit(None)

    def send_test(self, name: str) -> None:
        """Queue a test notice on the named channel (KeyError for an unknown name); its state tells the outcome."""
        self.workers[name].submit(channel_test_notice(name, self.clock()))

    def states(self) -> list[ChannelState]:
        """Every channel's state now, in the configured order."""
        return [w.state for w in self.workers.values()]

    def close(self, timeout: float = 5.0, wait: bool = True) -> bool:
        """Let every channel send what is queued for up to `timeout` seconds, then stop the threads (what is
        still queued then is not sent). True when everything queued was sent or given up on in time.
        wait=False (the window replacing its channels): ask every thread to stop and return at once; a
        request in flight ends by its own timeout, its answer ignored."""
        for worker in self.workers.values():
            worker.close() if wait else worker.abort()
        if not wait:
            return False
        deadline = time.monotonic() + timeout
        drained = all([w.join(max(0.0, deadline - time.monotonic())) for w in self.workers.values()])
        for worker in self.workers.values():  # a request still in flight ends by its own timeout (daemon threads)
            worker.abort()
            worker.join(0.2)
        return drained
