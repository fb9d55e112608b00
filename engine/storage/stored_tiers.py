"""The fetched tier tables (and market lists' increments) of the data folder's database, for a command or window
that does not hold it open (`risk`, `watch FILE`, a window on a portfolio file): read without writing, stored in
one transaction."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from engine.margin.listed_increments import Increments
from engine.margin.model import MarketSpec, PriceKey
from engine.storage.errors import StorageError

log = logging.getLogger(__name__)


def stored_fetched_markets(path: Path) -> dict[PriceKey, MarketSpec]:
    """The fetched markets stored in the database at path, read without writing it; {} when there is no
    database or it cannot be opened (the bundled tables then apply: a cache is never a reason to fail)."""
    if not path.exists():
        return {}
    from engine.storage.database import BookDatabase  # sqlite3: only when there is a database to read

    try:
        with BookDatabase.open(path, read_only=True) as db:
            return db.fetched_markets()
    except StorageError as e:
        log.warning("stored tier tables not read: %s", e)
        return {}


def stored_fetched_tables(path: Path) -> tuple[dict[PriceKey, MarketSpec], dict[PriceKey, Increments]]:
    """(fetched markets, market lists' increments) stored in the database at path, read in one read-only open;
    ({}, {}) when there is no database or it cannot be opened (a cache is never a reason to fail)."""
    if not path.exists():  # a window on a portfolio file and no saved book: no sqlite3 or storage at start-up
        return {}, {}
    from engine.storage.database import BookDatabase

    try:
        with BookDatabase.open(path, read_only=True) as db:
            return db.fetched_markets(), db.fetched_increments()
    except StorageError as e:
        log.warning("stored tier tables not read: %s", e)
        return {}, {}


def store_fetched_markets(path: Path, exchange: str, markets: Mapping[str, MarketSpec]) -> str:
    """Store one exchange's fetched markets in the database at path (created when missing); '' when stored,
    else why not, in words (a read-only folder: the tables are used for this run only)."""
    from engine.storage.database import BookDatabase

    try:
        with BookDatabase.open(path) as db:
            db.save_fetched_markets(exchange, markets)
    except StorageError as e:
        return f"the tier tables fetched from {exchange} were not stored: {e}"
    return ""
