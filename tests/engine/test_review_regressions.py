"""Cases found in review of the engine; each once gave a wrong number, an exception or a nonsense book."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from engine.book.portfolio import PortfolioError, parse_portfolio
from engine.book.whatif import WhatIfRefused, add_to_position, adjust_isolated_margin, open_position, reduce_position
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, Side, Tier
from engine.margin.risk import evaluate_book
from engine.margin.vectorised import CompiledBook
from tests.engine.books import book, market, pos
from tests.portfolio_docs import portfolio_doc, position_doc

L, S = Side.LONG, Side.SHORT


def both(b: Book, prices: dict) -> tuple:
    scalar = evaluate_book(b, prices)
    compiled = CompiledBook(b)
    return scalar, compiled.recompute(compiled.prices_from(prices))


def test_ill_conditioned_hedge_pairs_agree_to_the_last_bit():
    """A short of q and a long of q/1000 with a wallet that nearly cancels them: the root is ill-conditioned,
    so both paths must do the same arithmetic in the same order, not merely similar arithmetic."""
    spec = MarketSpec("BTC/USD:BTC", (Tier(0, 1e9, 0.004, 0, 125),), contract_size=100, inverse=True)
    rng = random.Random(3)
    for _ in range(300):
        entry, q = rng.uniform(20_000, 80_000), rng.randint(1, 500)
        wallet = (q * 100 / entry - q * 0.1 / entry) * (1 + rng.uniform(-1e-9, 1e-9))
        b = Book(
            (Account("a", "binancecoinm", wallet, "BTC", PositionMode.HEDGE),),
            (
                Position("a", "BTC/USD:BTC", S, q, entry, MarginMode.CROSS, 1),
                Position("a", "BTC/USD:BTC", L, q * 1e-3, entry, MarginMode.CROSS, 1),
            ),
            {("binancecoinm", "BTC/USD:BTC"): spec},
        )
        scalar, vector = both(b, {("binancecoinm", "BTC/USD:BTC"): entry})
        for i, r in enumerate(scalar.positions):
            if r.liquidation_price is None:
                assert math.isnan(vector.liquidation_price[i])
            else:
                assert r.liquidation_price == vector.liquidation_price[i]


def test_a_rate_of_exactly_one_has_no_liquidation_on_either_path():
    """Hyperliquid at max leverage 0.5 makes the maintenance rate 1: the surplus line is flat, no root."""
    spec = MarketSpec("ETH/USDC:USDC", (Tier(0, 1e12, 0.0, 0, 0.5),), max_leverage=0.5)
    b = Book(
        (Account("a", "hyperliquid", 50, "USDC"),),
        (Position("a", "ETH/USDC:USDC", L, 1, 100, MarginMode.CROSS, 0.5),),
        {("hyperliquid", "ETH/USDC:USDC"): spec},
    )
    scalar, vector = both(b, {("hyperliquid", "ETH/USDC:USDC"): 100.0})
    assert scalar.positions[0].liquidation_price is None
    assert np.isnan(vector.liquidation_price[0]) and np.isnan(vector.distance_to_liquidation[0])


def test_removing_isolated_margin_counts_the_unrealized_loss():
    b = book(
        "binanceusdm",
        10_000,
        [pos("X/USDT:USDT", L, 10, 100, MarginMode.ISOLATED, 10, 200)],
        [market("X/USDT:USDT", 0.005)],
    )
    prices = {("binanceusdm", "X/USDT:USDT"): 85.0}  # uPnL -150, initial margin 85: only 200 - 150 - 85 < 0 left
    with pytest.raises(WhatIfRefused, match=r"at most 0\.00 USDT can be removed"):
        adjust_isolated_margin(b, 0, -115, prices)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_what_if_refuses_non_finite_numbers(bad):
    b = book(
        "binanceusdm",
        10_000,
        [pos("X/USDT:USDT", L, 10, 100, MarginMode.ISOLATED, 10, 200)],
        [market("X/USDT:USDT", 0.005)],
    )
    prices = {("binanceusdm", "X/USDT:USDT"): 100.0}
    with pytest.raises(WhatIfRefused):
        adjust_isolated_margin(b, 0, bad, prices)
    with pytest.raises(WhatIfRefused):
        add_to_position(b, 0, bad, 100)
    with pytest.raises(WhatIfRefused):
        reduce_position(b, 0, 1, bad)


@pytest.mark.parametrize("leverage", [0, -5, math.nan])
def test_opening_with_a_bad_leverage_is_refused(leverage):
    b = book("binanceusdm", 10_000, [], [market("X/USDT:USDT", 0.005)])
    with pytest.raises(WhatIfRefused, match="leverage"):
        open_position(b, Position("acct", "X/USDT:USDT", L, 1, 100, MarginMode.ISOLATED, leverage))


def _doc(**changes) -> dict:
    return json.loads(json.dumps(portfolio_doc(position_doc(contracts=0.1), name="a", **changes)))


def test_one_account_cannot_mix_settlement_currencies():
    doc = _doc()
    doc["positions"].append(
        {
            "account": "a",
            "symbol": "ETH/USDC:USDC",
            "side": "short",
            "contracts": 1,
            "entry_price": 3_000,
            "margin_mode": "cross",
            "leverage": 10,
        }
    )
    with pytest.raises(PortfolioError, match="settles in USDC but account 'a' is in USDT"):
        parse_portfolio(doc)


def test_inverse_must_be_a_real_boolean():
    doc = _doc(
        markets={
            "BTC/USDT:USDT": {
                "inverse": "false",
                "tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.005}],
            }
        }
    )
    with pytest.raises(PortfolioError, match="'inverse' must be true or false"):
        parse_portfolio(doc)


def test_hyperliquid_without_max_leverage_is_a_clear_error():
    doc = _doc(
        accounts=[{"name": "a", "exchange": "hyperliquid", "wallet_balance": 1_000}],
        positions=[
            {
                "account": "a",
                "symbol": "XYZ/USDC:USDC",
                "side": "long",
                "contracts": 1,
                "entry_price": 10,
                "margin_mode": "cross",
                "leverage": 5,
            }
        ],
        markets={
            "XYZ/USDC:USDC": {"tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.01}]}
        },
    )
    with pytest.raises(PortfolioError, match="give 'max_leverage'"):
        parse_portfolio(doc)


def test_an_enormous_integer_is_a_clear_error():
    doc = _doc()
    doc["positions"][0]["contracts"] = 10**400
    with pytest.raises(PortfolioError, match="'contracts' must be a finite number"):
        parse_portfolio(doc)


def test_one_way_refuses_a_hypothetical_opposite_side_and_mixed_margin_modes():
    opposite = _doc()
    opposite["positions"].append(dict(opposite["positions"][0], side="short", hypothetical=True))
    with pytest.raises(PortfolioError, match="one-way mode and position 1 is already long"):
        parse_portfolio(opposite)
    mixed = _doc()
    mixed["positions"].append(dict(mixed["positions"][0], margin_mode="isolated"))
    with pytest.raises(PortfolioError, match="one symbol has one margin mode"):
        parse_portfolio(mixed)


def test_a_fee_that_takes_the_rate_to_100_percent_is_refused():
    doc = _doc(
        accounts=[{"name": "a", "exchange": "okx", "wallet_balance": 1_000}],
        markets={
            "BTC/USDT:USDT": {
                "taker_fee": 0.999,
                "tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.004}],
            }
        },
    )
    with pytest.raises(PortfolioError, match="not below 100%"):
        parse_portfolio(doc)


def test_negative_maintenance_amounts_and_boolean_versions_are_refused():
    doc = _doc(
        markets={
            "BTC/USDT:USDT": {
                "tiers": [
                    {
                        "min_notional": 0,
                        "max_notional": 1e9,
                        "maintenance_margin_rate": 0.004,
                        "maintenance_amount": -1e6,
                    }
                ]
            }
        }
    )
    with pytest.raises(PortfolioError, match="maintenance_amount must not be negative"):
        parse_portfolio(doc)
    with pytest.raises(PortfolioError, match="'version' true is not supported"):
        parse_portfolio(_doc(version=True))
