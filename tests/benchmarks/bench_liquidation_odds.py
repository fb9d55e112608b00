"""Benchmark: the probability of liquidation of a whole book (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.bench_liquidation_odds [--runs 3] [--paths 10000] [--steps 24]

Books: the bundled demo book (every symbol at a volatility of 60-120%, correlations 0.6), and a
1,000-position book of 10 accounts (100 positions each over 100 symbols with real Binance USDⓈ-M tier
tables, half cross and half isolated, two accounts in hedge mode). Measured: the closed form of every
position (engine.margin.liquidation_odds.position_odds), the Monte Carlo of every cross account
(engine.margin.account_odds, 10,000 paths x 24 hourly steps by default) and book_odds (both, as a refresh
does). Prints the best of --runs, and the cost per path-step.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from engine.book.portfolio import load_portfolio
from engine.margin.account_odds import account_odds
from engine.margin.bundled import resource
from engine.margin.liquidation_odds import position_odds
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, Side
from engine.margin.risk import evaluate_book
from engine.margin.tiers import bundled_table
from engine.margin.vectorised import CompiledBook
from engine.market.volatility import MarketVolatility
from engine.monitor.odds_report import book_odds

EXCHANGE = "binanceusdm"


def large_book(seed: int = 11) -> tuple[Book, dict]:
    """10 accounts x 100 positions over 100 symbols (module docstring)."""
    rng = np.random.default_rng(seed)
    real = list(bundled_table(EXCHANGE).markets.values())
    markets, prices = {}, {}
    for s in range(100):
        symbol = f"SYM{s}/USDT:USDT"
        markets[(EXCHANGE, symbol)] = MarketSpec(symbol, real[s % len(real)].tiers, max_leverage=125)
        prices[(EXCHANGE, symbol)] = float(10 ** rng.uniform(-1, 4))
    accounts, positions = [], []
    for a in range(10):
        name, mode = f"acct{a}", PositionMode.HEDGE if a < 2 else PositionMode.ONEWAY
        locked = 0.0
        for k, s in enumerate(rng.choice(100, size=100, replace=False)):
            symbol = f"SYM{s}/USDT:USDT"
            side = Side.LONG if rng.random() < 0.55 else Side.SHORT
            if mode is PositionMode.HEDGE and k % 10 == 1:  # a hedge pair: the previous symbol, other side
                symbol, side = positions[-1].symbol, positions[-1].side.opposite
            mark = prices[(EXCHANGE, symbol)]
            leverage = float(rng.choice([3, 5, 10, 20]))
            contracts = float(10 ** rng.uniform(3, 4.5)) / mark
            isolated = mode is PositionMode.ONEWAY and rng.random() < 0.5
            margin = contracts * mark / leverage * 1.2 if isolated else 0.0
            locked += margin
            mm = MarginMode.ISOLATED if isolated else MarginMode.CROSS
            positions.append(Position(name, symbol, side, contracts, mark, mm, leverage, margin))
        accounts.append(Account(name, EXCHANGE, locked + float(rng.uniform(2e4, 6e4)), "USDT", mode))
    return Book(tuple(accounts), tuple(positions), markets), prices


def volatility_for(keys: list, seed: int = 3) -> MarketVolatility:
    rng = np.random.default_rng(seed)
    corr = np.full((len(keys), len(keys)), 0.6)
    np.fill_diagonal(corr, 1.0)
    vol = rng.uniform(0.6, 1.2, len(keys))
    return MarketVolatility(tuple(keys), vol, ("bench",) * len(keys), corr)


def best(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(name: str, book: Book, prices: dict, runs: int, paths: int, steps: int) -> list[str]:
    risk = evaluate_book(book, prices)
    mv = volatility_for(book.price_keys())
    typed = {k: float(v) for k, v in zip(mv.keys, mv.volatility, strict=True)}
    compiled = CompiledBook(book)
    marks = compiled.prices_from(prices)
    cross_legs = int(compiled.leg_cross.sum())
    closed = best(lambda: position_odds(risk.positions, book, typed, 24.0), runs)
    mc = best(
        lambda: account_odds(compiled, marks, mv.volatility, mv.correlation, 24.0, paths=paths, steps=steps), runs
    )
    whole = best(lambda: book_odds(book, prices, risk, mv, 24.0, paths=paths), runs)
    per = mc / (paths * steps * max(1, cross_legs)) * 1e9
    return [
        name,
        str(len(book.positions)),
        str(len(book.accounts)),
        str(cross_legs),
        f"{closed * 1e3:.2f}",
        f"{mc * 1e3:.0f}",
        f"{whole * 1e3:.0f}",
        f"{per:.1f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=24)
    args = parser.parse_args()
    demo = load_portfolio(str(resource("demo", "book.json")))
    rows = [
        measure("demo", demo.book, demo.price_map(), args.runs, args.paths, args.steps),
        measure("1,000 positions", *large_book(), args.runs, args.paths, args.steps),
    ]
    headers = ["book", "positions", "accounts", "cross legs", "closed form ms", "Monte Carlo ms", "book_odds ms"]
    headers.append("ns / path-step-leg")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print(f"{args.paths} paths x {args.steps} steps, best of {args.runs}")
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
