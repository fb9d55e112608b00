"""Fault run: real ccxt against the fake Binance USDⓈ-M on 127.0.0.1, one feed fault at a time.

    .venv/bin/python -m tests.benchmarks.fault_feeds [--repeat 1]

For each fault (issue 14's list, plus HTTP 503/429 and a dropped connection) a fresh feed is started,
brought live, hit with the fault, and then the fake exchange sends a new good price. Printed per fault:
the bad inputs sent (for absurd prices the pushes, about ten of each), how many the feed or the price
store refused, bad prices ever seen in the store (sampled every 2 ms; must be 0), how long until a
symbol that stopped was shown stale (where that is the fault), how long until the new good price was
in the store, the reconnections (REST: retries), and crashes (tracebacks logged anywhere, or a feed
thread that died). Nothing leaves 127.0.0.1.

Measured (2 cores, ccxt 4.5.90): 8 faults, all recovered, slowest 1.5 s (HTTP 503 x3, backoff from
0.1 s), malformed frames and absurd prices 0.05 s with no reconnection, bad prices shown 0, crashes 0.
The same run on the code before issue 14's feed fixes: the future-dated tick never recovered (688
ticks refused as out of order), the silent symbol was never shown stale, malformed frames stalled both
symbols until the watchdog (3.2 s here, 20 s in the app), absurd prices were in the store 923 samples
long, and garbage REST answers logged 4 tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_feed import CcxtFeed
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.feeds.state import FeedStatus
from engine.market.prices import PriceStore
from tests.fake_exchange.server import FakeBinance

EX = "binanceusdm"
BTC, ETH = (EX, "BTC/USDT:USDT"), (EX, "ETH/USDT:USDT")
STALE_AFTER = 1.0
"""Age in seconds past which the run counts a price as shown stale (the window's default is longer)."""
SILENCE_TIMEOUT = 3.0
"""The feeds' per-symbol watchdog for this run, in seconds (20 s in the app)."""
GIVE_UP = 30.0


class Tracebacks(logging.Handler):
    """Counts log records that carry a traceback (ours, ccxt's, asyncio's 'Exception in callback')."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or (record.levelno >= logging.ERROR and "Traceback" in record.getMessage()):
            self.count += 1


@dataclass
class Row:
    fault: str
    sent: int
    refused: int = 0
    bad_shown: int = 0
    stale_in: float | None = None
    recovered_in: float | None = None
    reconnects: int = 0
    crashes: int = 0


class Run:
    """One feed against the fake exchange, with the bookkeeping every fault shares."""

    def __init__(self, fake: FakeBinance, transport: Transport, tracebacks: Tracebacks) -> None:
        self.fake = fake
        self.tracebacks = tracebacks
        self.store = PriceStore()
        self.feed = CcxtFeed(
            EX,
            [BTC[1], ETH[1]],
            self.store,
            ExchangeSettings(fake.ccxt_config(), transport),
            poll_interval=0.1,
            silence_timeout=SILENCE_TIMEOUT,
            backoff=Backoff(initial=0.1, cap=1.0),
        )
        self.bad: set[float] = set()
        self.bad_shown = 0
        self.retries = 0

    def __enter__(self) -> Run:
        self.feed.start()
        self.wait(lambda: self.store.quote(BTC) is not None and self.store.quote(ETH) is not None)
        self.tracebacks_before = self.tracebacks.count
        self.connections = self.fake.connections
        self.requests = sum(self.fake.requests.values())
        self.dropped = sum(self.store.dropped.values())
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.feed.stop()
        self.fake.reset()
        self.fake.marks.update(BTCUSDT="61000.50", ETHUSDT="3050.25")

    def wait(self, condition: Callable[[], object], timeout: float = GIVE_UP) -> float | None:
        """Seconds until condition held (None if it never did), sampling the store for bad prices meanwhile."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            for key in (BTC, ETH):
                quote = self.store.quote(key)
                if quote is not None and quote.mark in self.bad:
                    self.bad_shown += 1
            self.retries = max(self.retries, self.feed.state.attempt)
            if condition():
                return time.monotonic() - start
            time.sleep(0.002)
        return None

    def good_price_after_fault(self, mark: str = "60123.40") -> float | None:
        self.fake.set_mark("BTCUSDT", mark)
        return self.wait(lambda: self.store.quote(BTC).mark == float(mark))

    def row(self, fault: str, sent: int, **measured: float | None) -> Row:
        crashes = self.tracebacks.count - self.tracebacks_before
        thread = self.feed._thread
        crashes += int(thread is None or not thread.is_alive())
        reconnects = self.fake.connections - self.connections
        if self.feed.state.transport.startswith("rest"):
            reconnects = self.retries  # REST has no connection to count: the retries instead
        return Row(
            fault,
            sent,
            refused=sum(self.store.dropped.values()) - self.dropped,
            bad_shown=self.bad_shown,
            reconnects=reconnects,
            crashes=crashes,
            **measured,  # type: ignore[arg-type]
        )


def future_dated(fake: FakeBinance, tracebacks: Tracebacks) -> Row:
    with Run(fake, Transport.WEBSOCKET, tracebacks) as run:
        ahead = int(time.time() * 1000) + 3_600_000
        events = [{"e": "markPriceUpdate", "E": ahead + i, "s": "BTCUSDT", "p": "61000.50"} for i in range(5)]
        fake.send_malformed(*events)
        run.wait(lambda: run.store.dropped["future-dated"] >= len(events), 5.0)
        return run.row("future-dated tick (+1 h)", len(events), recovered_in=run.good_price_after_fault())


def silent_symbol(fake: FakeBinance, tracebacks: Tracebacks) -> Row:
    fake.stamp_events = False  # no exchange time: only the feed can tell a repeat from a new price
    with Run(fake, Transport.WEBSOCKET, tracebacks) as run:
        fake.silence_symbol("ETHUSDT")
        stale_in = run.wait(lambda: run.store.quote(ETH).age(time.time()) > STALE_AFTER)
        run.wait(lambda: run.fake.connections > run.connections)  # the per-symbol watchdog reconnects
        fake.silence_symbol("ETHUSDT", False)
        fake.set_mark("ETHUSDT", "3001.00")
        recovered = run.wait(lambda: run.store.quote(ETH).mark == 3001.0)
        return run.row("silent symbol, undated stream", 0, stale_in=stale_in, recovered_in=recovered)


def malformed_frames(fake: FakeBinance, tracebacks: Tracebacks) -> Row:
    frames: list[object] = [
        "[]",
        {"e": "markPriceUpdate", "E": int(time.time() * 1000), "p": "1.0"},
        "[{}]",
        {"e": "markPriceUpdate"},
        "not json {",
    ]
    with Run(fake, Transport.WEBSOCKET, tracebacks) as run:
        fake.send_malformed(*frames)
        run.wait(lambda: not fake._malformed, 5.0)
        return run.row("malformed frames", len(frames), recovered_in=run.good_price_after_fault())


def absurd_prices(fake: FakeBinance, tracebacks: Tracebacks) -> Row:
    marks = ["1e300", "1e-300", "610005.0", "6100.05"]  # the last two: a decimal point shifted
    with Run(fake, Transport.WEBSOCKET, tracebacks) as run:
        run.bad = {float(m) for m in marks}
        for mark in marks:
            fake.set_mark("BTCUSDT", mark)
            run.wait(lambda: False, 0.5)  # about ten pushes of each
        pushes = round(0.5 / fake.push_interval)
        return run.row(
            "absurd prices (1e300, 1e-300, x10, /10)", len(marks) * pushes, recovered_in=run.good_price_after_fault()
        )


def garbage_rest(fake: FakeBinance, tracebacks: Tracebacks) -> Row:
    bodies = ["[1, 2]", '"maintenance"', "{}", "[{}]", "null", "<html>oops</html>"]
    with Run(fake, Transport.REST, tracebacks) as run:
        for body in bodies:
            fake.garbage_next("/fapi/v1/premiumIndex", body)
        run.wait(lambda: not fake._garbage.get("/fapi/v1/premiumIndex"), 10.0)
        return run.row("garbage REST answers", len(bodies), recovered_in=run.good_price_after_fault())


def http_errors(status: int) -> Callable[[FakeBinance, Tracebacks], Row]:
    def fault(fake: FakeBinance, tracebacks: Tracebacks) -> Row:
        with Run(fake, Transport.REST, tracebacks) as run:
            fake.fail_next("/fapi/v1/premiumIndex", status, times=3)
            run.wait(lambda: run.feed.state.status is FeedStatus.RECONNECTING, 5.0)
            return run.row(f"HTTP {status} x3", 3, recovered_in=run.good_price_after_fault())

    return fault


def dropped_connection(fake: FakeBinance, tracebacks: Tracebacks) -> Row:
    with Run(fake, Transport.WEBSOCKET, tracebacks) as run:
        fake.drop_connections()
        return run.row("dropped connection", 1, recovered_in=run.good_price_after_fault())


FAULTS = [
    future_dated,
    silent_symbol,
    malformed_frames,
    absurd_prices,
    garbage_rest,
    http_errors(503),
    http_errors(429),
    dropped_connection,
]


def seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="run every fault this many times")
    args = parser.parse_args()
    tracebacks = Tracebacks()
    logging.getLogger().addHandler(tracebacks)
    logging.getLogger().setLevel(logging.INFO)
    rows: list[Row] = []
    with FakeBinance() as fake:
        for _ in range(args.repeat):
            for fault in FAULTS:
                rows.append(fault(fake, tracebacks))
    print(f"ccxt against the fake exchange on 127.0.0.1; watchdog {SILENCE_TIMEOUT:g} s; stale after {STALE_AFTER:g} s")
    header = f"{'fault':<42}{'sent':>6}{'refused':>9}{'bad shown':>11}{'stale in s':>12}"
    header += f"{'recovered in s':>16}{'reconnects':>12}{'crashes':>9}"
    print(header)
    for r in rows:
        print(
            f"{r.fault:<42}{r.sent:>6}{r.refused:>9}{r.bad_shown:>11}"
            f"{(seconds(r.stale_in) if r.fault.startswith('silent') else '-'):>12}"
            f"{seconds(r.recovered_in):>16}{r.reconnects:>12}{r.crashes:>9}"
        )
    recovered = [r.recovered_in for r in rows if r.recovered_in is not None]
    print(
        f"faults: {len(rows)}; recovered: {len(recovered)}; slowest recovery: {max(recovered, default=0):.2f} s; "
        f"bad prices shown: {sum(r.bad_shown for r in rows)}; crashes: {sum(r.crashes for r in rows)}"
    )


if __name__ == "__main__":
    main()
