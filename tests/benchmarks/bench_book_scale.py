"""Benchmark: time per position of reading, reporting and watching a book as it grows (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.bench_book_scale [--sizes 1000 10000 20000] [--per-account 1]

Book: N positions in N / per-account accounts (default one position per account: 20,000 accounts at 20k,
the shape that took parse_portfolio 76 s when it scanned every position once per account), on real Binance
USDⓈ-M tier tables (the bundled snapshot, 50 symbols round-robin), cross and isolated, long and short.

Measured, each the best of --runs:
- parse_portfolio: the decoded document to a validated Portfolio (engine.book.book_rules included).
- risk: what `marginwatch risk FILE` does after reading: evaluate_book + the text report.
- Monitor.report(): the `watch --json` document at the same marks (engine.monitor.watch; manual prices, no feed).

A linear step keeps its µs per position flat from 1k to 20k; the ratio column compares with `risk` at the
same size. A step whose time, extrapolated as n² from the size before, would pass --budget seconds is
skipped and its estimate printed instead (a quadratic step at 20k can take minutes).
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from typing import Any

from engine.book.portfolio import Portfolio, parse_portfolio
from engine.margin.risk import evaluate_book
from engine.margin.tiers import bundled_table
from engine.market.prices import PriceStore
from engine.monitor.report import risk_to_text
from engine.monitor.watch import Monitor, WatchOptions

EXCHANGE = "binanceusdm"


def book_document(n: int, per_account: int) -> dict[str, Any]:
    """A version-1 portfolio document of n positions, per_account in each account, marks for every symbol."""
    table = bundled_table(EXCHANGE)
    assert table is not None
    symbols = [s for s in table.markets if s.endswith("/USDT:USDT")][:50]
    marks = {s: 10.0 ** (1 + k % 4) for k, s in enumerate(symbols)}  # 10 .. 10,000 USDT
    accounts, positions = [], []
    for a in range((n + per_account - 1) // per_account):
        accounts.append({"name": f"acct{a}", "exchange": EXCHANGE, "wallet_balance": 50_000, "currency": "USDT"})
    for i in range(n):
        symbol = symbols[i % len(symbols)]
        mark = marks[symbol]
        position: dict[str, Any] = {
            "account": f"acct{i // per_account}",
            "symbol": symbol,
            "side": "long" if (i // len(symbols)) % 2 == 0 else "short",  # one side per symbol per account
            "contracts": 1_000 / mark,
            "entry_price": mark * 0.98,
            "margin_mode": "isolated" if i % 3 == 0 else "cross",
            "leverage": 5,
        }
        positions.append(position)
    return {"version": 1, "accounts": accounts, "positions": positions, "prices": marks}


def best(func: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def monitor_for(portfolio: Portfolio) -> Monitor:
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    return Monitor(portfolio, store, [], WatchOptions(), io.StringIO())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 20_000])
    parser.add_argument("--per-account", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0, help="skip a step estimated to take longer (s)")
    args = parser.parse_args()

    steps: dict[str, Callable[[dict[str, Any], Portfolio], Callable[[], object]]] = {
        "parse_portfolio": lambda doc, _p: lambda: parse_portfolio(doc),
        "risk": lambda _d, p: lambda: risk_to_text(evaluate_book(p.book, p.price_map())),
        "Monitor.report()": lambda _d, p: monitor_for(p).report,
    }
    last: dict[str, tuple[int, float]] = {}
    print(f"book_scale: {args.per_account} position(s) per account, best of {args.runs}")
    print(f"{'step':<18} {'positions':>9} {'accounts':>8} {'total s':>9} {'µs/position':>12} {'x risk':>7}")
    for n in args.sizes:
        doc = book_document(n, args.per_account)
        portfolio = parse_portfolio(doc)
        results: dict[str, float | None] = {}
        for name, make in steps.items():
            previous = last.get(name)
            estimate = previous[1] * (n / previous[0]) ** 2 if previous else 0.0
            if estimate > args.budget:
                results[name] = None
                print(f"{name:<18} {n:>9,} {len(doc['accounts']):>8,}   skipped: ~{estimate:,.0f} s if quadratic")
                continue
            seconds = best(make(doc, portfolio), 1 if estimate > args.budget / 10 else args.runs)
            results[name] = seconds
            last[name] = (n, seconds)
        risk = results["risk"]
        for name, seconds in results.items():
            if seconds is None:
                continue
            ratio = f"{seconds / risk:7.2f}" if risk else "    n/a"
            print(f"{name:<18} {n:>9,} {len(doc['accounts']):>8,} {seconds:>9.3f} {seconds / n * 1e6:>12.1f} {ratio}")


if __name__ == "__main__":
    main()
