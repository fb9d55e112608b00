"""Small builders for engine tests: one-tier markets and books without a file."""

from __future__ import annotations

from engine.margin.model import Account, AccountType, Book, MarginMode, MarketSpec, Position, PositionMode, Side, Tier


def market(
    symbol: str,
    rate: float,
    amount: float = 0.0,
    *,
    contract_size: float = 1.0,
    inverse: bool = False,
    taker_fee: float = 0.0,
    max_leverage: float = 125.0,
) -> MarketSpec:
    return MarketSpec(
        symbol,
        (Tier(0.0, 1e15, rate, amount, max_leverage),),
        contract_size=contract_size,
        inverse=inverse,
        taker_fee=taker_fee,
        max_leverage=max_leverage,
    )


def book(
    exchange: str,
    wallet: float,
    positions: list[Position],
    markets: list[MarketSpec],
    mode: PositionMode = PositionMode.ONEWAY,
    account_type: AccountType = AccountType.UNIFIED,
) -> Book:
    currency = (markets and markets[0].settle_currency) or "USDT"
    return Book(
        (Account("acct", exchange, wallet, currency, mode, account_type),),
        tuple(positions),
        {(exchange, m.symbol): m for m in markets},
    )


def pos(
    symbol: str,
    side: Side,
    contracts: float,
    entry: float,
    mode: MarginMode = MarginMode.CROSS,
    leverage: float = 10.0,
    isolated_margin: float = 0.0,
) -> Position:
    return Position("acct", symbol, side, contracts, entry, mode, leverage, isolated_margin)
