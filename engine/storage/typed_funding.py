"""Funding rates typed in the window, saved with the book per (exchange, symbol) (the `typed_funding` table,
schema step 10): part of the book's checksum, like manual prices. A rate is a fraction per interval; the
interval NULL means the venue's (engine.book.typed_funding)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.book.funding_fields import FileFunding, interval_in_bounds, rate_in_bounds
from engine.margin.model import PriceKey
from engine.storage.connection import Connection
from engine.storage.errors import StorageError


def _usable(entry: FileFunding) -> bool:
    hours = entry.interval_hours
    return (
        math.isfinite(entry.rate)
        and rate_in_bounds(entry.rate)
        and (hours is None or (math.isfinite(hours) and interval_in_bounds(hours)))
    )


class TypedFundingRates(Connection):
    """The `typed_funding` table's rates."""

    def save_typed_funding(self, rates: Mapping[PriceKey, FileFunding | None]) -> None:
        """Set (a FileFunding: rate per interval, interval hours or None) or remove (None) the typed funding rate of
        these (exchange, symbol) keys, in one transaction. Raises StorageError (nothing saved) for a rate outside
        -1 < rate < 1 or an interval outside 1 minute <= interval <= 24 hours."""
        if not all(entry is None or _usable(entry) for entry in rates.values()):
            raise StorageError("a funding rate must be between -100% and 100% per interval of 1 minute to 24 hours")
        with self.transaction(changes=("typed_funding",)) as c:
            for (exchange, symbol), entry in rates.items():
                if entry is None:
                    c.execute("DELETE FROM typed_funding WHERE exchange = ? AND symbol = ?", (exchange, symbol))
                else:
                    c.execute(
                        "INSERT OR REPLACE INTO typed_funding (exchange, symbol, rate, interval_hours) "
                        "VALUES (?, ?, ?, ?)",
                        (exchange, symbol, float(entry.rate), entry.interval_hours),
                    )

    def typed_funding(self) -> dict[PriceKey, FileFunding]:
        """The funding rates typed per (exchange, symbol); a row outside today's bounds (an interval under a
        minute, saved before that bound existed) is left out, the window's Funding column then says none.
        Raises StorageError."""
        rows = self._read("SELECT exchange, symbol, rate, interval_hours FROM typed_funding ORDER BY rowid")
        entries = {(exchange, symbol): FileFunding(rate, hours) for exchange, symbol, rate, hours in rows}
        return {key: entry for key, entry in entries.items() if _usable(entry)}
