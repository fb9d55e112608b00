"""A market's tick, lot and minimum order as an exchange lists them, with when they were read, and how they are
laid over a market's own.

Every ccxt exchange's market list (`load_markets`, a public call) carries each market's increments, also where
its tier tables need an API key (Binance): the feeds read them (engine.market.feeds.market_increments), the saved
book keeps them with their fetch time (engine.storage.fetched_increments), and engine.margin.market_choice lays
them over the market it resolves. Per field, the first known (> 0) of:

1. the portfolio file's `markets` entry (tick_size, lot_size, min_contracts);
2. what was fetched: the market list's increments and the fetched tier table's (both read from ccxt's markets;
   of the two, the one read last);
3. the bundled table's (resources/tiers: a few Binance symbols);

else 0, unknown ("tick unknown" in the what-if).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.margin.model import MarketSpec

INCREMENT_FIELDS = ("tick_size", "lot_size", "min_contracts")
"""The names of the three increments, alike on Increments and MarketSpec."""


@dataclass(frozen=True, slots=True)
class Increments:
    """tick_size: price increment (quote currency); lot_size: contracts increment; min_contracts: the smallest
    order (contracts); each 0 when unknown. fetched_at: when the exchange's market list gave them (Unix seconds),
    None when not said (read with a fetched tier table: its tiers_at then)."""

    tick_size: float = 0.0
    lot_size: float = 0.0
    min_contracts: float = 0.0
    fetched_at: float | None = None

    def known(self) -> bool:
        """True when any of the three is known (> 0)."""
        return self.tick_size > 0 or self.lot_size > 0 or self.min_contracts > 0


def with_listed_increments(market: MarketSpec, listed: Increments | None) -> MarketSpec:
    """market with the listed increments over its own (see the module docstring): each one the list knows (> 0)
    replaces the market's, unless the market's table was fetched after the list was read (a newer read of the
    same ccxt markets: its own known ones stay). A bundled or file market always takes them. The same object
    when nothing changes."""
    if listed is None or not listed.known():
        return market
    table_newer = market.tiers_from == "fetched" and (market.tiers_at or 0.0) > (listed.fetched_at or 0.0)
    changed = {}
    for name in INCREMENT_FIELDS:
        own, new = getattr(market, name), getattr(listed, name)
        if new > 0 and new != own and not (table_newer and own > 0):
            changed[name] = new
    return dataclasses.replace(market, **changed) if changed else market
