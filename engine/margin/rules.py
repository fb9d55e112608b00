"""Exchange rule profiles: how each exchange parameterises the one liquidation equation.

Liquidation happens where the collateral backing a position (its equity) falls to the maintenance
margin, judged at the mark price. The exchanges agree on that equation and differ only in how the
maintenance margin is measured; those differences are the parameters below, never a separate
formula per exchange.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.margin.model import Account, AccountType, MarginMode, MarketSpec, Tier, base_currency_of


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
    cross_basis: MaintenanceBasis = MaintenanceBasis.MARK
    """Bybit classic accounts take a cross position's maintenance margin at entry too."""
    inverse_isolated_basis: MaintenanceBasis | None = None
    """An isolated inverse position's basis where it differs from isolated_basis (Bybit unified: at the mark)."""
    taker_fee_in_maintenance: bool = False
    """The taker fee (the cost of closing) is added to the maintenance rate: OKX, Gate, KuCoin, Bitget, Phemex,
    MEXC. On an entry basis the fee still moves with the mark (it is paid on the closing value)."""
    taker_fee_in_inverse_maintenance: bool = False
    """Bybit classic: the fee to close is added on inverse contracts only."""
    maintenance_share_of_max_leverage_margin: float | None = None
    """Hyperliquid: maintenance margin = this share (1/2) of the initial margin at the tier's max leverage."""
    rate_per_base_unit: tuple[tuple[str, float], ...] = ()
    """Deribit (linear perpetuals): (base currency, rate added per unit of position size in that currency):
    the maintenance rate is the tier's rate + position size x this (engine.margin.layout applies it per leg)."""
    estimate: bool = False
    """True for exchanges without a profile of their own: numbers are labelled as an estimate."""
    roe_base: RoeBase = RoeBase.ENTRY

    def basis(self, margin_mode: MarginMode, inverse: bool = False) -> MaintenanceBasis:
        """The maintenance basis of a position in this margin mode, on a linear or an inverse contract."""
        if margin_mode is not MarginMode.ISOLATED:
            return self.cross_basis
        if inverse and self.inverse_isolated_basis is not None:
            return self.inverse_isolated_basis
        return self.isolated_basis

    def adds_fee(self, market: MarketSpec) -> bool:
        """Whether the maintenance margin on this market includes the taker fee (the cost of closing)."""
        return self.taker_fee_in_maintenance or (self.taker_fee_in_inverse_maintenance and market.inverse)

    def fee_rate(self, market: MarketSpec) -> float:
        """The fee added to the maintenance rate on this market: its taker fee where adds_fee, else 0."""
        return market.taker_fee if self.adds_fee(market) else 0.0

    def size_rate(self, market: MarketSpec) -> float:
        """The rate added per unit of linear position size in the base currency (0 for inverse contracts,
        and for bases the profile's page gives no increment for)."""
        if market.inverse or not self.rate_per_base_unit:
            return 0.0
        return dict(self.rate_per_base_unit).get(base_currency_of(market.symbol), 0.0)

    def effective_rate(self, tier: Tier, market: MarketSpec, *, with_fee: bool = True) -> float:
        """The rate applied to the notional in this tier, fee included where the exchange adds it (with_fee).

        A fraction of the notional. Hyperliquid: share / max leverage (the tier's, else the market's);
        fee-adding exchanges: tier rate + taker fee.
        Raises ValueError when the rate comes from max leverage and neither the tier nor the market has one.
        """
        if self.maintenance_share_of_max_leverage_margin is not None:
            max_leverage = tier.max_leverage or market.max_leverage
            if not max_leverage > 0:
                raise ValueError(f"{self.title} derives maintenance from max leverage: give 'max_leverage'")
            rate = self.maintenance_share_of_max_leverage_margin / max_leverage
        else:
            rate = tier.maintenance_margin_rate
        if with_fee and self.adds_fee(market):
            rate += market.taker_fee
        return rate


ENTRY, MARK = MaintenanceBasis.ENTRY, MaintenanceBasis.MARK

PROFILES: dict[str, RuleProfile] = {
    p.exchange: p
    for p in (
        RuleProfile("binanceusdm", "Binance USD-M", roe_base=RoeBase.MARK),
        RuleProfile("binancecoinm", "Binance COIN-M", roe_base=RoeBase.MARK),
        # Unified Trading Account: help centre "Liquidation Price Calculation under Isolated Mode (Unified Trading
        # Account)". Its revision of 2026-05-27 (read 2026-12-01) gives inverse contracts
        # LP (long) = size x (MMR + 1) / [size / entry + size / entry / leverage + extra / (1 + fee) + deduction]:
        # maintenance at the mark (position value = quantity / mark price); 60,000 USD long @ 50,000, 10x,
        # 0.5% -> 45,681.82. Its USDT section could not be read: linear isolated positions follow the 2024-09-10
        # version, LP = entry -/+ (IM - MM) / quantity with MM at entry (19,700 / 9,850 / 8,160). Cross: "Trading
        # Rules: Liquidation Process (Unified Trading Account)": liquidation when the account MM rate reaches
        # 100%, MM at the mark.
        RuleProfile(
            "bybit",
            "Bybit",
            isolated_basis=ENTRY,
            inverse_isolated_basis=MARK,
            roe_base=RoeBase.ENTRY_PLUS_CLOSE_FEE,
        ),
        RuleProfile("okx", "OKX", taker_fee_in_maintenance=True),
        RuleProfile("gate", "Gate", taker_fee_in_maintenance=True),
        RuleProfile("hyperliquid", "Hyperliquid", maintenance_share_of_max_leverage_margin=0.5),
        # KuCoin, announcement "Important: Update to the Isolated Margin Calculation Formula" (2025-05-20, in
        # force 2025-05-22) and its supplemental notice (2025-05-29), read 2026-12-01: maintenance = mark x size x
        # multiplier x (MMR + liquidation fee rate) ("Entry Price is replaced with Mark Price"); cross, help
        # centre "Risk Rate of Cross Margin Mode": (maintenance at the mark + expected closing fees at the taker
        # rate) / margin. The market's taker fee stands for the liquidation fee rate (KuCoin lists it per contract).
        RuleProfile("kucoinfutures", "KuCoin Futures", taker_fee_in_maintenance=True),
        # Bitget, "Bitget futures: Estimated liquidation price" (2025-09-18), read 2026-12-01: isolated
        # LP = (margin - size x entry x dir) / (size x (MMR + TakerFeeRatio - dir)): maintenance at the mark, fee in.
        RuleProfile("bitget", "Bitget", taker_fee_in_maintenance=True),
        # Phemex, help centre "Liquidation price for USDT-M" (liq-price-for-USDTM), read 2026-12-01: isolated long
        # LP = (OpenValue - assignedPosBalance - mmAmount) / (1 - takerFee - MMR) / size: the fee at the mark.
        RuleProfile("phemex", "Phemex", taker_fee_in_maintenance=True),
        # MEXC, blog.mexc.fm "Liquidation in Futures" (maintenance = entry x size x MMR; 0.1 BTC @ 50,000, 25x,
        # 0.4% -> 48,200, commission excluded) and announcement "About Liquidation" (position margin + uPnL <=
        # maintenance margin + liquidation fees), read 2026-12-01: maintenance at entry, the fee at the mark.
        RuleProfile("mexc", "MEXC", isolated_basis=ENTRY, cross_basis=ENTRY, taker_fee_in_maintenance=True),
        # Deribit, support "Linear Perpetual" (standard margin), read 2026-12-01: maintenance rate = 1% + size in
        # BTC x 0.005% (BTC_USDC), 2% + size in SOL x 0.0005% (SOL_USDC); the base rate is the market's tier.
        RuleProfile("deribit", "Deribit", rate_per_base_unit=(("BTC", 0.00005), ("SOL", 0.000005))),
    )
}

CLASSIC_PROFILES: dict[str, RuleProfile] = {
    # Bybit classic account, help centre "Liquidation Price (USDT Contract)" (help.bybit.com article 900000181046)
    # and "How to calculate Liquidation Price (Inverse Contract)" (article 360039261334), read 2026-12-01: cross
    # as isolated, the maintenance margin is taken at the entry value (cross example 1: 2 BTC long @ 10,000,
    # 100x, available 2,000 -> 8,950); inverse contracts add the fee to close.
    "bybit": RuleProfile(
        "bybit",
        "Bybit (classic account)",
        isolated_basis=ENTRY,
        cross_basis=ENTRY,
        taker_fee_in_inverse_maintenance=True,
        roe_base=RoeBase.ENTRY_PLUS_CLOSE_FEE,
    ),
}

ACCOUNT_TYPE_EXCHANGES = frozenset(CLASSIC_PROFILES)
"""The exchanges with a classic account type of their own (any other exchange's accounts are 'unified')."""


def profile_for(exchange: str, account_type: AccountType = AccountType.UNIFIED) -> RuleProfile:
    """The exchange's own profile (its classic-account one where it has one and the account is classic), or
    the generic one (labelled an estimate) for any other exchange."""
    if account_type is AccountType.CLASSIC and exchange in CLASSIC_PROFILES:
        return CLASSIC_PROFILES[exchange]
    profile = PROFILES.get(exchange)
    if profile is not None:
        return profile
    return RuleProfile(exchange, f"{exchange} (generic estimate)", estimate=True)


def profile_of(account: Account) -> RuleProfile:
    """The profile an account's positions are judged by: its exchange's, for its account type."""
    return profile_for(account.exchange, account.account_type)


def exchange_label(account: Account) -> str:
    """The account's exchange as a table row shows it: 'bybit', 'bybit (classic)', 'kraken (estimate)' (the
    generic profile's figures are an estimate, and every row that shows them says so)."""
    if profile_of(account).estimate:
        return f"{account.exchange} (estimate)"
    if account.account_type is not AccountType.UNIFIED:
        return f"{account.exchange} ({account.account_type.value})"
    return account.exchange
