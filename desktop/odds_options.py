"""The options of `marginwatch risk` and `watch` on the probability of liquidation (--horizon, --model, ...).

Kept apart from desktop.risk_odds, which gathers the volatility inputs (candles through ccxt, the saved book's
database, the odds computation): building the command line, as every start of the window does, imports none of
that (start-up time)."""

from __future__ import annotations

import argparse

from engine.monitor.odds_job import MODELS, NORMAL


def add_risk_options(risk: argparse.ArgumentParser) -> None:
    """The `risk` sub-command's options: --json, and the probability of liquidation's."""
    risk.add_argument("--json", action="store_true", help="print the report as one JSON object")
    risk.add_argument(
        "--horizon",
        default="24h",
        metavar="H",
        help="horizon of the probability of liquidation: a number and a unit, m, h, d or w (default 24h; "
        "1 minute to 365 days). Volatility: the file's markets entry 'volatility' (annualised, a fraction), else "
        "the candles cached in the saved book's folder, else its stored mark history",
    )
    risk.add_argument(
        "--candles",
        action="store_true",
        help="fetch 30 days of hourly candles of the file's symbols through ccxt (public data, no API keys) and "
        "cache them with the saved book, for the volatilities and the correlations",
    )
    risk.add_argument(
        "--exchange-config", metavar="CFG", help="with --candles: ccxt settings per exchange, as for 'watch'"
    )
    _add_model(risk)


def _add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        choices=tuple(MODELS),
        default=NORMAL,
        help="normal: a random walk at each symbol's volatility (default); bootstrap: each hour's move drawn "
        "from the symbol's own hourly returns (fat tails as they happened; needs candles or stored marks)",
    )


def add_watch_odds_options(watch: argparse.ArgumentParser) -> None:
    """`watch`'s alert on the probability of liquidation: --alert-probability, --horizon, --model."""
    watch.add_argument(
        "--alert-probability",
        metavar="PCT",
        help="alert when a position's or cross account's probability of liquidation within --horizon rises to "
        "PCT percent or above ('P(liq 24h) rose above 5%%: …'); volatilities as for 'risk' (the file's, else "
        "the saved book's cached candles and marks); online, the candles are fetched in the background (again "
        "when an hour old) and cached with the saved book; figures every 30 s, computed on their own thread",
    )
    watch.add_argument("--horizon", default="24h", metavar="H", help="with --alert-probability (default 24h)")
    _add_model(watch)
