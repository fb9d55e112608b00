"""The book's checksum: SHA-256 of its rows, kept in `meta` and rewritten in every transaction that changes them.

SQLite checks a file's structure, not its content: a damaged byte inside a row can turn 150 contracts
into 97 and still pass `PRAGMA quick_check`. The checksum covers every row the book is made of
(accounts, positions, manual prices, market overrides, settings, typed funding rates), read as stored: rowid, each value
with its type, text as its UTF-8 bytes (so a damaged character is seen, not a decode error). Alerts
and price history are append-only records written every second by the writer thread and are not
covered; a damaged one is skipped when read.

The rows are hashed table by table in BOOK_TABLES order, so `RunningChecksum` can keep the hash state
reached after each table: a transaction that changed only the settings re-reads the settings, not
the positions (the value stored is the same SHA-256 as `book_checksum`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Collection
from typing import Any

BOOK_TABLES = ("account", "position", "manual_price", "market_override", "setting", "typed_funding")
LATER_TABLES = ("typed_funding",)
"""Tables the book gained after its checksum was first stored (typed_funding: schema step 10): hashed only where
they exist, so a file from before their step still verifies before it is migrated (the step sets PENDING)."""
KEY = "book_sha256"
PENDING = "pending"
"""Set by migration 4: the first open computes the checksum of a book saved before checksums existed."""


def book_checksum(connection: sqlite3.Connection) -> str:
    """Hex SHA-256 of the book's rows (raises sqlite3.Error if they cannot be read)."""
    return RunningChecksum().refresh(connection)


class RunningChecksum:
    """The book's checksum with the hash state after each table kept, for one connection that writes the book.

    `refresh(connection, changed)` re-reads only the tables from the first changed one on (in
    BOOK_TABLES order); the first refresh, and any after `forget()`, reads them all. The caller must
    `forget()` whenever the rows may have changed behind it (another connection wrote the book, a
    transaction rolled back after a refresh).
    """

    def __init__(self) -> None:
        self._missing: set[str] | None = None
        """LATER_TABLES the file has not got (looked up at the first full read)."""
        self._states: list[Any] | None = None
        """The hash state before each table and after the last (len(BOOK_TABLES) + 1), or None: unknown."""

    @property
    def value(self) -> str | None:
        """The last refreshed checksum (hex), or None before the first refresh or after forget()."""
        return None if self._states is None else self._states[-1].hexdigest()

    def forget(self) -> None:
        self._states = None

    def refresh(self, connection: sqlite3.Connection, changed: Collection[str] = BOOK_TABLES) -> str:
        """The checksum of the rows as they are now, re-reading the changed tables and those after them.

        changed: names from BOOK_TABLES. Raises sqlite3.Error when the rows cannot be read (the kept
        states are then forgotten).
        """
        unknown = set(changed) - set(BOOK_TABLES)
        if unknown:
            raise ValueError(f"not a table of the book: {sorted(unknown)}")
        if self._states is None:
            start, states = 0, [hashlib.sha256()]
            marks = ",".join("?" * len(LATER_TABLES))
            present = connection.execute(
                f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({marks})", LATER_TABLES
            ).fetchall()
            self._missing = set(LATER_TABLES) - {name for (name,) in present}
        elif not changed:
            return self._states[-1].hexdigest()
        else:
            start = min(BOOK_TABLES.index(table) for table in changed)
            states = self._states[: start + 1]
        self._states = None  # until every table is read again
        factory = connection.text_factory
        connection.text_factory = bytes
        try:
            for table in BOOK_TABLES[start:]:
                digest = states[-1].copy()
                if table in (self._missing or ()):
                    states.append(digest)
                    continue
                digest.update(table.encode() + b"\0")
                for row in connection.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid"):
                    digest.update(repr(row).encode() + b"\n")
                states.append(digest)
        finally:
            connection.text_factory = factory
        self._states = states
        return states[-1].hexdigest()


def stored_checksum(connection: sqlite3.Connection) -> str | None:
    """The checksum in `meta` (a damaged value comes back as whatever its bytes say, never a decode error)."""
    row = connection.execute("SELECT CAST(value AS BLOB) FROM meta WHERE key = ?", (KEY,)).fetchone()
    if row is None:
        return None
    value = row[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)


def store_checksum(connection: sqlite3.Connection, value: str | None = None) -> None:
    """Write the checksum of the rows as they are now, or value when the caller computed it (call inside the
    transaction that changed them)."""
    value = book_checksum(connection) if value is None else value
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (KEY, value))


def verify(connection: sqlite3.Connection) -> bool | None:
    """True: the rows match their checksum; False: they do not (damage); None: not computed yet (pending).

    Raises sqlite3.Error when the rows cannot be read.
    """
    stored = stored_checksum(connection)
    if stored == PENDING:
        return None
    return stored == book_checksum(connection)
