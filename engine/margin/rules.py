"""Exchange rule profiles: how each exchange parameterises the one liquidation equation.

Liquidation happens where the collateral backing a position (its equity) falls to the maintenance
margin, judged at the mark price. The exchanges agree on that equation and differ only in how the
maintenance margin is measured; those differences are the parameters below, never a separate
formula per exchange.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.margin.model import MarginMode, MarketSpec, Tier


class MaintenanceBasis(StrEnum):
    """Which notional the maintenance margin is taken on: at the mark (moves, may change tier) or at entry.

    Bybit takes an isolated position's maintenance margin at entry: LP = entry -/+ (IM - MM) / size
    (Bybit help centre "Liquidation Price (USDT Contract)"; its worked examples are in
    tests/engine/test_published_examples.py)."""

    MARK = "mark"  # maintenance margin moves with the mark (and may change tier with it)
    ENTRY = "entry"  # maintenance margin fixed at the entry notional


class RoeBase(StrEnum):
    """What an exchange's position panel divides the unrealized PnL by to show ROE (ROI%)."""

    MARK = "mark"
    """Initial margin at the mark price (notional at the mark / leverage): Binance, "A Beginner's Guide to
    Futures Trading" (ROI% = uPnL / (amount x multiplier x mark x IMR)), read 2026-11-30."""
    ENTRY_PLUS_CLOSE_FEE = "entry+fee"
    """Position margin = initial margin at entry + the fee to close at the bankruptcy price: Bybit, "Profit
    and Loss calculations (USDT Contract)" (0.2 BTC long @ 7,000, 10x, price 7,500, taker 0.055%: 100 /
    (140 + 0.693) = 71.07%), read 2026-11-30."""
    ENTRY = "entry"
    """Initial margin at entry (entry notional / leverage): the generic base, for the exchanges whose panel
    we have not verified."""


@dataclass(frozen=True, slots=True)
class RuleProfile:
    """How one exchange parameterises the one liquidation equation (see the module docstring).

    exchange: ccxt exchange id; title: what the window shows. The fields below are the only differences
    between exchanges; profile_for gives each exchange its own, or a generic one marked estimate.
    effective_rate raises ValueError when a Hyperliquid-style profile meets a tier without max leverage.
    """

    exchange: str
    title: str
    isolated_basis: MaintenanceBasis = MaintenanceBasis.MARK
    taker_fee_in_maintenance: bool = False
    """OKX and Gate add the taker fee (the cost of closing) to the maintenance rate."""
    maintenance_share_of_max_leverage_margin: float | None = None
    """Hyperliquid: maintenance margin = this share (1/2) of the initial margin at the tier's max leverage."""
    estimate: bool = False
    """True for exchanges without a profile of their own: numbers are labelled as an estimate."""
    roe_base: RoeBase = RoeBase.ENTRY

    def basis(self, margin_mode: MarginMode) -> MaintenanceBasis:
        """The maintenance basis of a position in this margin mode (cross is always at the mark)."""
        return self.isolated_basis if margin_mode is MarginMode.ISOLATED else MaintenanceBasis.MARK

    def effective_rate(self, tier: Tier, market: MarketSpec) -> float:
        """The rate applied to the notional in this tier, fee included where the exchange adds it.

        A fraction of the notional. Hyperliquid: share / max leverage (the tier's, else the market's);
        OKX and Gate: tier rate + taker fee.
        Raises ValueError when the rate comes from max leverage and neither the tier nor the market has one.
        """
        if self.maintenance_share_of_max_leverage_margin is not None:
            max_leverage = tier.max_leverage or market.max_leverage
            if not max_leverage > 0:
                raise ValueError(f"{self.title} derives maintenance from max leverage: give 'max_leverage'")
            rate = self.maintenance_share_of_max_leverage_margin / max_leverage
        else:
            rate = tier.maintenance_margin_rate
        if self.taker_fee_in_maintenance:
            rate += market.taker_fee
        return rate


PROFILES: dict[str, RuleProfile] = {
    p.exchange: p
    for p in (
        RuleProfile("binanceusdm", "Binance USD-M", roe_base=RoeBase.MARK),
        RuleProfile("binancecoinm", "Binance COIN-M", roe_base=RoeBase.MARK),
        RuleProfile("bybit", "Bybit", isolated_basis=MaintenanceBasis.ENTRY, roe_base=RoeBase.ENTRY_PLUS_CLOSE_FEE),
        RuleProfile("okx", "OKX", taker_fee_in_maintenance=True),
        RuleProfile("gate", "Gate", taker_fee_in_maintenance=True),
        RuleProfile("hyperliquid", "Hyperliquid", maintenance_share_of_max_leverage_margin=0.5),
    )
}


def profile_for(exchange: str) -> RuleProfile:
    """The exchange's own profile, or the generic one (labelled an estimate) for any other exchange."""
    profile = PROFILES.get(exchange)
    if profile is not None:
        return profile
    return RuleProfile(exchange, f"{exchange} (generic estimate)", estimate=True)
