"""Realized volatility and correlation from hourly series (engine.market.volatility), on seeded random walks of
known volatility and correlation: the estimates must come back within a few standard errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.margin.liquidation_odds import HOURS_PER_YEAR
from engine.market.volatility import correlation, hourly_series, market_volatility, realized_volatility

START = 1_764_547_200  # 2025-12-01 00:00 UTC, an hour boundary


def walk(sigma, hours, seed=5, *, per_hour=1, normals=None):
    """Times (Unix s) and prices of a driftless log-price walk sampled per_hour times an hour."""
    n = hours * per_hour
    z = np.random.default_rng(seed).standard_normal(n) if normals is None else normals
    steps = sigma * math.sqrt(1 / (HOURS_PER_YEAR * per_hour)) * z
    times = START + np.arange(1, n + 1) * 3600.0 / per_hour - 1.0  # the last sample of each sub-period
    return times, 100.0 * np.exp(np.cumsum(steps))


def test_thirty_days_of_hourly_closes_give_back_the_volatility():
    series = hourly_series(*walk(0.8, 720))
    estimate = realized_volatility(series)
    assert estimate == pytest.approx(0.8, abs=3 * 0.8 / math.sqrt(2 * 720))


def test_a_series_with_missing_hours_is_not_biased():
    times, prices = walk(0.8, 1440)
    kept = np.arange(len(times)) % 3 != 1  # a third of the hours lost
    assert realized_volatility(hourly_series(times[kept], prices[kept])) == pytest.approx(0.8, abs=0.07)


def test_the_mark_history_is_resampled_to_hours():
    """Ticks every 30 s: the last mark of each hour; the same volatility."""
    times, prices = walk(1.5, 24 * 20, per_hour=120)
    series = hourly_series(times[::-1], prices[::-1])  # any order
    assert len(series[0]) == 24 * 20
    assert realized_volatility(series) == pytest.approx(1.5, abs=3 * 1.5 / math.sqrt(2 * 480))


def test_too_short_a_series_gives_no_estimate():
    assert realized_volatility(hourly_series(*walk(0.8, 20))) is None
    assert realized_volatility(hourly_series([START, START + 10], [100.0, 101.0])) is None


def test_correlation_of_two_walks():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal(720), rng.standard_normal(720)
    a = hourly_series(*walk(0.8, 720, normals=x))
    b = hourly_series(*walk(1.1, 720, normals=0.6 * x + 0.8 * y))  # correlation 0.6
    assert correlation(a, b) == pytest.approx(0.6, abs=0.08)
    assert correlation(a, a) == pytest.approx(1.0)
    later = (b[0] + 10_000, b[1])  # no hour in common
    assert correlation(a, later) is None


def test_typed_wins_then_candles_then_mark_history():
    k1, k2, k3, k4 = (("x", s) for s in ("A", "B", "C", "D"))
    candles = {k1: hourly_series(*walk(0.5, 720, seed=1)), k2: hourly_series(*walk(0.5, 720, seed=2))}
    marks = {k2: hourly_series(*walk(2.0, 720, seed=3)), k3: hourly_series(*walk(2.0, 720, seed=4))}
    mv = market_volatility([k1, k2, k3, k4], {k1: 0.9}, candles, marks)
    assert mv.source == ("portfolio file", "candles", "mark history", "")
    assert mv.of(k1) == 0.9
    assert mv.of(k2) == pytest.approx(0.5, abs=0.08)
    assert mv.of(k3) == pytest.approx(2.0, abs=0.3)
    assert mv.of(k4) is None
    assert np.isnan(mv.correlation[0, 3]) and np.isnan(mv.correlation[3, 0])
    assert abs(mv.correlation[0, 1]) < 0.15  # independent walks
    assert np.allclose(np.diag(mv.correlation), 1.0)


def test_the_correlation_matrix_is_the_pairwise_correlation_of_gappy_series():
    """market_volatility's matrix (one product over a grid of hours) against correlation() pair by pair: series
    with gaps, of different lengths, too short, missing, and one that never moves."""
    import itertools

    from engine.market.volatility import correlation_matrix

    rng = np.random.default_rng(4)
    series = []
    for _ in range(25):
        n = int(rng.integers(10, 600))
        hours = np.sort(rng.choice(np.arange(800), size=n, replace=False)).astype(np.int64)
        series.append((hours, 100 * np.exp(np.cumsum(rng.standard_normal(n) * 0.01))))
    series[3] = None
    series[5] = (np.arange(100, dtype=np.int64), np.full(100, 5.0))
    matrix = correlation_matrix(series)
    for i, j in itertools.combinations(range(len(series)), 2):
        a, b = series[i], series[j]
        expected = None if a is None or b is None else correlation(a, b)
        if expected is None:
            assert np.isnan(matrix[i, j]) and np.isnan(matrix[j, i])
        else:
            assert matrix[i, j] == pytest.approx(expected, abs=1e-12) and matrix[j, i] == matrix[i, j]
    assert any(not np.isnan(matrix[i, j]) for i, j in itertools.combinations(range(len(series)), 2))
