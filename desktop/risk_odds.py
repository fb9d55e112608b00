"""`marginwatch risk`'s probability of liquidation: the volatility inputs it gathers (the file's typed volatilities,
candles fetched through ccxt and cached in the saved book, the stored mark history) and its report. The options
are declared in desktop.odds_options: the command line imports this module only for `risk` and `watch`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from engine.book.horizon import read_horizon, read_threshold_percent
from engine.book.market_volatility import volatility_for
from engine.book.numbers import NotANumber
from engine.book.portfolio import Portfolio
from engine.margin.model import PriceKey
from engine.margin.risk import BookRisk
from engine.market.candle_refresh import CandleBatch, CandleRefresher, failure_line
from engine.market.candles import CANDLE_DAYS, fetch_book_candles
from engine.market.feeds.exchange_config import ExchangeSettings
from engine.market.volatility import Series, hourly_series, market_volatility
from engine.monitor.funding_report import file_funding, funding_text
from engine.monitor.odds_alerts import OddsWatch
from engine.monitor.odds_compute import longest_series
from engine.monitor.odds_job import BOOTSTRAP, NORMAL, VolatilityInputs
from engine.monitor.odds_report import BookOdds, add_odds, book_odds, column_title, odds_columns, odds_notes
from engine.monitor.report import risk_to_dict, risk_to_text
from engine.storage.database import BookDatabase, StorageError
from engine.storage.paths import database_path

PriceHistory = tuple[dict[PriceKey, Series], dict[PriceKey, Series]]
"""(candles, mark history): hourly series per (exchange, symbol), only the keys that have some."""


def watch_odds(
    args: argparse.Namespace,
    portfolio: Portfolio,
    history: Callable[[], PriceHistory],
    settings: Mapping[str, ExchangeSettings] | None = None,
) -> OddsWatch | None:
    """What --alert-probability asks for (None: no alert); history() is read only then. settings (online: the
    --exchange-config per exchange; None: offline): the candles are kept fresh in the background
    (OddsWatch.candles, a feed for the monitor to start) and stored with the saved book. Raises NotANumber
    naming the option."""
    if args.alert_probability is None:
        return None
    try:
        threshold = read_threshold_percent(args.alert_probability)
        hours = read_horizon(args.horizon)
    except NotANumber as e:
        raise NotANumber(f"--{'alert-probability' if 'threshold' in str(e) else 'horizon'}: {e}") from None
    keys = portfolio.book.price_keys()
    typed = {key: v for key in keys if (v := volatility_for(portfolio.volatilities, key)) is not None}
    inputs = VolatilityInputs(typed, *history())
    if settings is None:
        return OddsWatch(threshold, hours, args.model, inputs)
    path = database_path(getattr(args, "data_dir", None))
    refresher = CandleRefresher(keys, settings, _stored_times(path, keys))
    return OddsWatch(threshold, hours, args.model, inputs, candles=refresher, keep_candles=candle_keeper(path))


def _stored_times(path: Path, keys: Sequence[PriceKey]) -> dict[PriceKey, float]:
    if not path.exists():
        return {}
    try:
        with BookDatabase.open(path, read_only=True) as db:
            return db.candles_fetched_at(list(keys))
    except StorageError:  # a cache: without it, everything is fetched
        return {}


def candle_keeper(path: Path) -> Callable[[CandleBatch], None]:
    """Stores each batch's candles with the saved book at `path` (when there is one); a symbol that could not
    be fetched, or a cache that cannot be written, is one warning line on stderr."""

    def keep(batch: CandleBatch) -> None:
        for key, why in batch.failed.items():
            print(f"marginwatch: warning: {failure_line(key, why)}", file=sys.stderr)
        if not batch.series or not path.exists():
            return
        try:
            with BookDatabase.open(path) as db:
                for key, series in batch.series.items():
                    db.save_candles(key, series, batch.fetched_at)
        except StorageError as e:
            print(f"marginwatch: warning: candles not stored: {e}", file=sys.stderr)

    return keep


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


def risk_odds(
    portfolio: Portfolio, risk: BookRisk, hours: float, history: PriceHistory, model: str = NORMAL
) -> BookOdds:
    """The probabilities of liquidation of a portfolio file's book at its marks: the volatilities typed in the
    file win, then those of the candles, then the mark history's; model BOOTSTRAP: the candles' (else the mark
    history's) own hourly returns."""
    keys = portfolio.book.price_keys()
    typed = {key: v for key in keys if (v := volatility_for(portfolio.volatilities, key)) is not None}
    volatility = market_volatility(keys, typed, *history)
    series = None
    if model == BOOTSTRAP:
        candles, marks = history
        series = {k: s for k in keys if (s := longest_series(candles.get(k), marks.get(k))) is not None}
    return book_odds(portfolio.book, portfolio.price_map(), risk, volatility, hours, bootstrap=series)


def print_risk_report(
    portfolio: Portfolio, risk: BookRisk, hours: float, history: PriceHistory, as_json: bool, model: str = NORMAL
) -> None:
    """`marginwatch risk`'s output on stdout: one JSON object (each position and account with its funding and its
    probability of liquidation within `hours`, risk_odds), or the text report with a P(liq …) column in both
    tables, the funding lines and the notes on the figure."""
    odds = risk_odds(portfolio, risk, hours, history, model)
    funding = file_funding(portfolio, risk)
    if as_json:
        document = risk_to_dict(risk, portfolio.book, funding=funding)
        add_odds(document, portfolio.book, odds)
        print(json.dumps(document, allow_nan=False))
    else:
        positions, accounts = odds_columns(odds)
        extra = (column_title(odds.hours), accounts, positions)
        print(risk_to_text(risk, portfolio.book, extra=extra) + funding_text(risk, funding), end="")
        print("\n".join(odds_notes(odds)))
