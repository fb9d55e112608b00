"""Manual prices saved with the book: a mark typed per (exchange, symbol), part of the book's checksum.

The portfolio file's 'prices' (keyed by symbol, for every exchange) are kept in the same table under
the exchange ANY_EXCHANGE, and come back in the book (BookDatabase.load), not here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.margin.model import PriceKey
from engine.storage.connection import Connection
from engine.storage.errors import StorageError

ANY_EXCHANGE = ""
"""The exchange of a manual price from the portfolio file's 'prices' (keyed by symbol: every exchange)."""


def is_mark(value: object) -> bool:
    """A usable mark price: a finite number greater than 0."""
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


class ManualPrices(Connection):
    """The `manual_price` table's typed prices."""

    def save_manual_prices(self, prices: Mapping[PriceKey, float | None]) -> None:
        """Set (a mark) or clear (None) the manual prices of these (exchange, symbol) keys in one transaction.

        Raises StorageError (nothing saved) for a mark that is not a finite number greater than 0.
        """
        if not all(mark is None or is_mark(mark) for mark in prices.values()):
            raise StorageError("a manual price must be a number greater than 0")
        with self.transaction(changes=("manual_price",)) as c:
            for (exchange, symbol), mark in prices.items():
                if mark is None:
                    c.execute("DELETE FROM manual_price WHERE exchange = ? AND symbol = ?", (exchange, symbol))
                else:
                    c.execute(
                        "INSERT OR REPLACE INTO manual_price (exchange, symbol, mark) VALUES (?, ?, ?)",
                        (exchange, symbol, float(mark)),
                    )

    def manual_prices(self) -> dict[PriceKey, float]:
        """The manual prices typed per (exchange, symbol) (the file's 'prices' are in the book)."""
        rows = self._read(
            "SELECT exchange, symbol, mark FROM manual_price WHERE exchange != ? ORDER BY rowid", (ANY_EXCHANGE,)
        )
        return {(exchange, symbol): mark for exchange, symbol, mark in rows}
