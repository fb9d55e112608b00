"""Benchmark: 20,000 ticker updates per second through the price store and the vectorised engine.

    .venv/bin/python -m tests.benchmarks.bench_price_stream [--rate 20000] [--seconds 10] [--refresh-hz 10]

A producer thread publishes batches of ticks for random symbols of the 10,000-position book of
bench_recompute.py (1,000 symbols); the consumer, like the GUI's timer, reads a coalesced snapshot at
the refresh rate, updates the changed marks and recomputes the whole book. Everything is pinned to
one core. Reports the achieved input rate, drops, the recompute latency, the tick-to-result latency
and the peak memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import threading
import time

import numpy as np

from engine.margin.vectorised import CompiledBook
from engine.market.prices import PriceSource, PriceStore, Tick
from tests.benchmarks.bench_recompute import build_book


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=20_000, help="ticker updates per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--refresh-hz", type=float, default=10.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    book, prices = build_book()
    compiled = CompiledBook(book)
    keys = compiled.price_keys
    index = {key: i for i, key in enumerate(keys)}
    marks = compiled.prices_from(prices)
    store = PriceStore()
    store.publish([Tick(k, float(m)) for k, m in zip(keys, marks, strict=True)], PriceSource.LIVE)
    reader = store.reader()
    reader.read()

    batch = 200
    stop = threading.Event()
    sent = [0]
    rng = np.random.default_rng(3)
    base = marks.copy()

    def produce() -> None:
        period = batch / args.rate
        next_at = time.perf_counter()
        walk = base.copy()
        while not stop.is_set():
            chosen = rng.integers(0, len(keys), size=batch)
            walk[chosen] *= np.exp(rng.normal(0, 0.0005, size=batch))
            now = time.time()
            store.publish([Tick(keys[c], float(walk[c]), exchange_time=now) for c in chosen], PriceSource.LIVE)
            sent[0] += batch
            next_at += period
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

    producer = threading.Thread(target=produce, name="bench-producer")
    recompute_ms, cycle_ms, tick_to_result_ms, changed_counts = [], [], [], []
    start = time.perf_counter()
    producer.start()
    interval = 1.0 / args.refresh_hz
    next_refresh = start + interval
    while time.perf_counter() - start < args.seconds:
        time.sleep(max(0.0, next_refresh - time.perf_counter()))
        next_refresh += interval
        t0 = time.perf_counter()
        snapshot = reader.read()
        oldest = min((snapshot.quotes[k].received_at for k in snapshot.changed), default=time.time())
        for key in snapshot.changed:
            marks[index[key]] = snapshot.quotes[key].mark
        t1 = time.perf_counter()
        compiled.recompute(marks)
        t2 = time.perf_counter()
        recompute_ms.append((t2 - t1) * 1e3)
        cycle_ms.append((t2 - t0) * 1e3)
        tick_to_result_ms.append((time.time() - oldest) * 1e3)
        changed_counts.append(len(snapshot.changed))
    stop.set()
    producer.join()
    elapsed = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def pct(values: list[float], q: float) -> float:
        return float(np.percentile(values, q))

    achieved = sent[0] / elapsed
    print(
        f"book: {len(book.positions)} positions over {len(keys)} symbols; {elapsed:.1f} s; one core; "
        f"refresh {args.refresh_hz:g} Hz"
    )
    print(f"{'measure':<42}{'value':>14}")
    rows = [
        ("ticks offered per second (target)", f"{args.rate:,}"),
        ("ticks published per second (achieved)", f"{achieved:,.0f}"),
        ("achieved / target", f"{achieved / args.rate:.2f}"),
        ("ticks dropped by validation", f"{sum(store.dropped.values())}"),
        ("refreshes", f"{len(recompute_ms)}"),
        ("symbols changed per refresh (median)", f"{statistics.median(changed_counts):.0f}"),
        ("recompute ms p50 / p99", f"{pct(recompute_ms, 50):.2f} / {pct(recompute_ms, 99):.2f}"),
        ("read + recompute ms p50 / p99", f"{pct(cycle_ms, 50):.2f} / {pct(cycle_ms, 99):.2f}"),
        ("oldest tick to result ms p50 / p99", f"{pct(tick_to_result_ms, 50):.0f} / {pct(tick_to_result_ms, 99):.0f}"),
        ("peak RSS MB", f"{peak_mb:.0f}"),
    ]
    for name, value in rows:
        print(f"{name:<42}{value:>14}")
    keeps_up = achieved >= 0.95 * args.rate and pct(cycle_ms, 99) < 1000 * interval
    print(f"keeps up on one core: {'YES' if keeps_up else 'NO'}")


if __name__ == "__main__":
    main()
