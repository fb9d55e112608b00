"""A ccxt market's increments as MarketSpec keeps them: tick size, lot size and minimum order, 0 when unknown.

ccxt reports `precision.price` and `precision.amount` in the exchange's precisionMode (ccxt manual, "Precision
and Limits"): TICK_SIZE gives the increments themselves (0.1 = a 0.1 tick); DECIMAL_PLACES gives a number of
decimals (1 = a 0.1 tick), turned into the increment by ccxt's own parse_precision; SIGNIFICANT_DIGITS gives no
fixed increment: unknown. ccxt 4.5 reports TICK_SIZE for every exchange this app reads; the others are read as
ccxt defines them rather than guessed. `limits.amount.min` is the smallest order, in contracts. Hyperliquid
allows five significant figures in a price: ccxt gives the tick that rule gives at the price when the markets
were loaded (hyperliquid.calculate_price_precision), so it holds near that price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Increments:
    """tick_size: price increment (quote currency); lot_size: contracts increment; min_contracts: the smallest
    order (contracts); each 0 when unknown."""

    tick_size: float = 0.0
    lot_size: float = 0.0
    min_contracts: float = 0.0


def market_increments(exchange: Any, market: Mapping[str, Any]) -> Increments:
    """The increments of one ccxt market (exchange.markets[symbol]) on a ccxt exchange (for its precisionMode and
    parse_precision). Never raises for what the market holds: a value it cannot read is 0 (unknown)."""
    precision = market.get("precision") or {}
    amount_limits = (market.get("limits") or {}).get("amount") or {}
    return Increments(
        tick_size=_increment(exchange, precision.get("price")),
        lot_size=_increment(exchange, precision.get("amount")),
        min_contracts=_positive(amount_limits.get("min")),
    )


def _increment(exchange: Any, value: Any) -> float:
    import ccxt

    if value is None or isinstance(value, bool):
        return 0.0
    mode = getattr(exchange, "precisionMode", ccxt.TICK_SIZE)
    if mode == ccxt.TICK_SIZE:
        return _positive(value)
    if mode == ccxt.DECIMAL_PLACES:
        try:
            return _positive(exchange.parse_precision(str(int(value))))
        except (TypeError, ValueError):
            return 0.0
    return 0.0  # SIGNIFICANT_DIGITS: no fixed increment


def _positive(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0
