"""Benchmark: what funding adds to a `watch --json` report (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.bench_funding [--sizes 1000 10000] [--runs 3]

The book of bench_book_scale (one position per account, a third isolated) reported by Monitor.report() without
funding rates and with a file rate on every symbol: the difference is the funding figures, mostly the 7-day
liquidation price of each isolated position (one small evaluate_book each). Prints µs per position and the ratio.
"""

from __future__ import annotations

import argparse

from engine.book.portfolio import parse_portfolio
from tests.benchmarks.bench_book_scale import best, book_document, monitor_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'positions':>9} {'no rates s':>10} {'µs/pos':>7} {'rates s':>8} {'µs/pos':>7} {'ratio':>6}")
    for n in args.sizes:
        doc = book_document(n, 1)
        with_rates = dict(doc, markets={symbol: {"funding_rate": 0.0001} for symbol in doc["prices"]})
        plain = best(monitor_for(parse_portfolio(doc)).report, args.runs)
        funded = best(monitor_for(parse_portfolio(with_rates)).report, args.runs)
        per, funded_per = plain / n * 1e6, funded / n * 1e6
        print(f"{n:>9,} {plain:>10.3f} {per:>7.1f} {funded:>8.3f} {funded_per:>7.1f} {funded / plain:>6.2f}")


if __name__ == "__main__":
    main()
