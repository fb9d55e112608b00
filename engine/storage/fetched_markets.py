"""Tier tables fetched from the exchanges, kept between runs: what an offline start uses, with its age.

One row per (exchange, symbol) in `fetched_market` (schema step 5): the fetch time (Unix seconds), the source
in words, and the market as JSON (contract size, inverse, taker fee, max leverage, tick size, lot size, minimum
order, tiers). A row written before the increments were kept has none: they read as 0, unknown (the JSON needed
no schema step). A cache, not the book: outside the book's checksum, replaced by every fetch, and a row that
cannot be read is skipped (the bundled table then applies) rather than refusing the book.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from typing import Any

from engine.margin.model import MarketSpec, PriceKey, Tier
from engine.margin.tiers import TierTableError, check_tiers
from engine.storage.connection import Connection

log = logging.getLogger(__name__)


def market_to_json(market: MarketSpec) -> str:
    """The stored JSON of a fetched market (an infinite cap is written as null)."""
    return json.dumps(
        {
            "contract_size": market.contract_size,
            "inverse": market.inverse,
            "taker_fee": market.taker_fee,
            "max_leverage": market.max_leverage,
            "tick_size": market.tick_size,
            "lot_size": market.lot_size,
            "min_contracts": market.min_contracts,
            "tiers": [
                (
                    t.min_notional,
                    t.max_notional if math.isfinite(t.max_notional) else None,
                    t.maintenance_margin_rate,
                    t.maintenance_amount,
                    t.max_leverage,
                )
                for t in market.tiers
            ],
        }
    )


def market_from_json(symbol: str, spec: str, fetched_at: float, source: str) -> MarketSpec:
    """The market of a stored row. Raises ValueError (TierTableError, a JSON error) or KeyError/TypeError."""
    data: Any = json.loads(spec)
    tiers = [
        Tier(float(a), math.inf if b is None else float(b), float(r), float(m), float(x))
        for a, b, r, m, x in data["tiers"]
    ]
    return MarketSpec(
        symbol=symbol,
        tiers=check_tiers(tiers, f"stored {symbol}"),
        contract_size=float(data["contract_size"]),
        inverse=bool(data["inverse"]),
        taker_fee=float(data["taker_fee"]),
        max_leverage=float(data["max_leverage"]),
        source=source,
        tiers_from="fetched",
        tiers_at=float(fetched_at),
        # Rows stored before the increments were kept have none: 0, unknown.
        tick_size=_increment(data, "tick_size"),
        lot_size=_increment(data, "lot_size"),
        min_contracts=_increment(data, "min_contracts"),
    )


def _increment(data: Any, key: str) -> float:
    """A stored increment; 0 (unknown) when the row has none or holds no positive finite number."""
    value = data.get(key, 0.0)
    number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


class FetchedMarkets(Connection):
    """The `fetched_market` table."""

    def save_fetched_markets(self, exchange: str, markets: Mapping[str, MarketSpec]) -> None:
        """Store (replace) these fetched markets of one exchange in one transaction. Raises StorageError."""
        rows = [(exchange, symbol, m.tiers_at or 0.0, m.source, market_to_json(m)) for symbol, m in markets.items()]
        with self.transaction(changes=()) as c:
            c.executemany(
                "INSERT OR REPLACE INTO fetched_market (exchange, symbol, fetched_at, source, spec) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def fetched_markets(self) -> dict[PriceKey, MarketSpec]:
        """Every stored fetched market by (exchange, symbol); a row that cannot be read is left out (logged)."""
        out: dict[PriceKey, MarketSpec] = {}
        for exchange, symbol, at, source, spec in self._read(
            "SELECT exchange, symbol, fetched_at, source, spec FROM fetched_market"
        ):
            try:
                out[(exchange, symbol)] = market_from_json(symbol, spec, at, source)
            except (ValueError, KeyError, TypeError, TierTableError) as e:
                log.warning(
                    "stored tiers of %s on %s are unreadable (%s); the bundled table applies", symbol, exchange, e
                )
        return out
