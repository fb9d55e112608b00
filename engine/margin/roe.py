"""The base an exchange's position panel divides the unrealized PnL by to show ROE (engine.margin.rules.RoeBase)."""

from __future__ import annotations

from engine.margin.exposure import Exposure
from engine.margin.model import MarketSpec, Position
from engine.margin.rules import RoeBase, RuleProfile


def fixed_roe_base(e: Exposure, position: Position, market: MarketSpec, profile: RuleProfile) -> float | None:
    """The ROE denominator in the settlement currency when it does not move with the mark; None when it is
    the initial margin at the mark (Binance), which the caller takes from the current figures.

    Bybit's position margin adds the fee to close at the bankruptcy price (where the initial margin is
    gone): for a long, entry x (1 - 1/leverage), in the solver's variable z = price (linear) or 1/price
    (inverse), z_bankrupt = z_entry x (1 - s/leverage) with s the sign of the PnL's slope in z.
    """
    if profile.roe_base is RoeBase.MARK:
        return None
    initial = e.entry_notional / position.leverage
    if profile.roe_base is RoeBase.ENTRY:
        return initial
    s = 1.0 if e.pnl_slope > 0 else -1.0
    fee_to_close = e.nu * e.z_entry * (1 - s / position.leverage) * market.taker_fee
    return initial + fee_to_close
