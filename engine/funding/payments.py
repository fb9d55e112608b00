"""What funding pays or costs a position: at the next funding and per day, signed, in the settlement currency.

payment = - side × notional at the mark × rate of one interval (engine.funding.rates cites each venue's
"funding fee = position value × funding rate" and "positive: longs pay shorts"). Signed for the trader:
positive = received, negative = paid. Notional in the account's settlement currency: linear contracts ×
contract size × mark (quote currency); inverse contracts × contract size / mark (coin, contract size in USD),
as Binance's COIN-M "contract multiplier × size / mark price".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.funding.rates import FundingRate
from engine.margin.model import MarketSpec, Position


def funding_notional(position: Position, market: MarketSpec, mark: float) -> float:
    """The position's value at the mark in the settlement currency (NaN when the mark is not a price > 0)."""
    if not (math.isfinite(mark) and mark > 0):
        return math.nan
    size = position.contracts * market.contract_size
    return size / mark if market.inverse else size * mark


@dataclass(frozen=True, slots=True)
class FundingPayment:
    """One position's funding at the current rate and mark, settlement currency, + received / - paid.

    next_payment: at the next funding; per_day: over 24 hours (next_payment × 24 / interval hours);
    next_time: Unix s of the next funding."""

    next_payment: float
    per_day: float
    next_time: float
    rate: FundingRate


def funding_payment(
    position: Position, market: MarketSpec, mark: float, rate: FundingRate, now: float
) -> FundingPayment:
    """The signed funding of a position (module docstring); NaN amounts when the mark is unknown."""
    paid_by_longs = funding_notional(position, market, mark) * rate.rate
    payment = -position.side.sign * paid_by_longs
    return FundingPayment(payment, payment * 24.0 / rate.interval_hours, rate.next_time(now), rate)
