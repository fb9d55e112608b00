"""The alert history stored with the book: each alert raised, newest first when read back.

Alerts are records, not the book: outside the book's checksum, a damaged one is refused when read
(StorageError), never a traceback.
"""

from __future__ import annotations

from typing import Any

from engine.storage.connection import Connection

ALERT_KEYS = ("at", "subject", "old", "new", "distance", "mark")


class AlertRecords(Connection):
    """The `alert` table."""

    def add_alert(
        self, at: float, subject: str, old: str, new: str, distance: float | None, mark: float | None
    ) -> None:
        """Store one alert: at (Unix seconds), its subject line, the old and new level's labels, the
        distance to liquidation (signed fraction of the mark) and the mark. Raises StorageError."""
        with self.transaction(changes=()) as c:
            c.execute(
                "INSERT INTO alert (at, subject, old_level, new_level, distance, mark) VALUES (?,?,?,?,?,?)",
                (at, subject, old, new, distance, mark),
            )

    def alerts(self, limit: int = 500) -> list[dict[str, Any]]:
        """The last `limit` alerts, newest first, as dicts with ALERT_KEYS."""
        rows = self._read(
            "SELECT at, subject, old_level, new_level, distance, mark FROM alert ORDER BY at DESC, id DESC LIMIT ?",
            (limit,),
        )
        return [dict(zip(ALERT_KEYS, row, strict=True)) for row in rows]
