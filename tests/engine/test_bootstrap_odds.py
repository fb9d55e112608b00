"""The historical-bootstrap probability of liquidation (engine.margin.bootstrap_odds): on a normal history it
agrees with the normal model checked hourly; on a fat-tailed history of the same volatility a far liquidation
price is likelier; the limits; a one-position account agrees with its position."""

from __future__ import annotations

import math

import numpy as np

from engine.margin.bootstrap_odds import (
    bootstrap_account_odds,
    bootstrap_position_odds,
    joint_returns,
    touch_by_bootstrap,
)
from engine.margin.liquidation_odds import discrete_barrier, horizon_years, touch_probability
from engine.margin.model import Side
from engine.margin.vectorised import CompiledBook
from tests.engine.books import book, market, pos

SIGMA = 0.8
HOURLY = SIGMA / math.sqrt(8760)
KEY = ("binance", "BTC/USDT:USDT")


def series_of(returns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    closes = 100.0 * np.exp(np.concatenate([[0.0], np.cumsum(returns)]))
    return np.arange(len(closes), dtype=np.int64), closes


def test_on_a_normal_history_it_agrees_with_the_normal_model_checked_hourly():
    returns = np.random.default_rng(3).standard_normal(50_000) * HOURLY
    liquidation = np.array([92.0, 110.0])
    p, se = touch_by_bootstrap(returns - returns.mean(), np.log(liquidation / 100.0), 24.0, paths=40_000)
    for i, price in enumerate(liquidation):
        shifted = discrete_barrier(100.0, price, SIGMA, horizon_years(1.0))
        expected = touch_probability(100.0, shifted, SIGMA, horizon_years(24.0))
        assert abs(p[i] - expected) < 4 * se[i] + 0.01 * expected, (p[i], expected)


def test_fat_tails_make_a_far_liquidation_likelier_than_the_normal_model_says():
    t = np.random.default_rng(5).standard_t(2.5, 50_000)
    returns = t / t.std() * HOURLY  # the same volatility, Student-t tails
    barrier = np.log(np.array([0.85]))
    fat, se = touch_by_bootstrap(returns - returns.mean(), barrier, 24.0, paths=40_000)
    normal = touch_probability(100.0, 85.0, SIGMA, horizon_years(24.0))
    assert fat[0] > normal + 4 * se[0]


def test_limits_past_liquidation_no_price_longer_horizon():
    returns = np.random.default_rng(1).standard_normal(2_000) * HOURLY
    p, _ = touch_by_bootstrap(returns, np.array([0.0, np.nan, -0.05]), 24.0, paths=4_000)
    assert p[0] == 1.0 and p[1] == 0.0 and 0 < p[2] < 1
    week, _ = touch_by_bootstrap(returns, np.array([-0.05]), 168.0, paths=4_000)
    assert week[0] > p[2]


def test_rows_without_history_have_no_figure():
    mark, liquidation, distance = np.array([100.0, 100.0]), np.array([90.0, 90.0]), np.array([0.1, 0.1])
    history = {KEY: series_of(np.random.default_rng(2).standard_normal(500) * HOURLY)}
    other = ("binance", "ETH/USDT:USDT")
    p, se = bootstrap_position_odds([KEY, other], mark, liquidation, distance, history, 24.0, paths=2_000)
    assert 0 < p[0] < 1 and se[0] > 0 and math.isnan(p[1])
    assert joint_returns([history[KEY], None]) is None
    assert joint_returns([series_of(np.zeros(10))]) is None  # fewer than a day of hours


def test_a_one_position_account_agrees_with_its_position():
    returns = np.random.default_rng(4).standard_normal(3_000) * HOURLY
    history = series_of(returns)
    b = book("binance", 900.0, [pos(KEY[1], Side.LONG, 100.0, 100.0, leverage=10.0)], [market(KEY[1], 0.01)])
    compiled = CompiledBook(b)
    marks = compiled.prices_from({KEY: 100.0})
    (account,) = bootstrap_account_odds(compiled, marks, [history], 24.0, paths=20_000)
    # Liquidated where 900 + 100 (m - 100) - 0.01 * 100 m = 0, m = 9100 / 99.
    liquidation = np.array([9_100 / 99])
    (p,), (se,) = bootstrap_position_odds([KEY], np.array([100.0]), liquidation, np.array([0.08]), {KEY: history}, 24.0)
    assert abs(account.probability - p) < 4 * math.hypot(account.standard_error, se)
    assert "historical bootstrap" in account.model
    (none,) = bootstrap_account_odds(compiled, marks, [None], 24.0, paths=100)
    assert none.probability is None and "no return history" in none.reason


def test_the_bootstrap_needs_as_many_returns_as_the_volatility_estimate():
    from engine.margin import bootstrap_odds
    from engine.market import volatility

    assert bootstrap_odds.MIN_RETURNS == volatility.MIN_RETURNS
