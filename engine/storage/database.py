"""The user's book in SQLite: accounts, positions, manual prices, settings, alerts and price history.

Safety first: WAL journal with synchronous=FULL (a write reported committed survives a crash or a
power cut); every user action is one transaction, so nothing is ever half-saved; each transaction
that changes the book also rewrites the book's checksum (engine.storage.checksum), checked at every
open, so damage inside a row is seen, not loaded. Problems come back as StorageError with a message
that names the cause (engine.storage.errors: from SQLite's error codes and the file system). A
damaged file is moved aside with its -wal and -shm (engine.storage.quarantine; never deleted) and a
fresh one started; a file from a newer Margin Watch is refused without being touched. A database
file whose permissions the user changed is never chmod'ed back; a symbolic link at the database's
place is refused. `open(read_only=True)` reads a copy in memory and never writes the file (export,
watch and a window whose saved book failed to load).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.book.portfolio import Portfolio, parse_portfolio, portfolio_to_dict
from engine.margin.model import Position, PriceKey
from engine.storage import checksum
from engine.storage.checks import connect_read_only, damage, refuse_links
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
from engine.storage.migrations import migrate
from engine.storage.paths import create_private_file, ensure_data_dir
from engine.storage.quarantine import finish_moves, move_aside

__all__ = ["BookDatabase", "DamagedBook", "OpenNotice", "StorageError"]

ANY_EXCHANGE = ""
"""The exchange of a manual price from the portfolio file's 'prices' (keyed by symbol: every exchange)."""


@dataclass(frozen=True)
class OpenNotice:
    """What opening the database had to do that the user should hear about (shown once)."""

    moved_aside: Path | None = None
    message: str = ""


class BookDatabase:
    def __init__(self, connection: sqlite3.Connection, path: Path, notice: OpenNotice, read_only: bool = False) -> None:
        self._connection = connection
        self.path = path
        self.notice = notice
        self.read_only = read_only
        """True: a copy in memory of the file, which is never written (see open)."""

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
                connection = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
                connection.execute("PRAGMA journal_mode = WAL")
                connection.execute("PRAGMA synchronous = FULL")
                connection.execute("PRAGMA foreign_keys = ON")
                migrate(connection)
                db = cls(connection, path, notice)
                if checksum.stored_checksum(connection) == checksum.PENDING:
                    with db._transaction(book=True):
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
        return cls(memory, path, OpenNotice(), read_only=True)

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> BookDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self, book: bool = False) -> Iterator[sqlite3.Connection]:
        """One user action: BEGIN IMMEDIATE ... COMMIT, or nothing at all. book: it changes the book's rows,
        so the book's checksum is rewritten in the same transaction."""
        if self.read_only:
            raise StorageError(f"{self.path} was opened read-only; nothing was saved")
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        try:
            yield connection
            if book:
                checksum.store_checksum(connection)
            connection.execute("COMMIT")
        except sqlite3.Error as e:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise translate(e, self.path) from e
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._connection.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            if primary_code(e) is None:  # Python's decode error: a damaged text in a record not checksummed
                raise DamagedBook(f"a record in {self.path} is damaged and cannot be read") from e
            raise translate(e, self.path, writing=False) from e
        except UnicodeDecodeError as e:
            raise DamagedBook(f"a record in {self.path} is damaged and cannot be read") from e

    # -- the book ----------------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The saved book as a version-1 portfolio document (manual prices as its 'prices')."""
        accounts = self._read(
            "SELECT id, name, exchange, wallet_balance, currency, position_mode FROM account ORDER BY id"
        )
        names = {row[0]: row[1] for row in accounts}
        positions = self._read(
            "SELECT account_id, symbol, side, contracts, entry_price, margin_mode, leverage, isolated_margin, "
            "hypothetical, note FROM position ORDER BY ordinal, id"
        )
        doc: dict[str, Any] = {
            "version": 1,
            "accounts": [
                {"name": n, "exchange": e, "wallet_balance": w, "currency": c, "position_mode": m}
                for _, n, e, w, c, m in accounts
            ],
            "positions": [],
        }
        for account_id, symbol, side, contracts, entry, mode, leverage, isolated, hypothetical, note in positions:
            item: dict[str, Any] = {
                "account": names[account_id],
                "symbol": symbol,
                "side": side,
                "contracts": contracts,
                "entry_price": entry,
                "margin_mode": mode,
                "leverage": leverage,
            }
            if mode == "isolated":
                item["isolated_margin"] = isolated
            if hypothetical:
                item["hypothetical"] = True
            if note:
                item["note"] = note
            doc["positions"].append(item)
        prices = dict(
            self._read("SELECT symbol, mark FROM manual_price WHERE exchange = ? ORDER BY rowid", (ANY_EXCHANGE,))
        )
        if prices:
            doc["prices"] = prices
        markets = {
            key: json.loads(spec) for key, spec in self._read("SELECT key, spec FROM market_override ORDER BY rowid")
        }
        if markets:
            doc["markets"] = markets
        return doc

    def load(self) -> Portfolio:
        """The saved book, validated exactly like a portfolio file."""
        return parse_portfolio(self.document())

    def is_empty(self) -> bool:
        return not self._read("SELECT 1 FROM account LIMIT 1")

    def import_portfolio(self, portfolio: Portfolio, replace: bool = False) -> None:
        """Add a portfolio's accounts, positions, prices and markets, or replace the whole book: all or nothing."""
        incoming = portfolio_to_dict(portfolio)
        with self._transaction(book=True) as c:
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
                cursor = c.execute(
                    "INSERT INTO account (name, exchange, wallet_balance, currency, position_mode) VALUES (?,?,?,?,?)",
                    (a["name"], a["exchange"], a["wallet_balance"], a["currency"], a["position_mode"]),
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

    @staticmethod
    def _insert_position(c: sqlite3.Connection, account_id: int, ordinal: int, p: Position) -> int:
        cursor = c.execute(
            "INSERT INTO position (account_id, ordinal, symbol, side, contracts, entry_price, margin_mode, leverage, "
            "isolated_margin, hypothetical, note) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
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
            ),
        )
        return int(cursor.lastrowid or 0)

    def add_position(self, position: Position) -> int:
        """Append one position (its account must exist); returns its id."""
        with self._transaction(book=True) as c:
            row = c.execute("SELECT id FROM account WHERE name = ?", (position.account,)).fetchone()
            if row is None:
                raise StorageError(f"unknown account '{position.account}'; nothing was saved")
            ordinal = c.execute("SELECT COALESCE(MAX(ordinal), -1) + 1 FROM position").fetchone()[0]
            return self._insert_position(c, row[0], ordinal, position)

    def position_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM position")[0][0])

    # -- prices, settings, alerts ------------------------------------------------------------------

    def set_manual_price(self, key: PriceKey | str, mark: float) -> None:
        """Save a manual price: for (exchange, symbol) as the price store keys it, or for a bare symbol
        on every exchange (the portfolio file's 'prices')."""
        if not (isinstance(mark, int | float) and math.isfinite(mark) and mark > 0):
            raise StorageError("a manual price must be a number greater than 0")
        exchange, symbol = (ANY_EXCHANGE, key) if isinstance(key, str) else key
        with self._transaction(book=True) as c:
            c.execute(
                "INSERT OR REPLACE INTO manual_price (exchange, symbol, mark) VALUES (?, ?, ?)",
                (exchange, symbol, float(mark)),
            )

    def clear_manual_price(self, key: PriceKey | str) -> None:
        exchange, symbol = (ANY_EXCHANGE, key) if isinstance(key, str) else key
        with self._transaction(book=True) as c:
            c.execute("DELETE FROM manual_price WHERE exchange = ? AND symbol = ?", (exchange, symbol))

    def save_manual_prices(self, prices: Mapping[PriceKey, float | None]) -> None:
        """Set (a mark) or clear (None) the manual prices of these (exchange, symbol) keys in one transaction."""
        for mark in prices.values():
            if mark is not None and not (isinstance(mark, int | float) and math.isfinite(mark) and mark > 0):
                raise StorageError("a manual price must be a number greater than 0")
        with self._transaction(book=True) as c:
            for (exchange, symbol), mark in prices.items():
                if mark is None:
                    c.execute("DELETE FROM manual_price WHERE exchange = ? AND symbol = ?", (exchange, symbol))
                else:
                    c.execute(
                        "INSERT OR REPLACE INTO manual_price (exchange, symbol, mark) VALUES (?, ?, ?)",
                        (exchange, symbol, float(mark)),
                    )

    def manual_prices(self) -> dict[PriceKey, float]:
        """The manual prices typed per (exchange, symbol) (the file's 'prices' are in document())."""
        rows = self._read(
            "SELECT exchange, symbol, mark FROM manual_price WHERE exchange != ? ORDER BY rowid", (ANY_EXCHANGE,)
        )
        return {(exchange, symbol): mark for exchange, symbol, mark in rows}

    def set_setting(self, key: str, value: Any) -> None:
        with self._transaction(book=True) as c:
            c.execute("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def setting(self, key: str, default: Any = None) -> Any:
        rows = self._read("SELECT value FROM setting WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def add_alert(
        self, at: float, subject: str, old: str, new: str, distance: float | None, mark: float | None
    ) -> None:
        with self._transaction() as c:
            c.execute(
                "INSERT INTO alert (at, subject, old_level, new_level, distance, mark) VALUES (?,?,?,?,?,?)",
                (at, subject, old, new, distance, mark),
            )

    def alerts(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT at, subject, old_level, new_level, distance, mark FROM alert ORDER BY at DESC, id DESC LIMIT ?",
            (limit,),
        )
        keys = ("at", "subject", "old", "new", "distance", "mark")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # -- history -----------------------------------------------------------------------------------

    def record_history(self, samples: Sequence[tuple[str, float, float]]) -> None:
        """Append (series, time, value) samples in one transaction (call from a writer thread, not the GUI)."""
        with self._transaction() as c:
            c.executemany("INSERT OR REPLACE INTO history (series, at, value) VALUES (?, ?, ?)", samples)

    def history(self, series: str, since: float = 0.0) -> list[tuple[float, float]]:
        return [
            (at, v)
            for at, v in self._read(
                "SELECT at, value FROM history WHERE series = ? AND at >= ? ORDER BY at", (series, since)
            )
        ]

    def thin_history(
        self, now: float | None = None, policy: Mapping[float, float] | None = None, keep_for: float = 365 * 86_400
    ) -> int:
        """Thin old samples so the file stays small after months: keep one sample per bucket by age.

        policy maps an age (seconds) to the bucket width used beyond it; the default keeps full
        resolution for a day, one sample a minute up to 30 days, one an hour after that, and drops
        samples older than a year. Returns the number of rows removed.
        """
        now = time.time() if now is None else now
        policy = policy or {86_400: 60, 30 * 86_400: 3_600}
        removed = 0
        with self._transaction() as c:
            removed += c.execute("DELETE FROM history WHERE at < ?", (now - keep_for,)).rowcount
            ages = sorted(policy)
            for i, age in enumerate(ages):
                bucket = policy[age]
                older_than = now - age
                newer_than = now - ages[i + 1] if i + 1 < len(ages) else now - keep_for
                # Keep the first sample of each bucket: drop a row when its series has an earlier one in
                # the same bucket (a range seek on the primary key, so months of samples thin quickly).
                removed += c.execute(
                    "DELETE FROM history AS h WHERE h.at < :old AND h.at >= :new AND EXISTS ("
                    "  SELECT 1 FROM history AS k WHERE k.series = h.series"
                    "  AND k.at >= CAST(h.at / :bucket AS INTEGER) * :bucket AND k.at < h.at)",
                    {"old": older_than, "new": newer_than, "bucket": bucket},
                ).rowcount
        return removed
