"""Hourly candle closes cached with the book (the `candle` table): the volatility of the probability of
liquidation comes from them (engine.market.volatility). A cache, not the book: outside the book's checksum,
written in transactions of their own, safe to lose (the next fetch fills it again)."""

from __future__ import annotations

import numpy as np

from engine.margin.model import PriceKey
from engine.market.volatility import Series
from engine.storage.connection import Connection
from engine.storage.errors import StorageError


class CandleRecords(Connection):
    """The `candle` table: per (exchange, symbol), hour (Unix seconds / 3600) -> close, and when it was fetched."""

    def save_candles(self, key: PriceKey, series: Series, fetched_at: float) -> None:
        """Store (or replace) the closes of these hours for one (exchange, symbol), in one transaction.

        series: (hours, closes) as engine.market.volatility.hourly_series gives; fetched_at: Unix seconds.
        Raises StorageError (nothing saved) for a close that is not a finite number > 0."""
        hours, closes = series
        if not np.all(np.isfinite(closes) & (closes > 0)):
            raise StorageError("a candle's close must be a number greater than 0")
        rows = [(key[0], key[1], int(h), float(c), fetched_at) for h, c in zip(hours, closes, strict=True)]
        with self.transaction(changes=()) as c:
            c.executemany(
                "INSERT OR REPLACE INTO candle (exchange, symbol, hour, close, fetched_at) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def candles(self, key: PriceKey, since_hour: int = 0) -> Series:
        """The cached closes of one (exchange, symbol) from `since_hour` on, oldest first (empty arrays: none).
        Raises StorageError."""
        rows = self._read(
            "SELECT hour, close FROM candle WHERE exchange = ? AND symbol = ? AND hour >= ? ORDER BY hour",
            (key[0], key[1], since_hour),
        )
        return np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=float)

    def candles_fetched_at(self, keys: list[PriceKey]) -> dict[PriceKey, float]:
        """When the newest cached candles of each of these (exchange, symbol) were fetched (Unix seconds); keys
        with none are left out. Raises StorageError."""
        fetched: dict[PriceKey, float] = {}
        for key in keys:
            rows = self._read("SELECT MAX(fetched_at) FROM candle WHERE exchange = ? AND symbol = ?", key)
            if rows and rows[0][0] is not None:
                fetched[key] = float(rows[0][0])
        return fetched

    def forget_candles_before(self, hour: int) -> int:
        """Drop the cached closes older than `hour` (all symbols); returns how many. Raises StorageError."""
        with self.transaction(changes=()) as c:
            return c.execute("DELETE FROM candle WHERE hour < ?", (hour,)).rowcount
