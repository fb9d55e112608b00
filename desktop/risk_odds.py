"""`marginwatch risk`'s probability of liquidation: its options, and the volatility inputs it gathers (the
file's typed volatilities, candles fetched through ccxt and cached in the saved book, the stored mark history).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping, Sequence

from engine.book.market_volatility import volatility_for
from engine.book.portfolio import Portfolio
from engine.margin.model import PriceKey
from engine.margin.risk import BookRisk
from engine.market.candles import CANDLE_DAYS, fetch_book_candles
from engine.market.feeds.exchange_config import ExchangeSettings
from engine.market.volatility import Series, hourly_series, market_volatility
from engine.monitor.odds_report import BookOdds, add_odds, book_odds, column_title, odds_columns, odds_notes
from engine.monitor.report import risk_to_dict, risk_to_text
from engine.storage.database import BookDatabase

PriceHistory = tuple[dict[PriceKey, Series], dict[PriceKey, Series]]
"""(candles, mark history): hourly series per (exchange, symbol), only the keys that have some."""


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


def fetch_candles(keys: Sequence[PriceKey], settings: Mapping[str, ExchangeSettings]) -> dict[PriceKey, Series]:
    """Hourly candles of these keys through ccxt; one warning line on stderr per key that could not be fetched."""
    fetched, failed = fetch_book_candles(keys, settings)
    for (exchange, symbol), why in failed.items():
        print(f"marginwatch: warning: no candles for {symbol} on {exchange}: {why}", file=sys.stderr)
    return fetched


def stored_history(db: BookDatabase, keys: Sequence[PriceKey], fetched: Mapping[PriceKey, Series]) -> PriceHistory:
    """Cache the fetched candles in db (one transaction per key), then read back the last CANDLE_DAYS of
    candles and of the stored mark history of every key. Raises StorageError."""
    for key, series in fetched.items():
        db.save_candles(key, series, time.time())
    since = time.time() - CANDLE_DAYS * 86_400
    candles = {key: db.candles(key, int(since // 3600)) for key in keys}
    stored = {key: db.history(f"mark:{key[0]}:{key[1]}", since) for key in keys}
    marks = {key: hourly_series([t for t, _ in s], [v for _, v in s]) for key, s in stored.items()}
    return {k: c for k, c in candles.items() if len(c[0])}, {k: m for k, m in marks.items() if len(m[0])}


def risk_odds(portfolio: Portfolio, risk: BookRisk, hours: float, history: PriceHistory) -> BookOdds:
    """The probabilities of liquidation of a portfolio file's book at its marks: the volatilities typed in the
    file win, then those of the candles, then the mark history's."""
    keys = portfolio.book.price_keys()
    typed = {key: v for key in keys if (v := volatility_for(portfolio.volatilities, key)) is not None}
    volatility = market_volatility(keys, typed, *history)
    return book_odds(portfolio.book, portfolio.price_map(), risk, volatility, hours)


def print_risk_report(portfolio: Portfolio, risk: BookRisk, hours: float, history: PriceHistory, as_json: bool) -> None:
    """`marginwatch risk`'s output on stdout: one JSON object (each position and account with its probability
    of liquidation within `hours`, risk_odds), or the text report with a P(liq …) column in both tables and
    the notes on the figure."""
    odds = risk_odds(portfolio, risk, hours, history)
    if as_json:
        document = risk_to_dict(risk)
        add_odds(document, portfolio.book, odds)
        print(json.dumps(document, allow_nan=False))
    else:
        positions, accounts = odds_columns(odds)
        print(risk_to_text(risk, (column_title(odds.hours), accounts, positions)), end="")
        print("\n".join(odds_notes(odds)))
