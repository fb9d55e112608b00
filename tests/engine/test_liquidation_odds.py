"""The closed-form probability of touching the liquidation price (engine.margin.liquidation_odds).

The closed form is checked against a brute-force simulation of the same model (a log-price random walk), not
against numbers it produced: each simulated figure must agree within four standard errors (seeded, so the
test is deterministic). The simulation looks between its steps with the Brownian bridge (the chance that a
path crossed the barrier and came back within a step), so it simulates the continuously monitored touch the
closed form gives, with no step bias; a plain discrete simulation is lower, as the module says.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from engine.margin.liquidation_odds import (
    HOURS_PER_YEAR,
    discrete_barrier,
    horizon_years,
    position_odds,
    touch_probability,
)
from engine.margin.model import MarginMode, Side
from engine.margin.risk import evaluate_book
from tests.engine.books import book, market, pos


def simulate_touch(
    mark: float,
    liquidation: float,
    sigma: float,
    years: float,
    drift: float = 0.0,
    *,
    paths: int = 200_000,
    steps: int = 48,
    bridge: bool = True,
    seed: int = 7,
) -> tuple[float, float]:
    """Brute force: the fraction of simulated log-price paths that touch ln(L/S), and its standard error.

    With bridge, a step whose two ends are on the safe side still touched with probability
    exp(-2 (b - x0)(b - x1) / (sigma^2 dt)) (the Brownian bridge's maximum): continuous monitoring."""
    rng = np.random.default_rng(seed)
    dt = years / steps
    b = math.log(liquidation / mark)
    sign = 1.0 if b > 0 else -1.0  # reflect a down barrier to an up one: X -> -X, drift -> -drift
    b, nu = abs(b), sign * drift
    x = np.zeros(paths)
    touched = np.zeros(paths, dtype=bool)
    for _ in range(steps):
        nxt = x + nu * dt + sigma * math.sqrt(dt) * rng.standard_normal(paths)
        touched |= nxt >= b
        if bridge:
            gap = np.maximum(b - x, 0.0) * np.maximum(b - nxt, 0.0)
            touched |= rng.random(paths) < np.exp(-2.0 * gap / (sigma**2 * dt))
        x = nxt
    p = float(touched.mean())
    return p, math.sqrt(max(p * (1 - p), 1e-12) / paths)


CASES = [
    # mark, liquidation, annual volatility, hours, log drift per year
    (92_480.5, 84_000.0, 0.55, 24.0, 0.0),  # a BTC long ~9% away, a calm day
    (0.1571, 0.1452, 1.40, 24.0, 0.0),  # a small coin ~7.5% away in a squeeze
    (126.95, 140.0, 0.90, 24.0, 0.0),  # a short: the liquidation price is above the mark
    (3214.3, 2900.0, 0.70, 168.0, 0.0),  # a week
    (3214.3, 3180.0, 0.70, 1.0, 0.0),  # an hour, 1% away
    (100.0, 80.0, 0.60, 24.0 * 30, 2.0),  # with a strong upward drift away from a long's liquidation price
    (100.0, 125.0, 0.60, 24.0 * 30, 2.0),  # the same drift towards a short's
]


@pytest.mark.parametrize(("mark", "liquidation", "sigma", "hours", "drift"), CASES)
def test_closed_form_agrees_with_a_simulation_of_the_same_model(mark, liquidation, sigma, hours, drift):
    years = hours / HOURS_PER_YEAR
    expected = touch_probability(mark, liquidation, sigma, years, drift)
    simulated, _ = simulate_touch(mark, liquidation, sigma, years, drift)
    se = math.sqrt(expected * (1 - expected) / 200_000)  # of the simulated fraction, were the closed form right
    assert 1e-4 < expected < 0.99  # a case the simulation can tell apart (at least ~20 touches)
    assert abs(simulated - expected) <= 4 * se, (simulated, se, expected)


def test_a_simulation_that_looks_only_at_its_steps_sees_fewer_touches():
    """Discrete monitoring: lower than the continuous closed form, and the BGK-shifted barrier predicts it."""
    mark, liquidation, sigma, years = 100.0, 95.0, 0.8, 24 / HOURS_PER_YEAR
    continuous = touch_probability(mark, liquidation, sigma, years)
    hourly, se = simulate_touch(mark, liquidation, sigma, years, steps=24, bridge=False)
    assert hourly < continuous - 4 * se
    shifted = touch_probability(mark, discrete_barrier(mark, liquidation, sigma, years / 24), sigma, years)
    assert abs(hourly - shifted) <= 4 * se + 0.002


def test_distance_to_zero_gives_certainty():
    years = horizon_years(24)
    previous = 0.0
    for gap in (0.2, 0.05, 0.01, 1e-3, 1e-6, 1e-9):
        p = touch_probability(100.0, 100.0 * (1 - gap), 0.6, years)
        assert p > previous
        previous = p
    assert previous > 0.999_999
    assert touch_probability(100.0, 100.0, 0.6, years) == 1.0


def test_no_liquidation_price_gives_zero():
    assert touch_probability(100.0, None, 0.8, horizon_years(24)) == 0.0


@pytest.mark.parametrize("drift", [0.0, 1.5, -1.5])
@pytest.mark.parametrize("liquidation", [70.0, 97.0, 103.0, 160.0])
def test_a_longer_horizon_never_lowers_the_probability(liquidation, drift):
    hours = [0.25, 1, 4, 24, 72, 168, 720, 8760, 87600]
    ps = [touch_probability(100.0, liquidation, 0.7, horizon_years(h), drift) for h in hours]
    assert all(b >= a for a, b in itertools.pairwise(ps)), ps
    assert all(0.0 <= p <= 1.0 for p in ps)


def test_without_drift_only_the_log_distance_counts():
    """Up and down barriers the same log distance away are equally likely to be touched (zero drift)."""
    years = horizon_years(24)
    assert touch_probability(100.0, 90.0, 0.8, years) == pytest.approx(
        touch_probability(100.0, 100.0 * 100.0 / 90.0, 0.8, years), rel=1e-12
    )


@pytest.mark.parametrize("hours", [0.0, -1.0, math.inf, math.nan])
def test_a_horizon_that_is_not_positive_is_refused(hours):
    with pytest.raises(ValueError, match="horizon"):
        horizon_years(hours)


def test_per_position_figures_from_the_engine():
    """A long isolated, a short cross, and a book position without a volatility: the figure at the engine's
    own liquidation price, or None with the reason."""
    m = [market("BTC/USDT:USDT", 0.004), market("ETH/USDT:USDT", 0.005)]
    positions = [
        pos("BTC/USDT:USDT", Side.LONG, 1.0, 90_000.0, MarginMode.ISOLATED, 10.0, 9_000.0),
        pos("ETH/USDT:USDT", Side.SHORT, 10.0, 3_000.0, MarginMode.CROSS, 10.0),
    ]
    b = book("binanceusdm", 5_000.0, positions, m)
    prices = {("binanceusdm", "BTC/USDT:USDT"): 88_000.0, ("binanceusdm", "ETH/USDT:USDT"): 3_100.0}
    risk = evaluate_book(b, prices)
    odds = position_odds(risk.positions, b, {("binanceusdm", "BTC/USDT:USDT"): 0.5}, 24)
    btc = risk.positions[0]
    assert odds[0].probability == touch_probability(88_000.0, btc.liquidation_price, 0.5, horizon_years(24))
    assert 0.0 < odds[0].probability < 1.0
    assert odds[1].probability is None
    assert "no volatility for ETH/USDT:USDT on binanceusdm" in odds[1].reason


def test_a_position_past_its_liquidation_price_is_certain():
    m = [market("BTC/USDT:USDT", 0.004)]
    long = pos("BTC/USDT:USDT", Side.LONG, 1.0, 90_000.0, MarginMode.ISOLATED, 10.0, 9_000.0)
    b = book("binanceusdm", 0.0, [long], m)
    risk = evaluate_book(b, {("binanceusdm", "BTC/USDT:USDT"): 70_000.0})
    assert risk.positions[0].distance_to_liquidation <= 0
    [odds] = position_odds(risk.positions, b, {("binanceusdm", "BTC/USDT:USDT"): 0.5}, 24)
    assert odds.probability == 1.0


def test_many_positions_at_once_give_each_ones_own_figure():
    """touch_probabilities (the live column): the scalar figure per row; past liquidation 1, no liquidation
    price 0, an unknown mark or volatility NaN (never a made-up figure)."""
    from engine.margin.liquidation_odds import touch_probabilities

    nan = math.nan
    mark = np.array([100.0, 100.0, 100.0, 100.0, nan, 100.0])
    liquidation = np.array([80.0, 130.0, 101.0, nan, 80.0, 80.0])
    distance = np.array([0.2, 0.3, -0.01, nan, 0.2, 0.2])
    volatility = np.array([0.8, 1.2, 0.8, 0.8, 0.8, nan])
    p = touch_probabilities(mark, liquidation, distance, volatility, 24.0)
    years = horizon_years(24.0)
    assert p[0] == touch_probability(100.0, 80.0, 0.8, years)
    assert p[1] == touch_probability(100.0, 130.0, 1.2, years)
    assert p[2] == 1.0 and p[3] == 0.0
    assert math.isnan(p[4]) and math.isnan(p[5])
    with pytest.raises(ValueError):
        touch_probabilities(mark, liquidation, distance, volatility, 0.0)


def test_the_likely_range_holds_the_horizons_end_price_with_its_coverage():
    from engine.margin.liquidation_odds import likely_range

    low, high = likely_range(100.0, 0.8, 24.0, coverage=0.9)
    assert low < 100.0 < high and math.isclose(math.log(high / 100.0), -math.log(low / 100.0))
    end = 100.0 * np.exp(0.8 * math.sqrt(horizon_years(24.0)) * np.random.default_rng(8).standard_normal(200_000))
    inside = float(np.mean((end >= low) & (end <= high)))
    assert abs(inside - 0.9) < 4 * math.sqrt(0.9 * 0.1 / 200_000)
    assert likely_range(100.0, 0.8, 168.0)[1] > high  # a longer horizon, a wider range
    with pytest.raises(ValueError):
        likely_range(100.0, 0.8, 24.0, coverage=1.0)
