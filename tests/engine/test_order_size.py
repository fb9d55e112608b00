"""A what-if's price on the market's tick and its size in contracts, quote currency or % of available
(engine.book.increments, engine.book.order_size). Ticks and lots are real exchange values: Binance USDⓈ-M
BTCUSDT 0.1 / 0.001, ETHUSDT 0.01 / 0.001, DOGEUSDT 0.00001 / 1, XRPUSDT 0.0001 / 0.1, Binance COIN-M BTCUSD_PERP
0.1 / 1 contract of 100 USD (exchangeInfo filters as in ccxt's static test markets for Binance)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.book.increments import round_down_to_lot, round_to_tick, step_text
from engine.book.order_size import (
    SizeRefused,
    contracts_for_notional,
    contracts_for_percent,
    order_size,
)
from tests.engine.books import market

BTCUSDT = dataclasses.replace(market("BTC/USDT:USDT", 0.004), tick_size=0.1, lot_size=0.001, min_contracts=0.001)
ETHUSDT = dataclasses.replace(market("ETH/USDT:USDT", 0.005), tick_size=0.01, lot_size=0.001, min_contracts=0.001)
BTCUSD = dataclasses.replace(
    market("BTC/USD:BTC", 0.004, inverse=True, contract_size=100), tick_size=0.1, lot_size=1, min_contracts=1
)
UNKNOWN = market("BTC/USDT:USDT", 0.004)


@pytest.mark.parametrize(
    ("price", "tick", "rounded"),
    [
        (61234.56, 0.1, 61234.6),  # BTCUSDT: a float multiply would give 61234.600000000006
        (61234.54, 0.1, 61234.5),
        (61234.55, 0.1, 61234.6),  # half a tick rounds up, as ccxt's price_to_precision
        (3214.305, 0.01, 3214.31),  # ETHUSDT
        (3214.3, 0.01, 3214.3),  # already on the tick: unchanged
        (0.52345, 0.0001, 0.5235),  # XRPUSDT, a 0.0001 altcoin tick
        (0.162345, 0.00001, 0.16235),  # DOGEUSDT
        (92410.04, 0.1, 92410.0),  # inverse BTCUSD_PERP
        (1.3, 0.5, 1.5),  # a tick that is not a power of ten
    ],
)
def test_a_price_goes_to_the_nearest_tick_exactly(price, tick, rounded):
    assert round_to_tick(price, tick) == rounded
    assert repr(round_to_tick(price, tick)) == repr(rounded)  # no 61234.600000000006


def test_an_unknown_tick_leaves_the_price_alone():
    assert round_to_tick(61234.56, 0.0) == 61234.56


@pytest.mark.parametrize(
    ("contracts", "lot", "rounded"),
    [(0.0829, 0.001, 0.082), (0.0999999, 0.001, 0.099), (0.3, 0.1, 0.3), (12.7, 1, 12.0), (0.0009, 0.001, 0.0)],
)
def test_contracts_are_truncated_to_the_lot_never_more(contracts, lot, rounded):
    assert round_down_to_lot(contracts, lot) == rounded
    assert round_down_to_lot(contracts, 0.0) == contracts


def test_steps_are_written_without_exponents():
    assert [step_text(s) for s in (0.00001, 0.10, 0.001, 1.0, 25.0)] == ["0.00001", "0.1", "0.001", "1", "25"]


# -- the three units, by hand ---------------------------------------------------------------------------------


def test_contracts_typed_are_kept_on_the_lot():
    size = order_size(0.0825, "contracts", BTCUSDT, 61_000)
    assert (size.contracts, size.asked, size.rounded) == (0.082, 0.0825, True)
    assert size.text("contracts") == "rounded to lot 0.001: 0.082 contracts"
    assert order_size(0.5, "contracts", BTCUSDT, 61_000).text("contracts") == ""


def test_linear_quote_notional_is_contracts_at_the_price():
    # 5,000 USDT at 61,000 USDT per BTC, 1 BTC per contract: 0.081967... contracts, truncated to 0.081
    assert contracts_for_notional(5_000, BTCUSDT, 61_000) == pytest.approx(5_000 / 61_000)
    size = order_size(5_000, "quote", BTCUSDT, 61_000)
    assert size.contracts == 0.081
    assert size.text("quote") == "= 0.081 contracts, rounded to lot 0.001"


def test_linear_quote_with_a_contract_size():
    # OKX-style 0.01 BTC per contract: 5,000 USDT at 50,000 = 0.1 BTC = 10 contracts
    okx = dataclasses.replace(BTCUSDT, contract_size=0.01, lot_size=0.01, min_contracts=0.01)
    assert order_size(5_000, "quote", okx, 50_000).contracts == 10.0


def test_inverse_quote_notional_is_usd_over_the_contract_size():
    # 5,050 USD of 100 USD contracts: 50.5, truncated to 50 whatever the price
    assert contracts_for_notional(5_050, BTCUSD, 92_000) == pytest.approx(50.5)
    size = order_size(5_050, "quote", BTCUSD, 92_000)
    assert size.contracts == 50.0
    assert size.text("quote") == "= 50 contracts, rounded to lot 1"


def test_linear_percent_of_available_is_margin_times_leverage():
    # 10% of 8,000 USDT = 800 USDT margin, x 10 = 8,000 USDT notional, / 64,000 = 0.125 BTC
    assert contracts_for_percent(10, 8_000, 10, BTCUSDT, 64_000) == pytest.approx(0.125)
    size = order_size(10, "percent", BTCUSDT, 64_000, leverage=10, available_balance=8_000, currency="USDT")
    assert (size.contracts, size.rounded) == (0.125, False)
    assert size.text("percent") == "= 0.125 contracts; fees not reserved"


def test_eth_percent_rounds_down_to_its_lot():
    # 25% of 1,000 USDT = 250 margin x 20 = 5,000 USDT / 3,214.3 = 1.55555... ETH -> 1.555
    size = order_size(25, "percent", ETHUSDT, 3_214.3, leverage=20, available_balance=1_000)
    assert size.contracts == 1.555
    assert size.asked == pytest.approx(5_000 / 3_214.3)


def test_inverse_percent_of_available_coin_margin():
    # 50% of 0.2 BTC = 0.1 BTC margin x 20 = 2 BTC notional x 92,000 = 184,000 USD / 100 = 1,840 contracts
    assert contracts_for_percent(50, 0.2, 20, BTCUSD, 92_000) == pytest.approx(1_840)
    assert order_size(50, "percent", BTCUSD, 92_000, leverage=20, available_balance=0.2).contracts == 1_840.0


def test_an_unknown_lot_converts_without_rounding_and_says_so():
    size = order_size(5_000, "quote", UNKNOWN, 61_000)
    assert size.contracts == pytest.approx(5_000 / 61_000)
    assert size.text("quote") == f"= {5_000 / 61_000:.12g} contracts (lot unknown: not rounded)"


@pytest.mark.parametrize(
    ("amount", "unit", "spec", "price", "balance", "leverage", "contracts"),
    [
        (3_535.73, "quote", ETHUSDT, 3_214.3, None, 0, 1.1),  # 3,214.3 x 1.1 = 3,535.73 exactly
        (8_892.5078, "quote", BTCUSDT, 36_745.9, None, 0, 0.242),  # 36,745.9 x 0.242
        (64.1, "quote", BTCUSDT, 64_100, None, 0, 0.001),  # exactly the minimum order
        (70, "percent", BTCUSDT, 70_000, 700, 10, 0.07),  # 490 margin x 10 = 4,900 / 70,000
        (30, "percent", BTCUSD, 60_000, 0.3, 10, 540),  # 0.09 BTC x 10 x 60,000 = 54,000 USD / 100
    ],
)
def test_a_size_that_is_an_exact_multiple_of_the_lot_keeps_every_lot(
    amount, unit, spec, price, balance, leverage, contracts
):
    # Divided in floats, each of these lands a hair under the exact multiple and loses a whole lot when truncated
    # (1.0999999999999999 -> 1.099; 539.99999999999994 -> 539; 0.0009999999999999998 -> refused).
    size = order_size(amount, unit, spec, price, leverage=leverage, available_balance=balance)
    assert size.contracts == contracts
    assert not size.rounded


def test_a_price_of_zero_is_refused_for_a_size_in_quote_or_percent():
    for unit in ("quote", "percent"):
        with pytest.raises(SizeRefused, match="trade price above 0"):
            order_size(100, unit, BTCUSDT, 0.0, leverage=10, available_balance=1_000)


def test_a_price_too_large_for_its_tick_is_left_as_typed_not_a_crash():
    assert round_to_tick(1e30, 0.1) == 1e30
    assert round_down_to_lot(1e28, 0.001) == 1e28


# -- refusals -------------------------------------------------------------------------------------------------


def test_below_one_lot_is_refused_with_the_minimum():
    with pytest.raises(SizeRefused, match=r"0\.00082 contracts is below the market's minimum order of 0\.001"):
        order_size(50, "quote", BTCUSDT, 61_000)  # 50 USDT = 0.00082 BTC
    with pytest.raises(SizeRefused, match=r"minimum order of 1 contract$"):
        order_size(99, "quote", BTCUSD, 92_000)  # under one 100 USD contract


def test_the_markets_minimum_order_above_the_lot():
    bybit_doge = dataclasses.replace(market("DOGE/USDT:USDT", 0.01), lot_size=0.1, min_contracts=3)
    assert order_size(3, "contracts", bybit_doge, 0.16).contracts == 3.0
    with pytest.raises(SizeRefused, match="minimum order of 3 contracts"):
        order_size(2.9, "contracts", bybit_doge, 0.16)
    off_lot = dataclasses.replace(BTCUSDT, min_contracts=0.0015)  # a minimum that is not on the lot
    with pytest.raises(SizeRefused, match=r"^0\.0015 contracts \(on the lot of 0\.001: 0\.001\) is below .* 0\.0015"):
        order_size(0.0015, "contracts", off_lot, 61_000)


def test_percent_needs_an_available_balance_and_at_most_100():
    with pytest.raises(SizeRefused, match="at most 100%"):
        order_size(120, "percent", BTCUSDT, 61_000, leverage=10, available_balance=1_000)
    with pytest.raises(SizeRefused, match=r"no available balance.*\(-5\.00 USDT\)"):
        order_size(10, "percent", BTCUSDT, 61_000, leverage=10, available_balance=-5, currency="USDT")
    with pytest.raises(SizeRefused, match="no available balance"):
        order_size(10, "percent", BTCUSDT, 61_000, leverage=10, available_balance=None)


def test_an_unknown_unit_is_a_bug():
    with pytest.raises(ValueError, match="not a size unit"):
        order_size(1, "lots", BTCUSDT, 61_000)  # type: ignore[arg-type]


# -- for any price and size ----------------------------------------------------------------------------------

TICKS = st.sampled_from([0.1, 0.01, 0.0001, 0.00001, 0.5, 5.0])


@settings(max_examples=300, deadline=None)
@given(price=st.floats(1e-4, 1e7, allow_nan=False), tick=TICKS)
def test_a_rounded_price_is_on_the_tick_and_within_half_a_tick(price, tick):
    rounded = round_to_tick(price, tick)
    steps = Decimal(repr(rounded)) / Decimal(repr(tick))
    assert steps == steps.to_integral_value()  # exactly on the tick, as a decimal
    assert abs(rounded - price) <= tick / 2 * (1 + 1e-9)


@settings(max_examples=300, deadline=None)
@given(
    notional=st.floats(1, 1e7, allow_nan=False),
    price=st.floats(0.001, 1e6, allow_nan=False),
    lot=st.sampled_from([0.001, 0.01, 0.1, 1.0]),
    inverse=st.booleans(),
)
def test_an_order_never_opens_more_than_asked(notional, price, lot, inverse):
    spec = BTCUSD if inverse else BTCUSDT
    spec = dataclasses.replace(spec, lot_size=lot, min_contracts=lot)
    try:
        size = order_size(notional, "quote", spec, price)
    except SizeRefused:
        assert contracts_for_notional(notional, spec, price) < lot * (1 + 1e-9)
        return
    assert size.contracts <= size.asked
    assert size.asked - size.contracts < lot * (1 + 1e-9)


@settings(max_examples=300, deadline=None)
@given(
    lots=st.integers(1, 10**7),
    price_ticks=st.integers(10_000, 2_000_000),
    lot=st.sampled_from(["0.001", "0.01", "0.1", "1"]),
)
def test_a_notional_of_whole_lots_gives_exactly_those_lots(lots, price_ticks, lot):
    # The decimal truth: a notional of exactly n lots at a price on the 0.1 tick orders exactly n lots.
    price = Decimal(price_ticks) * Decimal("0.1")
    contracts = Decimal(lots) * Decimal(lot)
    spec = dataclasses.replace(BTCUSDT, lot_size=float(lot), min_contracts=float(lot))
    size = order_size(float(contracts * price), "quote", spec, float(price))
    assert Decimal(repr(size.contracts)) == contracts


def test_a_reduce_in_percent_takes_a_share_of_the_contracts_held_on_the_lot():
    # 33% of 0.1 BTC held = 0.033 (exact in decimal: a float product would give 0.033000000000000004)
    size = order_size(33, "percent", BTCUSDT, 61_000, held=0.1)
    assert (size.contracts, size.text("percent")) == (0.033, "= 0.033 contracts")
    assert order_size(33.35, "percent", BTCUSDT, 61_000, held=0.1).contracts == 0.033  # 0.03335 down to the lot
    with pytest.raises(SizeRefused, match="at most 100% of the position"):
        order_size(101, "percent", BTCUSDT, 61_000, held=0.1)


def test_the_notional_bound_message_shows_enough_digits_to_be_outside_it():
    from engine.book.formats import beyond, contracts

    assert beyond(1.0000001e15, 1e15) == "1.0000001e+15"
    assert beyond(6.1e19, 1e15) == "6.1e+19"
    assert float(beyond(9.9999e-13, 1e-12)) < 1e-12
    assert float(beyond(1e15 * (1 + 2**-50), 1e15)) > 1e15
    assert (contracts(1), contracts(1.0, ".12g"), contracts(0.5), contracts(2)) == (
        "1 contract",
        "1 contract",
        "0.5 contracts",
        "2 contracts",
    )
