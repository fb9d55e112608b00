"""From a watch session's steps to the channels: the same alerts the window raises (a repeat counted into an
earlier alert's group is not sent again), feed problems, the heartbeat, and each channel's state as it
changes. One relay serves `marginwatch watch` (engine.monitor.watch.Monitor calls on_step) and the window.

Every step's work here is a few comparisons and queue puts: the HTTP happens in the dispatcher's threads.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TextIO

from engine.alerts.config import AlertsConfig
from engine.alerts.deadman import FeedWatch, seeing
from engine.alerts.dispatcher import ChannelState, Dispatcher, Timing
from engine.alerts.notice import alert_notice, iso_utc
from engine.margin.model import PriceKey
from engine.market.prices import MarkRecord
from engine.monitor.alerts import Alert
from engine.monitor.frame import Frame

FEED_CHECK_EVERY = 1.0
"""Seconds between two checks of the feeds' blindness, and between two looks for a fresh price while blind
(each is O(price keys): 4 ms at 10,000 keys, too much for every step; tests/benchmarks/bench_alert_relay.py)."""


class AlertRelay:
    """Sends a session's alerts, feed problems and heartbeats through a Dispatcher.

    dispatcher: the channels; exchange_of: account name -> exchange (the book's); keys: the book's price
    keys; stale_after: seconds after which a feed price is stale (the session's); feed_stale_after: seconds
    of blindness before a feed problem; heartbeat_every: seconds between pings (None: no heartbeat);
    on_state: called with each channel state that changed (status or error), on the caller's thread."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        exchange_of: Mapping[str, str],
        keys: Iterable[PriceKey],
        stale_after: float,
        feed_stale_after: float,
        heartbeat_every: float | None = None,
        on_state: Callable[[ChannelState], None] | None = None,
        started: float | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.exchange_of = dict(exchange_of)
        self.keys = list(dict.fromkeys(keys))
        self.stale_after = stale_after
        self.heartbeat_every = heartbeat_every
        self.on_state = on_state
        self.feeds = FeedWatch(self.keys, feed_stale_after, dispatcher.clock() if started is None else started)
        self._next_ping: float | None = None
        self._next_feed_check = float("-inf")
        self._seen: dict[str, tuple[str, str]] = {}

    def on_step(self, frame: Frame) -> None:
        """A session step happened: relay its alerts (Monitor's StepListener)."""
        self.observe(frame.alerts, frame.quotes, frame.at)

    def observe(self, alerts: Sequence[Alert], quotes: Mapping[PriceKey, MarkRecord], now: float) -> None:
        """One step: its new alerts (repeats left out) and the feed problems go to the channels; the heartbeat
        is pinged when due and the monitor sees prices (engine.alerts.deadman); changed states reported."""
        notices = [alert_notice(a, self.exchange_of) for a in alerts if not a.repeat]
        if now >= self._next_feed_check:  # blindness is judged in tens of seconds: once a second is plenty
            notices += self.feeds.check(quotes, now, self.stale_after)
            self._next_feed_check = now + FEED_CHECK_EVERY
        if notices:
            self.dispatcher.dispatch(notices)
        due = self.heartbeat_every is not None and (self._next_ping is None or now >= self._next_ping)
        if due and seeing(self.keys, quotes, now, self.stale_after):
            self.dispatcher.ping()
            self._next_ping = now + (self.heartbeat_every or 0.0)
        elif due:  # blind: look again in a second, not at every step
            self._next_ping = now + FEED_CHECK_EVERY
        self.report_states()

    def report_states(self) -> None:
        """Call on_state for each channel whose status or error changed since the last call."""
        for state in self.dispatcher.states():
            seen = (state.status, state.last_error)
            if self._seen.get(state.name, ("idle", "")) != seen:
                self._seen[state.name] = seen
                if self.on_state is not None:
                    self.on_state(state)

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued (up to timeout seconds), stop the channels, report their last states."""
        drained = self.dispatcher.close(timeout)
        self.report_states()
        return drained


def state_printer(out: TextIO, as_json: bool) -> Callable[[ChannelState], None]:
    """How `watch` prints a channel's changed state: a line like its feed lines, or {"channel": {...}}."""

    def show(state: ChannelState) -> None:
        stamp = datetime.fromtimestamp(time.time(), UTC).isoformat(timespec="seconds")  # as watch's other lines
        if as_json:
            record = {
                "time": stamp,
                "name": state.name,
                "kind": state.kind,
                "status": state.status,
                "error": state.last_error or None,
                "last_sent": iso_utc(state.last_sent) if state.last_sent is not None else None,
                "describe": state.describe(),
            }
            print(json.dumps({"channel": record}), file=out, flush=True)
        else:
            print(f"{stamp}  CHANNEL    {state.describe()}", file=out, flush=True)

    return show


def relay_for(
    config: AlertsConfig,
    exchange_of: Mapping[str, str],
    keys: Iterable[PriceKey],
    stale_after: float,
    on_state: Callable[[ChannelState], None] | None = None,
    timing: Timing | None = None,
) -> AlertRelay:
    """A relay (its dispatcher's threads started) for a checked alerts config."""
    dispatcher = Dispatcher(config.all_channels(), timing)
    heartbeat = config.heartbeat_every if config.heartbeat is not None else None
    return AlertRelay(dispatcher, exchange_of, keys, stale_after, config.feed_stale_after, heartbeat, on_state)
