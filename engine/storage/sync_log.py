"""The log of syncs with the exchanges (engine.sync): each sync of an account, good or failed, and what it did.

A good sync saves the account's new book and its log entry in one transaction; a failed one writes its log
entry only, the book untouched. Closed positions stay in the log's summaries ("kept in history"). The log holds
no key, ever: summaries are built from the book's own fields and the failure's words.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from engine.book.portfolio import Portfolio
from engine.storage.connection import Connection


class SyncLog(Connection):
    """The `sync_log` table (schema step 5)."""

    def _write_book(self, c: sqlite3.Connection, portfolio: Portfolio, replace: bool) -> None:
        raise NotImplementedError  # BookDatabase's

    def save_synced_book(self, portfolio: Portfolio, account: str, at: float, summary: dict[str, Any]) -> None:
        """Replace the book by portfolio (a sync's outcome, checked by the book rules) and log the sync, in one
        transaction: both or neither. at: Unix seconds; summary: JSON-able. Raises StorageError."""
        with self.transaction() as c:
            self._write_book(c, portfolio, replace=True)
            c.execute(
                "INSERT INTO sync_log (at, account, ok, summary) VALUES (?, ?, 1, ?)",
                (at, account, json.dumps(summary, allow_nan=False)),
            )

    def log_synced(self, account: str, at: float, summary: dict[str, Any]) -> None:
        """Log a good sync whose book was saved by its own transaction (the window's). Raises StorageError."""
        with self.transaction(changes=()) as c:
            c.execute(
                "INSERT INTO sync_log (at, account, ok, summary) VALUES (?, ?, 1, ?)",
                (at, account, json.dumps(summary, allow_nan=False)),
            )

    def log_failed_sync(self, account: str, at: float, summary: dict[str, Any]) -> None:
        """Log a failed sync (the book is not touched). Raises StorageError."""
        with self.transaction(changes=()) as c:
            c.execute(
                "INSERT INTO sync_log (at, account, ok, summary) VALUES (?, ?, 0, ?)",
                (at, account, json.dumps(summary, allow_nan=False)),
            )

    def last_good_sync(self, account: str) -> float | None:
        """Unix time of the account's last good sync, or None when it never synced."""
        row = self._read("SELECT MAX(at) FROM sync_log WHERE account = ? AND ok = 1", (account,))
        return row[0][0] if row and row[0][0] is not None else None

    def sync_history(self, account: str, limit: int = 100) -> list[dict[str, Any]]:
        """The account's last syncs, newest first: {at, ok, summary} (summary as logged)."""
        rows = self._read(
            "SELECT at, ok, summary FROM sync_log WHERE account = ? ORDER BY at DESC, id DESC LIMIT ?", (account, limit)
        )
        return [{"at": at, "ok": bool(ok), "summary": json.loads(summary)} for at, ok, summary in rows]
