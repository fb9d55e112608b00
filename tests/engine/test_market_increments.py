"""Tick size, lot size and minimum order on MarketSpec: from ccxt's markets (fetched from the fake Bybit and OKX
on 127.0.0.1 with real ccxt), stored with the fetched tables (old rows read as unknown), from the portfolio
file's `markets` entry (checked, one line naming the field), and from the bundled tables."""

from __future__ import annotations

import json

import ccxt
import pytest

from engine.book.market_entries import entry_to_dict
from engine.book.portfolio import PortfolioError, parse_portfolio, portfolio_to_dict
from engine.margin.market_choice import resolve_market
from engine.margin.tiers import bundled_market
from engine.market.feeds.market_increments import Increments, market_increments
from engine.market.feeds.tier_fetch import fetch_tables_now
from engine.storage.database import BookDatabase
from engine.storage.fetched_markets import market_from_json, market_to_json
from tests.fake_exchange.bybit import FakeBybit
from tests.fake_exchange.okx import FakeOkx
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = "BTC/USDT:USDT"

# Binance USDⓈ-M BTCUSDT as ccxt's static test markets hold it (precision in decimal places there): tick 0.10,
# step 0.001, minQty 0.001 in its exchangeInfo filters.
BINANCE_BTC_DECIMALS = {"precision": {"amount": 3, "price": 1}, "limits": {"amount": {"min": 0.001, "max": 1000}}}


def test_tick_size_mode_reads_the_increments_as_they_are():
    exchange = ccxt.bybit()
    assert exchange.precisionMode == ccxt.TICK_SIZE
    market = {"precision": {"amount": 0.001, "price": 0.1}, "limits": {"amount": {"min": 0.001}}}
    assert market_increments(exchange, market) == Increments(0.1, 0.001, 0.001)


def test_decimal_places_mode_goes_through_ccxts_parse_precision():
    exchange = ccxt.binanceusdm()
    exchange.precisionMode = ccxt.DECIMAL_PLACES  # as ccxt reported Binance before it moved to TICK_SIZE
    assert market_increments(exchange, BINANCE_BTC_DECIMALS) == Increments(0.1, 0.001, 0.001)


def test_significant_digits_or_nothing_is_unknown():
    exchange = ccxt.binanceusdm()
    exchange.precisionMode = ccxt.SIGNIFICANT_DIGITS
    assert market_increments(exchange, BINANCE_BTC_DECIMALS) == Increments(0.0, 0.0, 0.001)
    assert market_increments(ccxt.bybit(), {"precision": {"price": None}, "limits": {}}) == Increments()


@pytest.fixture(scope="module")
def fetched() -> dict:
    with FakeBybit() as bybit, FakeOkx() as okx:
        got = fetch_tables_now([("bybit", BTC), ("okx", BTC)], {"bybit": bybit.ccxt_config(), "okx": okx.ccxt_config()})
    return {exchange: result.markets for exchange, result in got.items()}


def test_fetched_markets_carry_the_exchanges_tick_and_lot(fetched):
    bybit = fetched["bybit"][BTC]  # Bybit instruments-info: tickSize 0.10, qtyStep 0.001, minOrderQty 0.001
    assert (bybit.tick_size, bybit.lot_size, bybit.min_contracts) == (0.1, 0.001, 0.001)
    okx = fetched["okx"][BTC]  # OKX instruments: tickSz 0.1, lotSz 0.01, minSz 0.01 (contracts of 0.01 BTC)
    assert (okx.tick_size, okx.lot_size, okx.min_contracts) == (0.1, 0.01, 0.01)


def test_stored_markets_keep_the_increments_and_old_rows_read_as_unknown(tmp_path, fetched):
    with BookDatabase.open(tmp_path / "book.db") as db:
        db.save_fetched_markets("bybit", fetched["bybit"])
        stored = db.fetched_markets()[("bybit", BTC)]
    assert (stored.tick_size, stored.lot_size, stored.min_contracts) == (0.1, 0.001, 0.001)
    old = json.loads(market_to_json(fetched["bybit"][BTC]))
    for key in ("tick_size", "lot_size", "min_contracts"):
        del old[key]  # a row saved before the increments were kept
    market = market_from_json(BTC, json.dumps(old), 1.7e9, "bybit fetch_leverage_tiers")
    assert (market.tick_size, market.lot_size, market.min_contracts) == (0.0, 0.0, 0.0)
    assert market.tiers == fetched["bybit"][BTC].tiers


def test_a_files_entry_gives_the_increments_over_the_fetched_ones(fetched):
    doc = portfolio_doc(
        position_doc(BTC, "long", 0.5, 60_000, "cross", 10),
        exchange="bybit",
        markets={f"bybit:{BTC}": {"tick_size": 0.5, "lot_size": 0.01}},
    )
    market = parse_portfolio(doc, {("bybit", BTC): fetched["bybit"][BTC]}).book.markets[("bybit", BTC)]
    assert (market.tick_size, market.lot_size, market.min_contracts) == (0.5, 0.01, 0.001)
    assert market.tiers_from == "fetched"


@pytest.mark.parametrize("field", ["tick_size", "lot_size", "min_contracts"])
@pytest.mark.parametrize(("value", "said"), [(0, "must be greater than 0"), (-0.1, "must be greater than 0")])
def test_a_bad_increment_in_the_file_is_one_line_naming_the_field(field, value, said):
    doc = portfolio_doc(position_doc(), markets={BTC: {field: value}})
    with pytest.raises(PortfolioError) as caught:
        parse_portfolio(doc)
    message = str(caught.value)
    assert f"markets.{BTC}: '{field}' {said}" in message
    assert len([line for line in message.splitlines() if field in line]) == 1


def test_a_non_number_increment_is_refused():
    with pytest.raises(PortfolioError, match=r"'tick_size' must be a number"):
        parse_portfolio(portfolio_doc(position_doc(), markets={BTC: {"tick_size": "0.1"}}))


def test_the_bundled_binance_tables_carry_real_ticks_and_lots():
    btc = bundled_market("binanceusdm", BTC)
    assert btc is not None and (btc.tick_size, btc.lot_size, btc.min_contracts) == (0.1, 0.001, 0.001)
    doge = bundled_market("binanceusdm", "DOGE/USDT:USDT")
    assert doge is not None and (doge.tick_size, doge.lot_size) == (0.00001, 1.0)
    coinm = bundled_market("binancecoinm", "BTC/USD:BTC")
    assert coinm is not None and (coinm.tick_size, coinm.lot_size, coinm.contract_size) == (0.1, 1.0, 100.0)
    unread = bundled_market("binanceusdm", "1000PEPE/USDT:USDT")
    assert unread is not None and (unread.tick_size, unread.lot_size) == (0.0, 0.0)  # not read: unknown


def test_a_files_increments_are_written_back_as_given():
    doc = portfolio_doc(position_doc(), markets={BTC: {"tick_size": 0.5, "min_contracts": 0.002}})
    written = portfolio_to_dict(parse_portfolio(doc))
    assert written["markets"][BTC] == {"tick_size": 0.5, "min_contracts": 0.002}  # nothing added, nothing lost
    again = parse_portfolio(written).book.markets[("binanceusdm", BTC)]
    assert (again.tick_size, again.lot_size, again.min_contracts) == (0.5, 0.001, 0.002)  # the lot: bundled


def test_a_complete_market_is_written_without_unknown_increments():
    market = resolve_market("binanceusdm", "1000PEPE/USDT:USDT")
    assert market is not None
    written = entry_to_dict(market)
    assert not {"tick_size", "lot_size", "min_contracts"} & set(written)  # a 0 would not read back
