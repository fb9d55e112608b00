"""Settings saved with the book (e.g. the alert thresholds): JSON values by key, part of the book's checksum."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from engine.book.price_alert_rules import (
    PRICE_ALERTS_SETTING,
    PriceAlert,
    price_alerts_from_setting,
    price_alerts_to_list,
)
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

    def price_alerts(self) -> tuple[PriceAlert, ...]:
        """The price alerts saved with the book (engine.book.price_alert_rules; none when the saved value does
        not read)."""
        return price_alerts_from_setting(self.setting(PRICE_ALERTS_SETTING))

    def set_price_alerts(self, rules: Sequence[PriceAlert]) -> None:
        """Save the price alerts with the book, all of them in one transaction. Raises StorageError."""
        self.set_setting(PRICE_ALERTS_SETTING, price_alerts_to_list(rules))
