"""Benchmark: recompute a 10,000-position book after every price moves (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.bench_recompute [--runs 300] [--compare DIR]

Book: 100 accounts (10 of them in hedge mode), 1,000 symbols whose tier tables are real Binance
USDⓈ-M tiers (the bundled snapshot, reused round-robin), half cross and half isolated, long and
short. Target: <= 1 ms median per full recompute on one core (issue 15). Also measured in the same run: the
scalar reference path, and ccxt's own per-position path (Exchange.safe_position, which derives an
isolated liquidation price) over the same isolated positions.

--compare DIR: before/after in one run. The CompiledBook of DIR's engine/margin/vectorised.py (another
checkout, e.g. `git worktree add /tmp/base main`) is timed against this one's, in alternating blocks of 25
recomputes on the same marks (one process, one core: both see the same machine), CPU time (thread_time)
beside wall time, after checking that both give the same arrays, bit for bit.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from pathlib import Path

import numpy as np

from engine.margin.layout import book_layout
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, Side
from engine.margin.risk import evaluate_book
from engine.margin.tiers import bundled_table
from engine.margin.vectorised import CompiledBook

REPO = Path(__file__).resolve().parents[2]
N_ACCOUNTS, PER_ACCOUNT, N_SYMBOLS, HEDGE_ACCOUNTS = 100, 100, 1_000, 10
EXCHANGE = "binanceusdm"


def build_book(seed: int = 7) -> tuple[Book, dict]:
    rng = np.random.default_rng(seed)
    real = list(bundled_table(EXCHANGE).markets.values())
    markets, prices = {}, {}
    for s in range(N_SYMBOLS):
        symbol = f"SYM{s}/USDT:USDT"
        markets[(EXCHANGE, symbol)] = MarketSpec(symbol, real[s % len(real)].tiers, max_leverage=125)
        prices[(EXCHANGE, symbol)] = float(10 ** rng.uniform(-1, 5))
    accounts, positions = [], []
    for a in range(N_ACCOUNTS):
        name = f"acct{a}"
        mode = PositionMode.HEDGE if a < HEDGE_ACCOUNTS else PositionMode.ONEWAY
        symbols = rng.choice(N_SYMBOLS, size=PER_ACCOUNT, replace=False)
        locked = 0.0
        for k, s in enumerate(symbols):
            symbol = f"SYM{s}/USDT:USDT"
            mark = prices[(EXCHANGE, symbol)]
            side = Side.LONG if rng.random() < 0.55 else Side.SHORT
            if mode is PositionMode.HEDGE and k % 10 == 1:  # hedge pairs: same symbol as the previous one
                symbol, mark = positions[-1].symbol, prices[(EXCHANGE, positions[-1].symbol)]
                side = positions[-1].side.opposite
            leverage = float(rng.choice([2, 3, 5, 10, 20]))
            notional = float(10 ** rng.uniform(2.5, 5.5))
            contracts = notional / mark
            entry = mark * float(rng.uniform(0.9, 1.1))
            isolated = mode is PositionMode.ONEWAY and rng.random() < 0.5
            margin = contracts * entry / leverage * float(rng.uniform(1.0, 1.5)) if isolated else 0.0
            locked += margin
            positions.append(
                Position(
                    name,
                    symbol,
                    side,
                    contracts,
                    entry,
                    MarginMode.ISOLATED if isolated else MarginMode.CROSS,
                    leverage,
                    margin,
                )
            )
        accounts.append(Account(name, EXCHANGE, locked + float(rng.uniform(2e4, 2e5)), "USDT", mode))
    return Book(tuple(accounts), tuple(positions), markets), prices


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def ccxt_positions(book: Book, prices: dict) -> list[dict]:
    """The isolated positions as ccxt position structures (what safe_position is given by exchanges)."""
    layout = book_layout(book)
    out = []
    for i, p in enumerate(book.positions):
        if p.margin_mode is not MarginMode.ISOLATED:
            continue
        mark = prices[(EXCHANGE, p.symbol)]
        leg = layout.legs[layout.leg_of_position[i]].leg
        out.append(
            {
                "symbol": p.symbol,
                "side": p.side.value,
                "marginMode": "isolated",
                "contracts": p.contracts,
                "contractSize": 1.0,
                "entryPrice": p.entry_price,
                "markPrice": mark,
                "collateral": p.isolated_margin,
                "notional": p.contracts * mark,
                "maintenanceMargin": leg.maintenance(mark),
                "leverage": p.leverage,
            }
        )
    return out


def compare(book: Book, prices: dict, other: Path, runs: int) -> None:
    """Time this checkout's CompiledBook.recompute against `other` checkout's, alternately; print both."""
    spec = importlib.util.spec_from_file_location("other_vectorised", other / "engine/margin/vectorised.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    before, after = module.CompiledBook(book), CompiledBook(book)
    base = after.prices_from(prices)
    rng = np.random.default_rng(1)
    moves = [base * np.exp(rng.normal(0, 0.01, size=base.shape)) for _ in range(runs)]
    for marks in moves[:50]:
        old, new = before.recompute(marks), after.recompute(marks)
        for name in new.__dataclass_fields__:
            a, b = getattr(old, name), getattr(new, name)
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), f"{name} differs from {other}'s"
    wall: dict[str, list[float]] = {"before": [], "after": []}
    cpu: dict[str, list[float]] = {"before": [], "after": []}
    for block in range(0, runs, 25):
        for name, compiled in (("before", before), ("after", after)):
            for marks in moves[block : block + 25]:
                w, c = time.perf_counter(), time.thread_time()
                compiled.recompute(marks)
                cpu[name].append(time.thread_time() - c)
                wall[name].append(time.perf_counter() - w)
    med = statistics.median
    print(f"before/after ({runs} recomputes each, alternating blocks of 25; same arrays, bit for bit, on 50)")
    print(f"{'checkout':<36}{'median ms':>10}{'p95 ms':>9}{'CPU median ms':>15}")
    for name, where in (("before", other), ("after", REPO)):
        print(
            f"{name + ' (' + where.name + ')':<36}{med(wall[name]) * 1e3:>10.3f}"
            f"{np.percentile(wall[name], 95) * 1e3:>9.3f}{med(cpu[name]) * 1e3:>15.3f}"
        )
    print(
        f"ratio after / before: {med(wall['after']) / med(wall['before']):.2f} (wall), "
        f"{med(cpu['after']) / med(cpu['before']):.2f} (CPU)"
    )
    print(f"target: <= 1 ms median -> {'MET' if med(wall['after']) <= 1e-3 else 'MISSED'}")


def time_levels(book: Book, prices: dict, runs: int, overridden_every: int = 0) -> list[float]:
    """Seconds per BookAlerts.positions call (every row's level with hysteresis, crossings, alerts) on the
    vectorised rows of the book at moving marks; every `overridden_every`-th position with its own
    thresholds (engine.book.thresholds), 0: none (the global thresholds for all)."""
    from engine.book.thresholds import ThresholdOverrides, Thresholds
    from engine.margin.live_risk import LiveEvaluator
    from engine.monitor.book_alerts import BookAlerts
    from engine.monitor.session import position_keys

    evaluator = LiveEvaluator(book, book_layout(book))
    rng = np.random.default_rng(2)
    rows = [
        evaluator.evaluate({k: v * float(np.exp(rng.normal(0, 0.002))) for k, v in prices.items()})[0].positions
        for _ in range(10)
    ]
    overrides = ThresholdOverrides()
    if overridden_every:
        tight = Thresholds(distance_warning=0.3, distance_danger=0.1)
        for p in book.positions[::overridden_every]:
            overrides = overrides.with_position((p.account, p.symbol, p.side.value), tight)
    alerts = BookAlerts(Thresholds(), overrides=overrides)
    keys = position_keys(book.positions)
    stale = [False] * len(book.positions)
    it = iter(range(runs))
    return timed(lambda: alerts.positions(keys, rows[next(it) % 10], stale, 0.0), runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--compare", type=Path, help="another checkout: time its recompute against this one's")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    book, prices = build_book()
    if args.compare:
        compare(book, prices, args.compare.resolve(), args.runs)
        return
    t0 = time.perf_counter()
    compiled = CompiledBook(book)
    compile_s = time.perf_counter() - t0
    base = compiled.prices_from(prices)
    rng = np.random.default_rng(1)
    moves = [base * np.exp(rng.normal(0, 0.01, size=base.shape)) for _ in range(args.runs)]
    it = iter(moves)
    vector = timed(lambda: compiled.recompute(next(it)), args.runs)

    keys = compiled.price_keys
    moved = [dict(zip(keys, m, strict=True)) for m in moves[:10]]
    it2 = iter(moved)
    layout = compiled.layout
    scalar = timed(lambda: evaluate_book(book, next(it2), layout), len(moved))

    isolated_book = Book(
        book.accounts, tuple(p for p in book.positions if p.margin_mode is MarginMode.ISOLATED), book.markets
    )
    iso_compiled = CompiledBook(isolated_book)
    iso_marks = iso_compiled.prices_from(prices)
    iso_vector = timed(lambda: iso_compiled.recompute(iso_marks), args.runs)

    import ccxt

    exchange = ccxt.binanceusdm()
    structures = ccxt_positions(book, prices)
    ccxt_runs = timed(lambda: [exchange.safe_position(dict(s)) for s in structures], 5)
    copy_runs = timed(lambda: [dict(s) for s in structures], 5)

    n = len(book.positions)
    n_iso = len(structures)
    med = statistics.median
    rows = [
        ("vectorised, whole book", n, med(vector), np.percentile(vector, 95)),
        ("scalar reference, whole book", n, med(scalar), max(scalar)),
        ("vectorised, isolated only", n_iso, med(iso_vector), np.percentile(iso_vector, 95)),
        ("ccxt safe_position, isolated only", n_iso, med(ccxt_runs) - med(copy_runs), max(ccxt_runs)),
    ]
    print(
        f"book: {n} positions, {len(book.accounts)} accounts, {len(keys)} symbols, "
        f"{len(compiled.layout.legs)} legs, {len(compiled.scan.groups)} groups on the segment scan "
        f"(hedge pairs); compile {compile_s * 1e3:.0f} ms; {args.runs} runs; one core"
    )
    print(f"{'path':<36}{'positions':>10}{'median ms':>12}{'p95/max ms':>12}{'µs/position':>13}")
    for name, count, median_s, tail_s in rows:
        print(f"{name:<36}{count:>10}{median_s * 1e3:>12.3f}{tail_s * 1e3:>12.3f}{median_s / count * 1e6:>13.3f}")
    print(f"target: vectorised whole book <= 1 ms median -> {'MET' if med(vector) <= 1e-3 else 'MISSED'}")
    for label, every in (("no override", 0), ("1 position in 10 overridden", 10)):
        levels = time_levels(book, prices, args.runs, every)
        print(
            f"levels and alerts ({label}): median {med(levels) * 1e3:.3f} ms, "
            f"p95 {np.percentile(levels, 95) * 1e3:.3f} ms"
        )
    print(f"ratio scalar / vectorised (whole book): {med(scalar) / med(vector):.0f}x")
    print(
        f"ratio ccxt safe_position / vectorised (same isolated positions): "
        f"{(med(ccxt_runs) - med(copy_runs)) / med(iso_vector):.0f}x"
    )
    print(
        "note: ccxt holds the maintenance margin fixed at the value given and ignores tiers at the "
        "liquidation price; its price is an approximation, compared here for speed only."
    )


if __name__ == "__main__":
    main()
