"""A position written in the solver's variable z (price for linear contracts, 1/price for inverse)."""

from __future__ import annotations

from dataclasses import dataclass

from engine.margin.model import MarketSpec, Position


@dataclass(frozen=True, slots=True)
class Exposure:
    """PnL = pnl_slope*z + pnl_offset and notional = nu*z, both in the settlement currency."""

    pnl_slope: float
    pnl_offset: float
    nu: float
    z_entry: float

    @property
    def entry_notional(self) -> float:
        return self.nu * self.z_entry


def exposure(position: Position, market: MarketSpec) -> Exposure:
    size = position.contracts * market.contract_size  # base units (linear) or USD (inverse)
    sign = position.side.sign
    entry = position.entry_price
    if market.inverse:
        return Exposure(-sign * size, sign * size / entry, size, 1.0 / entry)
    return Exposure(sign * size, -sign * size * entry, size, entry)


def initial_margin_at_entry(position: Position, market: MarketSpec) -> float:
    """The isolated margin a position gets when none is given: entry notional / leverage."""
    return exposure(position, market).entry_notional / position.leverage
