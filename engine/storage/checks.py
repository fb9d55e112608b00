"""Checks made before the saved book is opened: is it damaged, can it be read without writing it, is a link there.

`damage` is what makes a damaged book a damaged book (see engine.storage.database): the table
definitions, SQLite's integrity check, the book's checksum, and every text and JSON value decoding.
"""

from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from pathlib import Path
from typing import Any

from engine.storage import checksum
from engine.storage.errors import (
    ELSEWHERE,
    SQLITE_CANTOPEN,
    SQLITE_READONLY,
    StorageError,
    is_damage,
    primary_code,
    translate,
)
from engine.storage.migrations import LATEST, migrate, version_of


def newer_schema(path: Path, version: int) -> StorageError:
    return StorageError(
        f"{path} was saved by a newer Margin Watch (schema {version}; this one knows "
        f"{LATEST}); it was left untouched: update Margin Watch to open it"
    )


@functools.cache
def _schema(version: int) -> list[tuple[Any, ...]]:
    """The table and index definitions a sound database of this schema version has."""
    with contextlib.closing(sqlite3.connect(":memory:", isolation_level=None)) as memory:
        migrate(memory, target=version)
        return _schema_of(memory)


def _schema_of(connection: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """Each table and index, and each table's columns as SQLite parsed them (not the definitions' text,
    which ALTER TABLE rewrites differently from one SQLite version to the next)."""
    factory = connection.text_factory
    connection.text_factory = bytes  # a damaged name is a difference, not a decode error
    try:
        objects = connection.execute("SELECT type, name, tbl_name FROM sqlite_master ORDER BY type, name").fetchall()
        columns = [
            (name, connection.execute("SELECT * FROM pragma_table_info(?)", (name,)).fetchall())
            for kind, name, _ in objects
            if kind == b"table"
        ]
        return [*objects, *columns]
    finally:
        connection.text_factory = factory


def damage(connection: sqlite3.Connection, path: Path, writing: bool) -> str | None:
    """Why the database on this connection is damaged, or None when it is sound.

    Checks, in order: the schema's definitions are exactly the ones this version's migrations make;
    SQLite's integrity check (structure, and every index against its table); the book's checksum;
    every text decodes and every JSON value parses. Raises StorageError for what is not damage
    (locked, unreadable) and for a newer schema.
    """
    try:
        version = version_of(connection)
        if version > LATEST:
            raise newer_schema(path, version)
        if _schema_of(connection) != _schema(version):
            return "its table definitions are damaged"
        if connection.execute("PRAGMA integrity_check(1)").fetchone()[0] != "ok":
            return "its structure is damaged"
        if version >= 4 and checksum.verify(connection) is False:
            return "its rows do not match the checksum saved with them"
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for table in checksum.BOOK_TABLES:
            if table in tables:
                connection.execute(f"SELECT * FROM {table}").fetchall()  # every text decodes
        if "market_override" in tables:
            for (spec,) in connection.execute("SELECT spec FROM market_override"):
                json.loads(spec)
        if "setting" in tables:
            for (value,) in connection.execute("SELECT value FROM setting"):
                json.loads(value)
    except sqlite3.Error as e:
        if is_damage(e) or primary_code(e) is None:  # None: Python's own decode error on a damaged text
            return "it cannot be read"
        raise translate(e, path, writing) from e
    except UnicodeDecodeError:  # sqlite3 decoding an error message that quotes a damaged schema
        return "it cannot be read"
    except (ValueError, TypeError, RecursionError):  # JSON of a damaged row
        return "a row cannot be decoded"
    return None


def connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """A read-only connection that never writes the file: mode=ro, or immutable=1 where the folder is
    read-only and SQLite cannot make the -shm it needs (only when no -wal holds changes: immutable
    would not read them)."""
    uri = path.resolve().as_uri()
    try:
        connection = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=timeout, isolation_level=None)
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return connection
    except sqlite3.Error as e:
        if primary_code(e) not in (SQLITE_CANTOPEN, SQLITE_READONLY) or not path.is_file():
            raise
        wal = path.with_name(path.name + "-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise
        first = e
    try:
        connection = sqlite3.connect(f"{uri}?immutable=1", uri=True, timeout=timeout, isolation_level=None)
        connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        return connection
    except sqlite3.Error:
        raise first from None


def refuse_links(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.is_symlink():
            raise StorageError(
                f"{side} is a symbolic link; Margin Watch does not open a database through one (it could "
                f"point anywhere): remove the link, or {ELSEWHERE}"
            )
