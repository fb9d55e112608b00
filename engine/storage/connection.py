"""One open connection to the saved book: transactions, reads, and the book's checksum kept current.

A `Connection` is opened once (engine.storage.database.BookDatabase.open: checked, migrated,
repaired) and then used for every read and write of one window or one command, like qutebrowser's
misc/sql.py `Database`. Every write is a `transaction()`: BEGIN IMMEDIATE ... COMMIT, or nothing
at all. The book's checksum (engine.storage.checksum) is verified when the file is opened, not
again; a transaction that changes the book's tables rewrites it before COMMIT, re-reading only the
tables it names (and the small ones after them), unless another connection wrote the book
meanwhile (then every table). Errors come back as StorageError classified by SQLite's error code
(engine.storage.errors), never raw sqlite3 errors.

SQLite connections belong to one thread at a time: a thread that writes on its own (the history
writer, engine.storage.writer) takes its own `BookDatabase.sibling()`.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from engine.storage import checksum
from engine.storage.errors import DamagedBook, StorageError, primary_code, translate


@dataclass(frozen=True)
class OpenNotice:
    """What opening the database had to do that the user should hear about (shown once)."""

    moved_aside: Path | None = None
    message: str = ""


class Connection:
    """An open SQLite database of Margin Watch: `transaction()` to write, `_read` to read.

    path: the file (a read-only connection holds a copy in memory, never written); timeout: seconds
    a write waits for another program's lock before StorageError.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        notice: OpenNotice | None = None,
        read_only: bool = False,
        timeout: float = 2.0,
    ) -> None:
        self._connection = connection
        self.path = path
        self.notice = notice or OpenNotice()
        self.read_only = read_only
        """True: a copy in memory of the file, which is never written (see BookDatabase.open)."""
        self.timeout = timeout
        self._checksum = checksum.RunningChecksum()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self, changes: Collection[str] = checksum.BOOK_TABLES) -> Iterator[sqlite3.Connection]:
        """One user action: BEGIN IMMEDIATE ... COMMIT, or, when the block raises, ROLLBACK and nothing at all.

        changes: the book's tables (checksum.BOOK_TABLES) the block may change; the book's checksum
        is rewritten in the same transaction from them. Records outside the book (history, alerts)
        pass (). The default, every table, is always right, only slower.
        Raises StorageError (classified by error code; read-only: nothing is written) and whatever
        the block raises, after the rollback.
        """
        if self.read_only:
            raise StorageError(f"{self.path} was opened read-only; nothing was saved")
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise translate(e, self.path) from e
        try:
            if changes and checksum.stored_checksum(connection) != self._checksum.value:
                self._checksum.forget()  # another connection changed the book since our last write: read it all
            yield connection
            if changes:
                checksum.store_checksum(connection, self._checksum.refresh(connection, changes))
            connection.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise translate(e, self.path) from e
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        self._checksum.forget()  # it may hold the rows that were rolled back
        with contextlib.suppress(sqlite3.Error):
            self._connection.execute("ROLLBACK")

    def _read(self, sql: str, args: Sequence[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        """The rows of one query; StorageError (DamagedBook for a record that cannot be decoded)."""
        try:
            return self._connection.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            if primary_code(e) is None:  # Python's decode error: a damaged text in a record not checksummed
                raise DamagedBook(f"a record in {self.path} is damaged and cannot be read") from e
            raise translate(e, self.path, writing=False) from e
        except UnicodeDecodeError as e:
            raise DamagedBook(f"a record in {self.path} is damaged and cannot be read") from e
