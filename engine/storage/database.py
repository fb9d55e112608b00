"""The user's book in SQLite: the repository opened once per window or command, and the book itself.

One `BookDatabase` holds one connection (engine.storage.connection: transactions, reads, the
checksum kept current) and is made of the book (here: accounts, positions, the file's prices and
market overrides), manual prices, settings, alerts and price history (their own modules).

Safety first: WAL journal with synchronous=FULL (a write reported committed survives a crash or a
power cut); every user action is one transaction, so nothing is ever half-saved; each transaction
that changes the book also rewrites the book's checksum (engine.storage.checksum), verified when the
file is opened, so damage inside a row is seen, not loaded. Problems come back as StorageError with a message
that names the cause (engine.storage.errors: from SQLite's error codes and the file system). A
damaged file is moved aside with its -wal and -shm (engine.storage.quarantine; never deleted) and a
fresh one started; a file from a newer Margin Watch is refused without being touched. A database
file whose permissions the user changed is never chmod'ed back; a symbolic link at the database's
place is refused. `open(read_only=True)` reads a copy in memory and never writes the file (export,
watch and a window whose saved book failed to load).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from engine.book.portfolio import Portfolio, parse_portfolio, portfolio_to_dict
from engine.book.price_alert_rules import PRICE_ALERTS_SETTING, price_alerts_to_list
from engine.book.threshold_fields import document_overrides, write_overrides
from engine.book.thresholds import ThresholdOverrides, overrides_from_setting
from engine.margin.model import Account, AccountType, Book, MarginMode, Position, PositionMode, Side
from engine.storage import checksum
from engine.storage.alerts import AlertRecords
from engine.storage.candles import CandleRecords
from engine.storage.checks import connect_read_only, damage, refuse_links
from engine.storage.connection import OpenNotice
from engine.storage.errors import (
    ELSEWHERE,
    DamagedBook,
    StorageError,
    cannot_open,
    is_damage,
    primary_code,
    translate,
    writable_file,
)
from engine.storage.fetched_increments import FetchedIncrements
from engine.storage.fetched_markets import FetchedMarkets
from engine.storage.history import HistoryRecords
from engine.storage.manual_prices import ANY_EXCHANGE, ManualPrices
from engine.storage.migrations import migrate
from engine.storage.paths import create_private_file, ensure_data_dir
from engine.storage.quarantine import finish_moves, move_aside
from engine.storage.settings import OVERRIDES_SETTING, Settings
from engine.storage.sync_log import SyncLog
from engine.storage.typed_funding import TypedFundingRates

__all__ = ["BookDatabase", "DamagedBook", "OpenNotice", "StorageError"]


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A writing connection: WAL, synchronous=FULL (a commit survives a power cut), foreign keys on."""
    connection = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        connection.close()
        raise
    return connection


class BookDatabase(
    ManualPrices,
    Settings,
    AlertRecords,
    HistoryRecords,
    SyncLog,
    FetchedMarkets,
    FetchedIncrements,
    CandleRecords,
    TypedFundingRates,
):
    """The saved book's repository: one connection (engine.storage.connection), opened once per window or
    command and passed to whatever saves. The book is here; manual prices, settings, alerts and history
    are in their own modules (the classes this one is made of)."""

    # -- opening -----------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, timeout: float = 2.0, read_only: bool = False) -> BookDatabase:
        """Open (and create, migrate, repair) the database at path; StorageError says why it cannot be.

        read_only: never write the file (nor create, migrate or move it): the book is checked and
        copied into memory, migrated there; a damaged file is refused (DamagedBook), not moved.
        """
        path = Path(path)
        refuse_links(path)
        if read_only:
            return cls._open_read_only(path, timeout)
        try:
            ensure_data_dir(path.parent)
        except OSError as e:
            raise StorageError(f"cannot create the data folder {path.parent}: {e.strerror or e}; {ELSEWHERE}") from e
        try:
            finish_moves(path)  # a move-aside a death interrupted: before anything opens what is left
        except OSError as e:
            raise StorageError(
                f"a damaged book beside {path} was being moved aside and the move cannot be finished "
                f"({e.strerror or e}); nothing was opened: {ELSEWHERE}"
            ) from e
        if path.is_dir() or not path.parent.is_dir():
            raise StorageError(cannot_open(path, writing=True))
        notice = OpenNotice()
        if path.exists() and path.stat().st_size > 0:
            if not os.access(path.parent, os.W_OK) or not writable_file(path):
                raise StorageError(cannot_open(path, writing=True))  # never chmod'ed: the user's choice
            notice = cls._set_aside_if_damaged(path, timeout)
        for attempt in (1, 2):
            connection = None
            try:
                create_private_file(path)  # SQLite gives -wal/-shm this file's mode
                connection = _connect(path, timeout)
                migrate(connection)
                db = cls(connection, path, notice, timeout=timeout)
                if checksum.stored_checksum(connection) == checksum.PENDING:
                    with db.transaction():
                        pass  # a book saved before checksums: its first checksum
                return db
            except OSError as e:
                raise StorageError(f"cannot open {path}: {e.strerror or e}; {ELSEWHERE}") from e
            except (sqlite3.Error, UnicodeDecodeError) as e:
                if connection is not None:
                    connection.close()
                # Damage only writing reveals (a damaged CHECK is parsed for writes, not reads): set it
                # aside once, and start afresh.
                damaged = isinstance(e, UnicodeDecodeError) or is_damage(e) or primary_code(e) is None
                if not damaged or attempt == 2 or notice.moved_aside is not None:
                    raise (
                        DamagedBook(f"the saved book at {path} is damaged") if damaged else translate(e, path)
                    ) from e
                notice = cls._set_aside(path, "its schema cannot be used for writing")
        raise AssertionError("unreachable")

    @classmethod
    def _set_aside_if_damaged(cls, path: Path, timeout: float) -> OpenNotice:
        try:
            with contextlib.closing(connect_read_only(path, timeout)) as connection:
                why = damage(connection, path, writing=True)
        except sqlite3.Error as e:
            if not is_damage(e):
                raise translate(e, path) from e
            why = "it is not a database SQLite can read"
        except UnicodeDecodeError:  # the error message quotes a damaged schema
            why = "it is not a database SQLite can read"
        return OpenNotice() if why is None else cls._set_aside(path, why)

    @staticmethod
    def _set_aside(path: Path, why: str) -> OpenNotice:
        try:
            aside = move_aside(path)
        except OSError as e:
            raise DamagedBook(
                f"the saved book at {path} is damaged ({why}) and could not be moved aside "
                f"({e.strerror or e}); it was left as it is: {ELSEWHERE}"
            ) from e
        return OpenNotice(
            aside,
            f"The saved book at {path} was damaged ({why}). It was moved to {aside.parent} with its "
            f"journal (nothing was deleted) and a new, empty book started.",
        )

    @classmethod
    def _open_read_only(cls, path: Path, timeout: float) -> BookDatabase:
        if not path.is_file():
            missing = f"there is no saved book at {path}"
            raise StorageError(cannot_open(path, writing=False) if path.exists() else missing)
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            with contextlib.closing(connect_read_only(path, timeout)) as connection:
                why = damage(connection, path, writing=False)
                if why is not None:
                    raise DamagedBook(
                        f"the saved book at {path} is damaged ({why}); it was left as it is (opened "
                        f"read-only): open Margin Watch's window once to move it aside"
                    )
                connection.backup(memory)
            migrate(memory)
            if checksum.stored_checksum(memory) == checksum.PENDING:
                checksum.store_checksum(memory)
        except UnicodeDecodeError as e:
            memory.close()
            raise DamagedBook(f"the saved book at {path} is damaged; it was left as it is (read-only)") from e
        except sqlite3.Error as e:
            memory.close()
            if is_damage(e):
                raise DamagedBook(f"the saved book at {path} is damaged; it was left as it is (read-only)") from e
            raise translate(e, path, writing=False) from e
        except BaseException:
            memory.close()
            raise
        return cls(memory, path, OpenNotice(), read_only=True, timeout=timeout)

    def sibling(self) -> BookDatabase:
        """Another connection to this same opened (checked, migrated) file, for another thread: SQLite
        connections are per thread. Nothing is checked again. Raises StorageError (read-only: refused)."""
        if self.read_only:
            raise StorageError(f"{self.path} was opened read-only; nothing can be saved to it")
        try:
            connection = _connect(self.path, self.timeout)
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        return BookDatabase(connection, self.path, timeout=self.timeout)

    # -- the book ----------------------------------------------------------------------------------

    def load(self) -> Portfolio:
        """The saved book, validated exactly like a portfolio file (PortfolioError for a value the current
        rules refuse; DamagedBook for a row that is not a value of its kind), its markets resolved with the
        stored fetched tables (engine.storage.fetched_markets) and market lists' increments
        (engine.storage.fetched_increments), its price alerts from their setting."""
        accounts = self._read(
            "SELECT id, name, exchange, wallet_balance, currency, position_mode, account_type, wallet_address "
            "FROM account ORDER BY id"
        )
        names = {row[0]: row[1] for row in accounts}
        positions = self._read(
            "SELECT account_id, symbol, side, contracts, entry_price, margin_mode, leverage, isolated_margin, "
            "hypothetical, note, synced_at, exchange_liquidation_price, take_profit, stop_loss "
            "FROM position ORDER BY ordinal, id"
        )
        try:
            book = Book(
                tuple(
                    Account(n, e, w, c, PositionMode(m), AccountType(t), addr) for _, n, e, w, c, m, t, addr in accounts
                ),
                tuple(
                    Position(
                        names[row[0]],
                        row[1],
                        Side(row[2]),
                        *row[3:5],
                        MarginMode(row[5]),
                        *row[6:8],
                        bool(row[8]),
                        *row[9:],
                    )
                    for row in positions
                ),
            )
        except (KeyError, ValueError) as e:  # past the checksum and CHECK constraints: not expected
            raise DamagedBook(f"a row of the saved book in {self.path} cannot be read ({e})") from e
        prices = self._read("SELECT symbol, mark FROM manual_price WHERE exchange = ? ORDER BY rowid", (ANY_EXCHANGE,))
        # The one serializer (portfolio_to_dict) writes the document the one validator reads; market
        # overrides are stored as the JSON their document had.
        document = portfolio_to_dict(Portfolio(book, dict(prices)))
        write_overrides(document, overrides_from_setting(self.setting(OVERRIDES_SETTING)))  # checked as a file's
        markets = {
            key: json.loads(spec) for key, spec in self._read("SELECT key, spec FROM market_override ORDER BY rowid")
        }
        if markets:
            document["markets"] = markets
        portfolio = parse_portfolio(document, self.fetched_markets(), self.fetched_increments())
        return dataclasses.replace(portfolio, price_alerts=self.price_alerts())

    def document(self) -> dict[str, Any]:
        """The saved book as a version-1 portfolio document (manual prices as its 'prices')."""
        return portfolio_to_dict(self.load())

    def is_empty(self) -> bool:
        """True when the saved book has no account."""
        return not self._read("SELECT 1 FROM account LIMIT 1")

    def import_portfolio(self, portfolio: Portfolio, replace: bool = False, price_alerts_too: bool = False) -> None:
        """Add a portfolio's accounts, positions, prices, markets and price alerts, or replace the whole book: all or
        nothing. A portfolio without price alerts leaves the saved ones as they are (a sync or a window edit
        carries none), unless price_alerts_too (`import --replace`: the file's, even none, replace them)."""
        with self.transaction() as c:
            self._write_book(c, portfolio, replace)
            if replace and price_alerts_too and not portfolio.price_alerts:
                c.execute("DELETE FROM setting WHERE key = ?", (PRICE_ALERTS_SETTING,))

    def _write_book(self, c: sqlite3.Connection, portfolio: Portfolio, replace: bool) -> None:
        """import_portfolio's writes, inside the caller's transaction (a sync adds its log to the same one)."""
        incoming = portfolio_to_dict(portfolio)
        if replace:  # the book; manual prices typed per exchange stay (the window replaces on every edit)
            for table in ("position", "account", "market_override"):
                c.execute(f"DELETE FROM {table}")
            c.execute("DELETE FROM manual_price WHERE exchange = ?", (ANY_EXCHANGE,))
        else:
            taken = {row[0] for row in c.execute("SELECT name FROM account")}
            clash = [a["name"] for a in incoming["accounts"] if a["name"] in taken]
            if clash:
                raise StorageError(
                    f"the saved book already has an account named '{clash[0]}'; nothing was "
                    f"imported (use --replace to replace the whole book)"
                )
        ids = {}
        for a in incoming["accounts"]:
            columns = ("name", "exchange", "wallet_balance", "currency", "position_mode", "account_type")
            cursor = c.execute(
                f"INSERT INTO account ({', '.join(columns)}, wallet_address) VALUES (?,?,?,?,?,?,?)",
                (*(a[k] for k in columns), a.get("wallet_address", "")),
            )
            ids[a["name"]] = cursor.lastrowid
        start = c.execute("SELECT COALESCE(MAX(ordinal), -1) + 1 FROM position").fetchone()[0]
        for offset, position in enumerate(portfolio.book.positions):
            self._insert_position(c, ids[position.account], start + offset, position)
        for symbol, mark in incoming.get("prices", {}).items():
            c.execute(
                "INSERT OR REPLACE INTO manual_price (exchange, symbol, mark) VALUES (?, ?, ?)",
                (ANY_EXCHANGE, symbol, mark),
            )
        for key, spec in incoming.get("markets", {}).items():
            c.execute("INSERT OR REPLACE INTO market_override (key, spec) VALUES (?, ?)", (key, json.dumps(spec)))
        self._write_overrides(c, document_overrides(incoming), replace)
        if portfolio.price_alerts:  # a file's price alerts replace the saved ones, or are added to them
            rules = (
                portfolio.price_alerts if replace else dict.fromkeys([*self.price_alerts(), *portfolio.price_alerts])
            )
            value = json.dumps(price_alerts_to_list(list(rules)))
            c.execute("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (PRICE_ALERTS_SETTING, value))

    @staticmethod
    def _write_overrides(c: sqlite3.Connection, written: ThresholdOverrides, replace: bool) -> None:
        """The accounts' and positions' own thresholds as the `threshold_overrides` setting: those of the book
        written (an override of an account or position it no longer has is dropped), added to the saved ones
        unless replacing."""
        if not replace:
            row = c.execute("SELECT value FROM setting WHERE key = ?", (OVERRIDES_SETTING,)).fetchone()
            saved = overrides_from_setting(json.loads(row[0]) if row else None)
            written = ThresholdOverrides(
                written.base, {**saved.accounts, **written.accounts}, {**saved.positions, **written.positions}
            )
        if not written:  # no row rather than an empty one: a book without overrides stays as it was
            c.execute("DELETE FROM setting WHERE key = ?", (OVERRIDES_SETTING,))
            return
        value = json.dumps(written.to_setting())
        c.execute("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (OVERRIDES_SETTING, value))

    @staticmethod
    def _insert_position(c: sqlite3.Connection, account_id: int, ordinal: int, p: Position) -> int:
        cursor = c.execute(
            "INSERT INTO position (account_id, ordinal, symbol, side, contracts, entry_price, margin_mode, leverage, "
            "isolated_margin, hypothetical, note, synced_at, exchange_liquidation_price, take_profit, stop_loss) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                account_id,
                ordinal,
                p.symbol,
                p.side.value,
                p.contracts,
                p.entry_price,
                p.margin_mode.value,
                p.leverage,
                p.isolated_margin,
                int(p.hypothetical),
                p.note,
                p.synced_at,
                p.exchange_liquidation_price,
                p.take_profit,
                p.stop_loss,
            ),
        )
        return int(cursor.lastrowid or 0)

    def add_position(self, position: Position) -> int:
        """Append one position (its account must exist); returns its id. Raises StorageError."""
        with self.transaction(changes=("position",)) as c:
            row = c.execute("SELECT id FROM account WHERE name = ?", (position.account,)).fetchone()
            if row is None:
                raise StorageError(f"unknown account '{position.account}'; nothing was saved")
            ordinal = c.execute("SELECT COALESCE(MAX(ordinal), -1) + 1 FROM position").fetchone()[0]
            return self._insert_position(c, row[0], ordinal, position)

    def position_count(self) -> int:
        """How many positions the saved book holds."""
        return int(self._read("SELECT COUNT(*) FROM position")[0][0])
