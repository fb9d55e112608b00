"""Each market's tick, lot and minimum order as its exchange's public market list gave them, kept between runs:
what an offline start's what-if rounds to (engine.margin.listed_increments says how they are laid over a market).

One row per (exchange, symbol) in `fetched_increments` (schema step 11): the read time (Unix seconds) and the
three increments (0: unknown). A book saved before the step has none: the table starts empty and every market
keeps its fetched or bundled increments until a feed reads the market list. A cache, not the book: outside the
book's checksum, replaced by every read, and a row that cannot be read is skipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping

from engine.margin.listed_increments import Increments
from engine.margin.model import PriceKey
from engine.storage.connection import Connection

log = logging.getLogger(__name__)


class FetchedIncrements(Connection):
    """The `fetched_increments` table."""

    def save_fetched_increments(self, exchange: str, increments: Mapping[str, Increments]) -> None:
        """Store (replace) these symbols' increments on one exchange in one transaction (an unknown read time is
        stored as 0). Raises StorageError; a value that is not a finite number >= 0 is stored as 0 (unknown)."""
        rows = [
            (exchange, symbol, i.fetched_at or 0.0, _usable(i.tick_size), _usable(i.lot_size), _usable(i.min_contracts))
            for symbol, i in increments.items()
        ]
        with self.transaction(changes=()) as c:
            c.executemany(
                "INSERT OR REPLACE INTO fetched_increments "
                "(exchange, symbol, fetched_at, tick_size, lot_size, min_contracts) VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )

    def fetched_increments(self) -> dict[PriceKey, Increments]:
        """Every stored market list's increments by (exchange, symbol); a row that cannot be read is left out."""
        out: dict[PriceKey, Increments] = {}
        for exchange, symbol, at, tick, lot, minimum in self._read(
            "SELECT exchange, symbol, fetched_at, tick_size, lot_size, min_contracts FROM fetched_increments"
        ):
            try:
                out[(exchange, symbol)] = Increments(_usable(tick), _usable(lot), _usable(minimum), float(at))
            except (TypeError, ValueError) as e:
                log.warning("stored increments of %s on %s are unreadable (%s)", symbol, exchange, e)
        return out


def _usable(value: object) -> float:
    """value as a finite float >= 0, else 0 (unknown)."""
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    return number if math.isfinite(number) and number > 0 else 0.0
