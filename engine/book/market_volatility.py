"""The `volatility` of a portfolio file's `markets` entry: the symbol's annualised volatility, typed by the user.

`"markets": {"DOGE/USDT:USDT": {"volatility": 1.2}}` (120% a year, a fraction as everywhere in the file) sets
the volatility the probability of liquidation uses for that symbol (engine.margin.liquidation_odds); it wins
over one computed from candles or the mark history. An entry may hold only `volatility` (no market override),
or sit beside the market's tiers; an 'exchange:symbol' key applies on that exchange only and wins over the
plain symbol, as for the tiers (engine.book.portfolio.market_key_symbol).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.book.document_reader import Reader
from engine.margin.model import PriceKey

MAX_VOLATILITY = 20.0
"""2,000% a year: far above any market's; a larger number is a typing slip (a percent typed as a fraction)."""


def read_volatility(reader: Reader, item: Mapping[str, Any], where: str) -> float | None:
    """The entry's `volatility` (None when absent), or a violation naming the field when it is not a number
    in (0, MAX_VOLATILITY]."""
    if "volatility" not in item:
        return None
    value = reader.number(item, "volatility", None, positive=True, prefix=f"{where}: ")
    if value is not None and value > MAX_VOLATILITY:
        reader.add(
            "volatility",
            None,
            f"{where}: 'volatility' is annualised, a fraction (0.8 = 80% a year): {value:g} is above "
            f"{MAX_VOLATILITY:g}",
        )
        return None
    return value


def volatilities_of(data: Mapping[str, Any]) -> dict[str, float]:
    """Market key -> volatility, of a document whose `markets` entries were read without a violation."""
    markets = data.get("markets")
    if not isinstance(markets, Mapping):
        return {}
    return {
        key: float(item["volatility"])
        for key, item in markets.items()
        if isinstance(item, Mapping) and "volatility" in item
    }


def volatility_for(volatilities: Mapping[str, float], key: PriceKey) -> float | None:
    """The typed volatility of an (exchange, symbol): the 'exchange:symbol' entry, else the symbol's, else None."""
    exchange, symbol = key
    found = volatilities.get(f"{exchange}:{symbol}")
    return found if found is not None else volatilities.get(symbol)
