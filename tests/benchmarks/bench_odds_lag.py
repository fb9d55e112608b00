"""Benchmark: the window's event-loop lag with the probability-of-liquidation worker off and on (run by hand).

    .venv/bin/python -m tests.benchmarks.bench_odds_lag [--duration 20] [--rate 1000] [--paths 10000]

The real MainWindow, offscreen, on bench_gui's 1,000-position, 10-account book (300 symbols) fed by
bench_gui's random-walk feed at --rate ticks a second, and on the bundled demo book (no feed). Every symbol
has 30 days of synthetic hourly candles (a common factor, correlation 0.5, volatility 50-150%), handed to the
window as the saved book's cache would be, so every cross account is simulated. Modes, each in a fresh
window for --duration seconds after --warmup: the worker off (its timers stopped), on at the window's
interval (a job every 5 s, or less often: the worker busy at most MAX_DUTY of the time), and on back to back
(MAX_DUTY 1, a job every 0.5 s: the worker always busy), in the child process (as the window runs it) and on a
thread of the window's process (the fallback; it shares the interpreter lock with the GUI thread). Measured: the
event-loop lag (bench_gui's LagProbe: a 10 ms single-shot PreciseTimer re-armed on firing; lag = how late it
fired), the GUI thread's CPU share, and the jobs finished with their time on the worker thread (closed form
of every position + Monte Carlo of every cross account, --paths paths x 24 hourly steps). Prints a table and
the lag ratios on / off.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from typing import Any

import numpy as np

from tests.benchmarks.bench_gui import BenchFeed, LagProbe, build_document, pct

MODES = (
    ("off", None, False),
    ("process, every 5 s", 5_000, False),
    ("process, back to back", 500, False),
    ("thread, back to back", 500, True),
)


def synthetic_candles(keys: list, seed: int = 7, hours: int = 720) -> dict:
    """Hourly closes per key: one common factor (correlation 0.5), volatility 50-150% a year."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(hours)
    first = int(time.time() // 3600) - hours
    out = {}
    for key in keys:
        sigma = rng.uniform(0.5, 1.5) / np.sqrt(8760)
        z = np.sqrt(0.5) * common + np.sqrt(0.5) * rng.standard_normal(hours)
        out[key] = (np.arange(first, first + hours, dtype=np.int64), 100.0 * np.exp(np.cumsum(sigma * z)))
    return out


def run_mode(
    portfolio: Any, every_ms: int | None, in_process: bool, args: argparse.Namespace, feed_rate: float
) -> dict[str, Any]:
    import desktop.window.odds_column as module

    duty = module.MAX_DUTY
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.app import MainWindow
    from engine.market.prices import PriceStore

    app = QApplication.instance() or QApplication(sys.argv[:1])
    store = PriceStore()
    prices = portfolio.price_map()
    if not feed_rate:  # a manual price would hide the feed's
        for key, mark in prices.items():
            store.set_manual(key, mark)
    feeds = [BenchFeed(store, prices, rate=feed_rate, batch_s=0.02)] if feed_rate else []
    window = MainWindow(portfolio, "benchmark", store, feeds, None)
    odds = window.odds_column
    candles = synthetic_candles(sorted(prices))
    odds._cached_history = lambda keys: ({k: candles[k] for k in keys}, {})  # as the saved book's cache
    jobs: list[float] = []
    take = odds.worker.take

    def timed_take() -> Any:
        result = take()
        if result is not None and measuring["on"]:
            jobs.append(result.seconds)
        return result

    odds.worker.take = timed_take
    odds.worker.in_process = in_process
    if every_ms is None:
        odds.stop()
    else:
        odds._submit.setInterval(every_ms)
    module.MAX_DUTY = 1.0 if every_ms is not None and every_ms < 5_000 else duty
    window.show()
    lag = LagProbe(10)
    lag.start()
    measuring: dict[str, Any] = {"on": False}

    def begin() -> None:
        measuring.update(on=True, wall0=time.perf_counter(), cpu0=time.thread_time())
        lag.measuring = True

    def end() -> None:
        measuring.update(on=False, wall1=time.perf_counter(), cpu1=time.thread_time())
        lag.measuring = False
        app.quit()

    QTimer.singleShot(round(args.warmup * 1e3), begin)
    QTimer.singleShot(round((args.warmup + args.duration) * 1e3), end)
    app.exec()
    lag.timer.stop()
    window.close()
    module.MAX_DUTY = duty
    wall = measuring["wall1"] - measuring["wall0"]
    return {"lag": lag.lag_ms, "cpu": (measuring["cpu1"] - measuring["cpu0"]) / wall, "jobs": jobs}


def row(book: str, mode: str, result: dict[str, Any]) -> list[str]:
    lag, jobs = result["lag"], result["jobs"]
    job = f"{len(jobs)} x {statistics.median(jobs) * 1e3:.0f}" if jobs else "—"
    return [
        book,
        mode,
        f"{pct(lag, 50):.2f}",
        f"{pct(lag, 95):.2f}",
        f"{pct(lag, 99):.2f}",
        f"{max(lag, default=float('nan')):.1f}",
        f"{result['cpu'] * 100:.0f}%",
        job,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds before measuring (first job included)")
    parser.add_argument("--rate", type=float, default=1_000.0, help="ticks a second on the large book")
    parser.add_argument("--paths", type=int, default=10_000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import desktop.window.odds_column as odds_column
    from engine.book.portfolio import load_portfolio, parse_portfolio
    from engine.margin.bundled import resource

    submit = odds_column.OddsWorker.submit  # every job with --paths paths
    odds_column.OddsWorker.submit = lambda self, job: submit(self, dataclasses.replace(job, paths=args.paths))
    books = [
        ("demo (9 positions)", load_portfolio(str(resource("demo", "book.json"))), 0.0),
        ("1,000 positions", parse_portfolio(build_document()), args.rate),
    ]
    rows = []
    for name, portfolio, rate in books:
        for mode, every_ms, in_process in MODES:
            rows.append(row(name, mode, run_mode(portfolio, every_ms, in_process, args, rate)))
            print(" ".join(rows[-1]), file=sys.stderr)
    headers = ["book", "worker", "lag p50 ms", "p95 ms", "p99 ms", "max ms", "GUI CPU", "jobs x median ms"]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(f"{args.paths} paths x 24 hourly steps; {args.duration:g} s per mode; large book fed {args.rate:g} ticks/s")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))
    for name, *_ in books:
        off = next(r for r in rows if r[0] == name and r[1] == "off")
        for r in (r for r in rows if r[0] == name and r[1] != "off"):
            print(f"{name}, {r[1]}: lag p99 {float(r[4]) / max(float(off[4]), 1e-9):.2f}x off")


if __name__ == "__main__":
    main()
