"""What the command line's sub-commands share: their exit statuses, errors turned into one line and a status
(CommandFailed, reported), the saved book's database, the --exchange-config and the warnings about it."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING

from engine.book.numbers import NotANumber
from engine.book.portfolio import PortfolioError
from engine.storage.errors import StorageError
from engine.storage.paths import database_path

if TYPE_CHECKING:  # the database (sqlite3, hashlib) is imported by the commands that open it, not by the window's
    from engine.market.feeds.exchange_config import ExchangeSettings
    from engine.storage.database import BookDatabase

EXIT_STORAGE = 1
EXIT_BAD_INPUT = 2
EXIT_SELF_TEST_FAILED = 1
EXIT_NO_DISPLAY = 1


class CommandFailed(Exception):
    """A command cannot go on: one line for the user, and the exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@contextlib.contextmanager
def reported(source: str) -> Iterator[None]:
    """Turn the project's own errors into one line that names the source, and the matching exit status."""
    from engine.alerts.config import AlertsConfigError
    from engine.market.feeds.exchange_config import ExchangeConfigError

    try:
        yield
    except StorageError as e:
        raise CommandFailed(str(e), EXIT_STORAGE) from e
    except (PortfolioError, ExchangeConfigError, AlertsConfigError, NotANumber) as e:
        raise CommandFailed(f"{source}: {e}" if source else str(e), EXIT_BAD_INPUT) from e


def open_database(args: argparse.Namespace, read_only: bool = False) -> BookDatabase:
    """The user's database; StorageError if it cannot be opened. Tells the user once what opening did.

    read_only (export, watch): an existing file is read without writing it, so a read-only folder or
    file still works (a missing one is created, empty, as before).
    """
    from engine.storage.database import BookDatabase

    path = database_path(getattr(args, "data_dir", None))
    db = BookDatabase.open(path, read_only=read_only and path.exists())
    if db.notice.message:
        print(f"marginwatch: {db.notice.message}", file=sys.stderr)
    return db


def warn_unpriceable(exchanges: Iterable[str]) -> None:
    """One warning line per exchange whose prices no live feed can read (ccxt offers no public price call
    there, as for dYdX): said when its account enters the saved book or is watched, not only by a feed."""
    from engine.market.feeds.mark_source import price_method_problem

    for exchange in sorted(set(exchanges)):
        problem = price_method_problem(exchange)
        if problem:
            print(f"marginwatch: warning: {problem}", file=sys.stderr)


def exchange_settings(path: str | None, used_exchanges: Collection[str] | None = None) -> dict[str, ExchangeSettings]:
    """The checked --exchange-config (empty without one); prints one warning line per exchange whose prices
    may not come straight from it (another host, plain http, no TLS check, a proxy). CommandFailed, exit 2,
    for anything the file must not hold (credentials, an unused or unknown exchange, an unknown setting)."""
    from engine.market.feeds.exchange_config import connection_note, load_exchange_config

    if not path:
        return {}
    with reported(path):
        settings = load_exchange_config(path, used_exchanges)
    for exchange, item in settings.items():
        note = connection_note(exchange, item.ccxt)
        if note:
            print(f"marginwatch: warning: {exchange} prices {note}", file=sys.stderr)
    return settings
