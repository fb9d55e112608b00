"""Funding rates written in the portfolio file (offline), and the session's rows carrying each row's rate."""

from __future__ import annotations

import pytest

from engine.book.funding_fields import FileFunding, file_rates
from engine.book.portfolio import PortfolioError, dumps_portfolio, loads_portfolio, parse_portfolio
from engine.funding.rates import RateSource
from engine.monitor.session import WatchSession
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = "BTC/USDT:USDT"


def doc_with(markets, **kw):
    return portfolio_doc(position_doc(), prices={BTC: 61_000}, markets=markets, **kw)


def test_a_markets_entry_of_funding_fields_only_keeps_the_bundled_market():
    portfolio = parse_portfolio(doc_with({BTC: {"funding_rate": 0.0001}}))
    assert portfolio.funding == {BTC: FileFunding(0.0001, None)}
    assert portfolio.market_overrides == {}
    (rate,) = file_rates(portfolio.book, portfolio.funding, now=1_000.0)
    assert (rate.exchange, rate.symbol, rate.rate) == ("binanceusdm", BTC, 0.0001)
    assert rate.interval_hours == 8 and rate.source is RateSource.FILE  # Binance's interval when none is written


def test_exchange_entry_wins_and_interval_is_kept_through_a_round_trip():
    markets = {
        BTC: {"funding_rate": 0.0001},
        f"binanceusdm:{BTC}": {"funding_rate": -0.0003, "funding_interval_hours": 4},
    }
    portfolio = parse_portfolio(doc_with(markets))
    (rate,) = file_rates(portfolio.book, portfolio.funding, now=0.0)
    assert (rate.rate, rate.interval_hours) == (-0.0003, 4)
    again = loads_portfolio(dumps_portfolio(portfolio))
    assert again.funding == portfolio.funding


def test_funding_beside_a_full_market_entry_round_trips():
    tiers = [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.004}]
    portfolio = parse_portfolio(doc_with({BTC: {"tiers": tiers, "taker_fee": 0.0005, "funding_rate": 0.0002}}))
    assert portfolio.market_overrides[BTC].taker_fee == 0.0005 and portfolio.funding[BTC].rate == 0.0002
    again = loads_portfolio(dumps_portfolio(portfolio))
    assert again.funding == portfolio.funding and again.market_overrides == portfolio.market_overrides


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"funding_rate": "0.01%"}, "markets.BTC/USDT:USDT: 'funding_rate' must be a number"),
        ({"funding_rate": 1.5}, "markets.BTC/USDT:USDT: 'funding_rate' must be a fraction per interval between -1"),
        ({"funding_rate": 0.0001, "funding_interval_hours": 0}, "'funding_interval_hours' must be greater than 0"),
        ({"funding_rate": 0.0001, "funding_interval_hours": 48}, "from 1 minute (0.0167) to 24 hours"),
        ({"funding_rate": 0.5, "funding_interval_hours": 5e-324}, "'funding_interval_hours' must be from 1 minute"),
        ({"funding_interval_hours": 8}, "'funding_interval_hours' needs a 'funding_rate'"),
        ({"funding_rte": 0.0001}, "funding_rte"),
    ],
)
def test_bad_funding_fields_are_named(entry, message):
    with pytest.raises(PortfolioError) as caught:
        parse_portfolio(doc_with({BTC: entry}))
    assert message in str(caught.value)


def test_session_rows_carry_the_file_rate():
    portfolio = parse_portfolio(doc_with({BTC: {"funding_rate": 0.0001}}))
    session = WatchSession(portfolio, clock=lambda: 1_000.0)
    frame = session.step({})
    assert frame.rows[0].funding is not None and frame.rows[0].funding.rate == 0.0001
    bare = WatchSession(parse_portfolio(portfolio_doc(prices={BTC: 61_000})), clock=lambda: 1_000.0)
    assert bare.step({}).rows[0].funding is None


@pytest.mark.parametrize("key", ["funding_rate", "funding_interval_hours"])
def test_a_null_funding_field_must_be_a_number_not_missing(key):
    entry = {"funding_rate": 0.0001, "funding_interval_hours": 8, key: None}
    with pytest.raises(PortfolioError) as caught:
        parse_portfolio(doc_with({BTC: entry}))
    assert f"markets.BTC/USDT:USDT: '{key}' must be a number, not null" in str(caught.value)
    assert "missing" not in str(caught.value)


def test_a_misspelled_key_beside_a_market_lists_the_funding_fields_too():
    with pytest.raises(PortfolioError) as caught:
        parse_portfolio(doc_with({BTC: {"taker_fee": 0.0005, "xyz": 1}}))
    fields = str(caught.value).split("its fields: ", 1)[1]
    assert "funding_rate" in fields and "funding_interval_hours" in fields and "tick_size" in fields


def test_a_negative_zero_rate_in_the_file_is_zero():
    portfolio = parse_portfolio(doc_with({BTC: {"funding_rate": -0.0}}))
    (entry,) = portfolio.funding.values()
    assert str(entry.rate) == "0.0"
