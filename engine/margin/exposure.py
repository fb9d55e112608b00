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
        """The notional at the entry price, in the settlement currency."""
        return self.nu * self.z_entry


def exposure(position: Position, market: MarketSpec) -> Exposure:
    """The position in z. Linear: PnL = s*size*(z - entry), notional = size*z with z = price. Inverse:
    PnL = s*size*(1/entry - z), notional = size*z with z = 1/price (coin-margined contracts: PnL in coin =
    USD size x (1/entry - 1/mark) for a long). s = +1 long, -1 short; size = contracts * contract_size.

    Raises ZeroDivisionError for an inverse position at entry 0 (the book rules refuse entry <= 0).
    """
    size = position.contracts * market.contract_size  # base units (linear) or USD (inverse)
    sign = position.side.sign
    entry = position.entry_price
    if market.inverse:
        return Exposure(-sign * size, sign * size / entry, size, 1.0 / entry)
    return Exposure(sign * size, -sign * size * entry, size, entry)


def initial_margin_at_entry(position: Position, market: MarketSpec) -> float:
    """The isolated margin a position gets when none is given: entry notional / leverage, settlement currency.

    Raises ZeroDivisionError at leverage 0 (the book rules refuse leverage <= 0)."""
    return exposure(position, market).entry_notional / position.leverage
