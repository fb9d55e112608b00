"""The book's checksum: SHA-256 of its rows, kept in `meta` and rewritten in every transaction that changes them.

SQLite checks a file's structure, not its content: a damaged byte inside a row can turn 150 contracts
into 97 and still pass `PRAGMA quick_check`. The checksum covers every row the book is made of
(accounts, positions, manual prices, market overrides, settings), read as stored: rowid, each value
with its type, text as its UTF-8 bytes (so a damaged character is seen, not a decode error). Alerts
and price history are append-only records written every second by the writer thread and are not
covered; a damaged one is skipped when read.
"""

from __future__ import annotations

import hashlib
import sqlite3

BOOK_TABLES = ("account", "position", "manual_price", "market_override", "setting")
KEY = "book_sha256"
PENDING = "pending"
"""Set by migration 4: the first open computes the checksum of a book saved before checksums existed."""


def book_checksum(connection: sqlite3.Connection) -> str:
    """Hex SHA-256 of the book's rows (raises sqlite3.Error if they cannot be read)."""
    digest = hashlib.sha256()
    factory = connection.text_factory
    connection.text_factory = bytes
    try:
        for table in BOOK_TABLES:
            digest.update(table.encode() + b"\0")
            for row in connection.execute(f"SELECT rowid, * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode() + b"\n")
    finally:
        connection.text_factory = factory
    return digest.hexdigest()


def stored_checksum(connection: sqlite3.Connection) -> str | None:
    """The checksum in `meta` (a damaged value comes back as whatever its bytes say, never a decode error)."""
    row = connection.execute("SELECT CAST(value AS BLOB) FROM meta WHERE key = ?", (KEY,)).fetchone()
    if row is None:
        return None
    value = row[0]
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else repr(value)


def store_checksum(connection: sqlite3.Connection) -> None:
    """Write the checksum of the rows as they are now (call inside the transaction that changed them)."""
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (KEY, book_checksum(connection)))


def verify(connection: sqlite3.Connection) -> bool | None:
    """True: the rows match their checksum; False: they do not (damage); None: not computed yet (pending).

    Raises sqlite3.Error when the rows cannot be read.
    """
    stored = stored_checksum(connection)
    if stored == PENDING:
        return None
    return stored == book_checksum(connection)
