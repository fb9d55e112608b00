"""Settings saved with the book (e.g. the alert thresholds): JSON values by key, part of the book's checksum."""

from __future__ import annotations

import json
from typing import Any

from engine.storage.connection import Connection

OVERRIDES_SETTING = "threshold_overrides"
"""The accounts' and positions' own thresholds (engine.book.thresholds.ThresholdOverrides.to_setting), written
with the book by BookDatabase (an override of an account or position the book no longer has is dropped)."""


class Settings(Connection):
    """The `setting` table: one JSON value per key."""

    def set_setting(self, key: str, value: Any) -> None:
        """Save value (anything json.dumps takes) under key, in one transaction. Raises StorageError."""
        with self.transaction(changes=("setting",)) as c:
            c.execute("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def setting(self, key: str, default: Any = None) -> Any:
        """The value saved under key, else default."""
        rows = self._read("SELECT value FROM setting WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default
