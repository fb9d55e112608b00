"""Hypothesis strategies for random books: every profile, cross and isolated, hedge, inverse, tiered."""

from __future__ import annotations

from hypothesis import strategies as st

from engine.margin.exposure import initial_margin_at_entry
from engine.margin.model import (
    Account,
    AccountType,
    Book,
    MarginMode,
    MarketSpec,
    Position,
    PositionMode,
    Side,
    Tier,
)

EXCHANGES = [
    "binanceusdm",
    "binancecoinm",
    "bybit",
    "okx",
    "gate",
    "hyperliquid",
    "kucoinfutures",
    "bitget",
    "phemex",
    "mexc",
    "deribit",
    "kraken",
]


@st.composite
def tier_tables(draw, continuous: bool | None = None) -> tuple[Tier, ...]:
    """Rising rates over rising notional bands; maintenance amounts continuous (Binance) or zero (OKX)."""
    n = draw(st.integers(1, 6))
    caps = sorted(draw(st.lists(st.floats(1e3, 1e8), min_size=n - 1, max_size=n - 1, unique=True)))
    rates = sorted(draw(st.lists(st.floats(0.001, 0.3), min_size=n, max_size=n)))
    if continuous is None:
        continuous = draw(st.booleans())
    bounds = [0.0, *caps, 1e15]
    tiers, amount = [], 0.0
    for k in range(n):
        if continuous and k:
            amount += bounds[k] * (rates[k] - rates[k - 1])
        tiers.append(Tier(bounds[k], bounds[k + 1], rates[k], amount if continuous else 0.0, 125.0 / (k + 1)))
    return tuple(tiers)


@st.composite
def books(draw, max_positions: int = 8, continuous: bool | None = None):
    """A random book and marks for it: (Book, {(exchange, symbol): mark})."""
    n_accounts = draw(st.integers(1, 3))
    accounts = []
    for a in range(n_accounts):
        exchange = draw(st.sampled_from(EXCHANGES))
        mode = draw(st.sampled_from(list(PositionMode)))
        # Bybit's classic accounts take cross maintenance at entry and add the fee to close on inverse contracts.
        kind = draw(st.sampled_from(list(AccountType))) if exchange == "bybit" else AccountType.UNIFIED
        accounts.append(Account(f"a{a}", exchange, 0.0, "USDT", mode, kind))
    # BTC: Deribit's maintenance rate grows with the position's size in BTC (RuleProfile.rate_per_base_unit).
    symbols = [f"S{i}/USDT:USDT" for i in range(3)] + ["BTC/USDT:USDT", "C0/USD:C0"]
    markets = {}
    prices = {}
    positions = []
    n_positions = draw(st.integers(1, max_positions))
    for _ in range(n_positions):
        account = draw(st.sampled_from(accounts))
        symbol = draw(st.sampled_from(symbols))
        key = (account.exchange, symbol)
        if key not in markets:
            inverse = symbol.startswith("C")
            markets[key] = MarketSpec(
                symbol,
                draw(tier_tables(continuous)),
                contract_size=100.0 if inverse else draw(st.sampled_from([1.0, 0.01, 10.0])),
                inverse=inverse,
                taker_fee=draw(st.sampled_from([0.0, 0.0005, 0.00075])),
                max_leverage=125.0,
            )
            prices[key] = draw(st.floats(1.0, 1e5))
        spec = markets[key]
        mark = prices[key]
        side = draw(st.sampled_from(list(Side)))
        if account.position_mode is PositionMode.ONEWAY:
            held = [p.side for p in positions if p.account == account.name and p.symbol == symbol]
            if held:
                side = held[0]
        entry = mark * draw(st.floats(0.7, 1.3))
        mode = draw(st.sampled_from(list(MarginMode)))
        leverage = draw(st.floats(1.0, 100.0))
        contracts = draw(st.floats(0.01, 1e3)) * (100.0 if spec.inverse else 1.0)
        position = Position(account.name, symbol, side, contracts, entry, mode, leverage)
        if mode is MarginMode.ISOLATED:
            im = initial_margin_at_entry(position, spec)
            position = Position(
                account.name, symbol, side, contracts, entry, mode, leverage, im * draw(st.floats(1.0, 3.0))
            )
        positions.append(position)
    # Give every account a wallet that covers its isolated margins and some of its cross risk.
    funded = []
    for account in accounts:
        locked = sum(p.isolated_margin for p in positions if p.account == account.name)
        funded.append(
            Account(
                account.name,
                account.exchange,
                locked + draw(st.floats(0.0, 1e5)),
                account.currency,
                account.position_mode,
                account.account_type,
            )
        )
    return Book(tuple(funded), tuple(positions), markets), prices
