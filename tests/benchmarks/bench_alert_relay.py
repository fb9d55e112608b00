"""Benchmark: what the alert channels add to each refresh (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.bench_alert_relay [--keys 10 100 1000 10000] [--steps 2000]

The relay runs on the refresh's own thread at every step (10 a second in the window, 4 in `watch`): it turns
the step's alerts into notices, checks every exchange's feed for blindness and, when due, whether any price
is fresh (engine.alerts.relay, engine.alerts.deadman). The HTTP is on the channels' threads; here the
dispatcher's queues are real but their sender returns at once, so only the caller's cost is measured.

Printed per book size (price keys over 5 exchanges): µs per quiet step (no alert, feeds fresh), µs per step
that queues 10 alerts on 3 channels, and the quiet step as a share of a 100 ms refresh.
"""

from __future__ import annotations

import argparse
import time

from engine.alerts.channels import Channel, ChannelKind
from engine.alerts.dispatcher import Dispatcher
from engine.alerts.http_send import Delivery
from engine.alerts.relay import AlertRelay
from engine.market.prices import MarkRecord, PriceSource
from engine.monitor.alerts import Alert
from engine.monitor.levels import Level


def measure(n_keys: int, steps: int) -> tuple[float, float]:
    keys = [(f"ex{i % 5}", f"S{i}/USDT:USDT") for i in range(n_keys)]
    channels = [Channel(f"c{i}", ChannelKind.WEBHOOK, url="http://127.0.0.1:9/x", max_per_minute=600) for i in range(3)]
    dispatcher = Dispatcher(channels, sender=lambda _outgoing, _timeout: Delivery())
    relay = AlertRelay(dispatcher, {"a": "ex0"}, keys, 15.0, 120.0, 60.0, started=0.0)
    now = 1000.0
    fresh = now + 1e6  # received "in the future": fresh at every step, as live feeds keep them
    quotes = {k: MarkRecord(1.0, PriceSource.LIVE, fresh) for k in keys}
    alerts = [
        Alert(now, f"a S{i}/USDT:USDT long", Level.OK, Level.WARNING, 0.1, 1.0, key=("a", f"S{i}", "long", False, 0))
        for i in range(10)
    ]
    start = time.perf_counter()
    for i in range(steps):
        relay.observe([], quotes, now + i * 0.1)
    quiet = (time.perf_counter() - start) / steps * 1e6
    busy_steps = max(1, steps // 20)
    start = time.perf_counter()
    for i in range(busy_steps):
        relay.observe(alerts, quotes, now + i * 0.1)
    busy = (time.perf_counter() - start) / busy_steps * 1e6
    dispatcher.close(timeout=30)
    return quiet, busy


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    print(f"{'price keys':>10} {'quiet step µs':>14} {'10 alerts µs':>13} {'of 100 ms':>10}")
    for n in args.keys:
        quiet, busy = measure(n, args.steps)
        print(f"{n:>10} {quiet:>14.1f} {busy:>13.1f} {quiet / 100_000:>10.2%}")


if __name__ == "__main__":
    main()
