"""The `marginwatch` command: the desktop app, and sub-commands for terminals and scripts.

This is the composition root. Qt is imported only when a window is opened, so `marginwatch risk`
runs on a server with no display and no Qt libraries loaded.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from engine.portfolio import PortfolioError, load_portfolio
from engine.report import risk_to_dict, risk_to_text
from engine.risk import MissingPriceError, evaluate_book

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marginwatch",
        description="Margin Watch: how far each leveraged position is from liquidation. "
        "Without a sub-command it opens the desktop window.",
    )
    parser.add_argument("--demo", action="store_true", help="open the bundled demo book")
    parser.add_argument("--book", metavar="FILE", help="open this portfolio file in the window")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    risk = sub.add_parser(
        "risk",
        help="one-shot risk report of a portfolio file at its 'prices'",
        description="Print the risk of every account and position in a portfolio file, at the mark "
        "prices written in its 'prices' section. Bad input exits with status 2 and one line naming "
        "the field and the position.",
    )
    risk.add_argument("file", help="portfolio file (JSON, format version 1; see README)")
    risk.add_argument("--json", action="store_true", help="print the report as one JSON object")
    return parser


def run_risk(path: str, as_json: bool) -> int:
    try:
        portfolio = load_portfolio(path)
        prices = portfolio.price_map()
        try:
            risk = evaluate_book(portfolio.book, prices)
        except MissingPriceError as e:
            position = next(i for i, p in enumerate(portfolio.book.positions) if p.symbol == e.key[1])
            raise PortfolioError(
                f"position {position + 1} ({e.key[1]}): no mark price; add \"{e.key[1]}\" under 'prices'"
            ) from e
    except PortfolioError as e:
        print(f"marginwatch: {path}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if as_json:
        print(json.dumps(risk_to_dict(risk), allow_nan=False))
    else:
        print(risk_to_text(risk), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "risk":
        return run_risk(args.file, args.json)
    from desktop.app import run_app

    try:
        return run_app(demo=args.demo, book_file=args.book)
    except PortfolioError as e:
        print(f"marginwatch: {args.book}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
