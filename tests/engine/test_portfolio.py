"""The portfolio file: lossless round trip and one clear message per kind of bad input."""

from __future__ import annotations

import json

import pytest

from engine.book.portfolio import PortfolioError, dumps_portfolio, loads_portfolio, parse_portfolio
from engine.margin.bundled import load_json
from tests.portfolio_docs import portfolio_doc

MINIMAL = portfolio_doc(prices={"BTC/USDT:USDT": 61_000})


def _with(path: str, value, base=MINIMAL):
    doc = json.loads(json.dumps(base))
    target = doc
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[last]
    else:
        target[last] = value
    return doc


def test_round_trip_is_lossless_with_unicode_notes_and_hypothetical_flags():
    doc = load_json("demo", "book.json")
    doc["positions"][0]["note"] = "überwacht — 監視 🚀"
    doc["positions"][1]["entry_price"] = 0.1 + 0.2  # a float that does not print short
    first = parse_portfolio(doc)
    text = dumps_portfolio(first)
    second = loads_portfolio(text)
    assert second.book == first.book
    assert second.prices == first.prices
    assert dumps_portfolio(second) == text
    assert any(p.hypothetical for p in second.book.positions)
    assert second.book.positions[0].note == "überwacht — 監視 🚀"
    assert second.book.positions[1].entry_price == 0.1 + 0.2


def test_isolated_margin_defaults_to_initial_margin_at_entry():
    doc = _with("positions.0.margin_mode", "isolated")
    position = parse_portfolio(doc).book.positions[0]
    assert position.isolated_margin == pytest.approx(0.5 * 60_000 / 10)


def test_bundled_binance_tiers_are_used_for_a_listed_symbol():
    book = parse_portfolio(MINIMAL).book
    spec = book.markets[("binanceusdm", "BTC/USDT:USDT")]
    assert spec.tiers[0].maintenance_margin_rate == 0.004
    assert "2024-10-24" in spec.source


def test_every_bundled_market_reads_as_checked_tiers_and_each_is_made_once():
    """Bundled markets are made when first read (start-up reads only the book's): every shipped one must
    still read, with tiers that pass check_tiers, usable under its exchange's rules."""
    from engine.book.portfolio import market_rate_problem
    from engine.margin.tiers import bundled_exchanges, bundled_table

    for exchange in bundled_exchanges():
        table = bundled_table(exchange)
        assert table is not None and len(table.markets) > 0
        for symbol in table.markets:
            market = table.markets[symbol]
            assert market.symbol == symbol and market.tiers and market_rate_problem(market, exchange) is None
            assert table.markets[symbol] is market
        assert "NOT/A:MARKET" not in table.markets


def test_a_malformed_bundled_market_says_so_when_read_not_that_it_is_missing():
    from engine.margin.tiers import TierTableError, _MarketsReadOnDemand

    markets = _MarketsReadOnDemand("binanceusdm", {"source": "s", "date": "d", "tiers": {"X/USDT:USDT": [{}]}})
    assert "X/USDT:USDT" in markets and len(markets) == 1
    with pytest.raises(TierTableError, match="X/USDT:USDT: a bundled tier row is malformed"):
        markets.get("X/USDT:USDT")  # a KeyError would have read as "no such market"
    assert markets.get("Y/USDT:USDT") is None


def test_exchange_qualified_market_entry_overrides_only_that_exchange():
    doc = json.loads(json.dumps(MINIMAL))
    doc["accounts"].append({"name": "bb", "exchange": "bybit", "wallet_balance": 5_000})
    doc["positions"].append(dict(doc["positions"][0], account="bb"))
    doc["markets"] = {
        "bybit:BTC/USDT:USDT": {"tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.005}]}
    }
    book = parse_portfolio(doc).book
    assert book.markets[("bybit", "BTC/USDT:USDT")].tiers[0].maintenance_margin_rate == 0.005
    assert book.markets[("binanceusdm", "BTC/USDT:USDT")].tiers[0].maintenance_margin_rate == 0.004


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_with("positions.0.contracts", KeyError), "position 1 (BTC/USDT:USDT): missing field 'contracts'"),
        (_with("positions.0.contracts", -1), "position 1 (BTC/USDT:USDT): 'contracts' must be greater than 0"),
        (_with("positions.0.contracts", "1"), "'contracts' must be a number"),
        (_with("positions.0.entry_price", 0), "'entry_price' must be greater than 0"),
        (_with("positions.0.side", "up"), "'side' must be 'long' or 'short', not \"up\""),
        (_with("positions.0.account", "nope"), "'account' names an unknown account 'nope'"),
        (_with("positions.0.symbol", "NOPE/USDT:USDT"), "unknown symbol 'NOPE/USDT:USDT' on binanceusdm"),
        (_with("positions.0.leverage", 500), "'leverage' 500× is above the market's maximum 125×"),
        (_with("accounts.0.wallet_balance", KeyError), "account 1 (main): missing field 'wallet_balance'"),
        (_with("accounts.0.position_mode", "both"), "'position_mode' must be 'oneway' or 'hedge'"),
        (_with("prices.BTC/USDT:USDT", -5), "prices: 'BTC/USDT:USDT' must be greater than 0"),
        (_with("positions.0.symbol", "BTC/USD:BTC"), "unknown symbol 'BTC/USD:BTC' on binanceusdm"),
    ],
)
def test_bad_input_names_the_field_and_the_position(doc, message):
    with pytest.raises(PortfolioError) as raised:
        parse_portfolio(doc)
    assert message in str(raised.value)


def test_opposite_sides_in_one_way_mode_are_refused():
    doc = json.loads(json.dumps(MINIMAL))
    doc["positions"].append(dict(doc["positions"][0], side="short"))
    with pytest.raises(PortfolioError, match="one-way mode and position 1 is already long"):
        parse_portfolio(doc)


def test_isolated_margins_beyond_the_wallet_are_refused():
    doc = _with("positions.0.margin_mode", "isolated")
    doc["positions"][0]["isolated_margin"] = 20_000
    with pytest.raises(PortfolioError, match=r"isolated margins .* exceed 'wallet_balance'"):
        parse_portfolio(doc)


def test_wrong_settlement_currency_is_refused():
    doc = _with("accounts.0.currency", "BTC")
    with pytest.raises(PortfolioError, match="settles in USDT but account 'main' is in BTC"):
        parse_portfolio(doc)


def test_tier_gaps_are_refused():
    doc = json.loads(json.dumps(MINIMAL))
    doc["markets"] = {
        "BTC/USDT:USDT": {
            "tiers": [
                {"min_notional": 0, "max_notional": 100, "maintenance_margin_rate": 0.01},
                {"min_notional": 200, "max_notional": 1e9, "maintenance_margin_rate": 0.02},
            ]
        }
    }
    with pytest.raises(PortfolioError, match="tiers must be contiguous"):
        parse_portfolio(doc)


def test_malformed_json_names_line_and_column():
    with pytest.raises(PortfolioError, match="malformed JSON at line 2, column"):
        loads_portfolio('{"accounts": [],\n "positions": [,]}')
