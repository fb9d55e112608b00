"""Taker fees and break-even prices against the venues' published fee examples (sources in engine/funding/fees.py)."""

from __future__ import annotations

import pytest

from engine.funding.fees import break_even_price, taker_fee, trade_fee
from engine.margin.model import Side
from tests.engine.books import market, pos

LINEAR = market("BTC/USDT:USDT", 0.005)


def test_bybit_usdt_perpetual_fee_example():
    """Bybit: 10 BTC at 8,000 USDT, non-VIP taker 0.055% -> 44 USDT."""
    fee = taker_fee("bybit", LINEAR)
    assert fee.rate == 0.00055 and "not your own tier" in fee.source
    assert trade_fee(10, LINEAR, 8_000, fee.rate) == pytest.approx(44)


def test_bybit_inverse_fee_example():
    """Bybit inverse: 10,000 BTCUSD contracts (1 USD each) at 8,000 -> (10,000 / 8,000) × 0.055% = 0.0006875 BTC."""
    inverse = market("BTC/USD:BTC", 0.005, contract_size=1, inverse=True)
    assert trade_fee(10_000, inverse, 8_000, 0.00055) == pytest.approx(0.0006875)


def test_okx_fee_examples():
    """OKX tier 1 taker 0.05%: USDT-margined 100 contracts of 0.01 BTC at 10,000 -> 5 USDT; coin-margined 100
    contracts of 100 USD at 10,000 -> 0.0005 BTC."""
    rate = taker_fee("okx", LINEAR).rate
    assert rate == 0.0005
    assert trade_fee(100, market("BTC/USDT:USDT", 0.004, contract_size=0.01), 10_000, rate) == pytest.approx(5)
    coin = market("BTC/USD:BTC", 0.004, contract_size=100, inverse=True)
    assert trade_fee(100, coin, 10_000, rate) == pytest.approx(0.0005)


def test_binance_round_trip_example_and_the_market_fee_first():
    """Binance regular taker 0.05%: a 1,000 USDT position costs 0.5 USDT to open and 0.5 to close."""
    rate = taker_fee("binanceusdm", LINEAR).rate
    assert trade_fee(0.02, LINEAR, 50_000, rate) == pytest.approx(0.5)
    own = market("BTC/USDT:USDT", 0.005, taker_fee=0.0004)
    assert taker_fee("binanceusdm", own).rate == 0.0004 and taker_fee("binanceusdm", own).source == (
        "the market's taker fee"
    )
    assert taker_fee("hyperliquid", LINEAR).rate == 0.00045
    assert taker_fee("nowhere", LINEAR) is None


@pytest.mark.parametrize("side", [Side.LONG, Side.SHORT])
@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("funding", [0.0, 3.0, -3.0])
def test_break_even_pays_exactly_the_fees_less_the_funding(side, inverse, funding):
    """At the break-even price the PnL of closing equals open fee + close fee - funding received."""
    spec = market("BTC/USD:BTC" if inverse else "BTC/USDT:USDT", 0.005, contract_size=100 if inverse else 1,
                  inverse=inverse)  # fmt: skip
    p = pos(spec.symbol, side, 50 if inverse else 2, 40_000)
    f = 0.0005
    funding = funding / 40_000 if inverse else funding  # the same order of size in coin
    price = break_even_price(p, spec, f, funding)
    size = p.contracts * spec.contract_size
    moved = (1 / p.entry_price - 1 / price) if inverse else (price - p.entry_price)
    pnl = side.sign * size * moved
    fees = trade_fee(p.contracts, spec, p.entry_price, f) + trade_fee(p.contracts, spec, price, f)
    assert pnl == pytest.approx(fees - funding, rel=1e-9, abs=1e-12)
    if funding == 0:
        assert (price > p.entry_price) == (side is Side.LONG)
