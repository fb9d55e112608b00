"""The command line's tier tables: the ones stored by earlier runs, storing new ones, and `watch FILE` on a
book whose markets no table has yet (fetched from the exchanges first). Qt-free, like the commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from engine.book.portfolio import Portfolio, PortfolioError, load_portfolio
from engine.margin.model import MarketSpec
from engine.storage.paths import database_path


def stored_tables(args: argparse.Namespace) -> dict[tuple[str, str], MarketSpec]:
    """The tier tables fetched on earlier runs, stored in the data folder's database ({} without one)."""
    from engine.storage.stored_tiers import stored_fetched_markets  # sqlite3: only for the commands that read it

    return stored_fetched_markets(database_path(getattr(args, "data_dir", None)))


def table_saver(path: Path) -> Callable[[str, Mapping[str, MarketSpec]], None]:
    from engine.storage.stored_tiers import store_fetched_markets

    def save(exchange: str, markets: Mapping[str, MarketSpec]) -> None:
        if problem := store_fetched_markets(path, exchange, markets):
            print(f"marginwatch: warning: {problem}", file=sys.stderr)

    return save


def load_watched_file(args: argparse.Namespace) -> Portfolio:
    """`watch FILE`'s book, its markets resolved with the stored tables; online, a book that names markets no
    table has yet gets them from the exchanges first (fetched now, stored), then is read again."""
    from engine.book.portfolio import decode_json
    from engine.market.feeds.exchange_config import load_exchange_config
    from engine.market.feeds.tier_fetch import fetch_tables_now

    fetched = stored_tables(args)
    try:
        return load_portfolio(args.file, fetched)
    except PortfolioError as e:
        if args.offline or not all(v.field == "symbol" and "no tier table" in v.message for v in e.violations):
            raise
    document = decode_json(Path(args.file).read_text(encoding="utf-8"))
    exchange_of = {a.get("name"): a.get("exchange") for a in document.get("accounts", [])}
    keys = list(dict.fromkeys((exchange_of.get(p.get("account")), p.get("symbol")) for p in document["positions"]))
    settings = load_exchange_config(args.exchange_config) if args.exchange_config else {}
    config = {exchange: item.ccxt for exchange, item in settings.items()}
    for exchange, result in fetch_tables_now([k for k in keys if all(k)], config).items():
        print(f"marginwatch: {result.note}", file=sys.stderr)
        if result.markets:
            table_saver(database_path(getattr(args, "data_dir", None)))(exchange, result.markets)
            fetched |= {(exchange, symbol): market for symbol, market in result.markets.items()}
    return load_portfolio(args.file, fetched)
