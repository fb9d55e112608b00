"""A ccxt market's increments as MarketSpec keeps them: tick size, lot size and minimum order, 0 when unknown.

ccxt reports `precision.price` and `precision.amount` in the exchange's precisionMode (ccxt manual, "Precision
and Limits"): TICK_SIZE gives the increments themselves (0.1 = a 0.1 tick); DECIMAL_PLACES gives a number of
decimals (1 = a 0.1 tick), turned into the increment by ccxt's own parse_precision; SIGNIFICANT_DIGITS gives no
fixed increment: unknown. ccxt 4.5 reports TICK_SIZE for every exchange this app reads; the others are read as
ccxt defines them rather than guessed. `limits.amount.min` is the smallest order, in contracts. Hyperliquid
allows five significant figures in a price: ccxt gives the tick that rule gives at the price when the markets
were loaded (hyperliquid.calculate_price_precision), so it holds near that price. listed_increments reads them for
a feed's symbols (and every contract the exchange lists, traded_contracts) from the market list alone, with their
read time: public on every exchange, so they are known where the tier tables need an API key (Binance).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.margin.listed_increments import Increments

__all__ = ["Increments", "listed_increments", "market_increments", "traded_contracts"]


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


def listed_increments(exchange: Any, symbols: Sequence[str], fetched_at: float) -> dict[str, Increments]:
    """symbol -> the increments of each of these symbols the loaded exchange lists (exchange.markets, from its
    public load_markets; no API key), read at fetched_at (Unix seconds). A symbol it does not list, or whose
    increments are all unknown, is left out. Never raises for what the markets hold."""
    markets = getattr(exchange, "markets", None) or {}
    out: dict[str, Increments] = {}
    for symbol in symbols:
        market = markets.get(symbol)
        if isinstance(market, Mapping):
            steps = market_increments(exchange, market)
            if steps.known():
                out[symbol] = Increments(steps.tick_size, steps.lot_size, steps.min_contracts, fetched_at)
    return out


def traded_contracts(exchange: Any) -> list[str]:
    """The symbols of the perpetual and dated futures markets the loaded exchange lists (ccxt `swap`, `future`;
    not spot, not options): the markets a book or a what-if trade can name."""
    markets = getattr(exchange, "markets", None) or {}
    return [s for s, m in markets.items() if isinstance(m, Mapping) and (m.get("swap") or m.get("future"))]


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
