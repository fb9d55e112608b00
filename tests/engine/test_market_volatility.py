"""The portfolio file's `markets` entry `volatility` (engine.book.market_volatility)."""

from __future__ import annotations

import json

import pytest

from engine.book.market_volatility import volatility_for
from engine.book.portfolio import PortfolioError, dumps_portfolio, loads_portfolio

BASE = {
    "accounts": [{"name": "a", "exchange": "binanceusdm", "wallet_balance": 1000}],
    "positions": [
        {
            "account": "a",
            "symbol": "DOGE/USDT:USDT",
            "side": "long",
            "contracts": 1000,
            "entry_price": 0.16,
            "margin_mode": "cross",
            "leverage": 5,
        }
    ],
    "prices": {"DOGE/USDT:USDT": 0.157},
}
TIERS = [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.01}]


def load(markets):
    return loads_portfolio(json.dumps({**BASE, "markets": markets}))


def test_a_volatility_alone_overrides_no_market():
    p = load({"DOGE/USDT:USDT": {"volatility": 1.2}})
    assert p.market_overrides == {}
    assert volatility_for(p.volatilities, ("binanceusdm", "DOGE/USDT:USDT")) == 1.2


def test_the_exchange_entry_wins_and_a_volatility_may_sit_beside_tiers():
    p = load({"DOGE/USDT:USDT": {"volatility": 1.2}, "binanceusdm:DOGE/USDT:USDT": {"volatility": 0.9, "tiers": TIERS}})
    assert volatility_for(p.volatilities, ("binanceusdm", "DOGE/USDT:USDT")) == 0.9
    assert volatility_for(p.volatilities, ("bybit", "DOGE/USDT:USDT")) == 1.2
    assert volatility_for(p.volatilities, ("bybit", "BTC/USDT:USDT")) is None
    assert "binanceusdm:DOGE/USDT:USDT" in p.market_overrides


def test_it_survives_a_round_trip():
    p = load({"DOGE/USDT:USDT": {"volatility": 1.2}, "binanceusdm:DOGE/USDT:USDT": {"volatility": 0.9, "tiers": TIERS}})
    again = loads_portfolio(dumps_portfolio(p))
    assert again.volatilities == p.volatilities
    assert again.market_overrides == p.market_overrides


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("80%", "must be a number"),
        (0, "greater than 0"),
        (-0.5, "greater than 0"),
        (80, "a fraction (0.8 = 80% a year)"),
    ],
)
def test_a_bad_volatility_names_the_field(value, words):
    with pytest.raises(PortfolioError) as e:
        load({"DOGE/USDT:USDT": {"volatility": value}})
    assert "markets.DOGE/USDT:USDT" in str(e.value) and "'volatility'" in str(e.value) and words in str(e.value)


def test_a_partial_entry_keeps_its_volatility_and_its_override():
    """Beside a partial market entry (its tiers from the bundled table), the volatility is read as alone."""
    portfolio = load({"DOGE/USDT:USDT": {"volatility": 1.2, "taker_fee": 0.0005}})
    assert portfolio.volatilities == {"DOGE/USDT:USDT": 1.2}
    assert "DOGE/USDT:USDT" in portfolio.market_overrides
    with pytest.raises(PortfolioError, match="'tiers' must be a non-empty list"):
        load({"DOGE/USDT:USDT": {"volatility": 1.2, "tiers": []}})
