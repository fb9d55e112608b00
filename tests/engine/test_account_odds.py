"""The Monte Carlo probability that a cross account is liquidated (engine.margin.account_odds).

Known answers: a one-position account is the closed form of engine.margin.liquidation_odds (checked hourly,
so at the Broadie-Glasserman-Kou shifted barrier, and below the continuous figure); with correlation +1 two
longs are one long of both sizes and a long against a short of the same size cannot lose; with correlation
-1 two longs of the same size cannot lose (one gains what the other loses, and more); with +1 a long against
a short of the same size only pays the maintenance margin of a common rise (one barrier, the closed form).
"""

from __future__ import annotations

import math

import numpy as np

from engine.margin.account_odds import account_odds, factor
from engine.margin.liquidation_odds import discrete_barrier, horizon_years, touch_probability
from engine.margin.model import MarginMode, PositionMode, Side
from engine.margin.vectorised import CompiledBook
from tests.engine.books import book, market, pos

EX = "binanceusdm"
A, B = "AAA/USDT:USDT", "BBB/USDT:USDT"


def run(b, marks, vols, corr, hours=24.0, paths=20_000, steps=None, seed=1):
    compiled = CompiledBook(b)
    m = compiled.prices_from({(EX, s): v for s, v in marks.items()})
    v = np.array([vols.get(key[1], np.nan) for key in compiled.price_keys])
    return account_odds(compiled, m, v, np.asarray(corr, dtype=float), hours, paths=paths, steps=steps, seed=seed)


def closed_form_hourly(mark, liquidation, sigma, hours):
    years = horizon_years(hours)
    shifted = discrete_barrier(mark, liquidation, sigma, years / math.ceil(hours))
    return touch_probability(mark, shifted, sigma, years), touch_probability(mark, liquidation, sigma, years)


def test_one_position_account_agrees_with_the_closed_form():
    b = book(EX, 900.0, [pos(A, Side.LONG, 100.0, 100.0, leverage=10.0)], [market(A, 0.01)])
    compiled = CompiledBook(b)
    liquidation = float(compiled.recompute(np.array([100.0])).liquidation_price[0])
    [odds] = run(b, {A: 100.0}, {A: 1.2}, [[1.0]])
    hourly, continuous = closed_form_hourly(100.0, liquidation, 1.2, 24.0)
    assert 0.05 < hourly < 0.95
    assert abs(odds.probability - hourly) <= 4 * odds.standard_error + 0.003, (odds, hourly)
    assert odds.probability < continuous
    assert "20000 paths" in odds.model and "every 1 h" in odds.model


def test_hedge_mode_pair_is_the_closed_form_at_its_shared_liquidation_price():
    """A long and a short of one symbol in hedge mode share one liquidation price (engine.margin.layout)."""
    legs = [pos(A, Side.LONG, 100.0, 100.0, leverage=20.0), pos(A, Side.SHORT, 40.0, 104.0, leverage=20.0)]
    b = book(EX, 350.0, legs, [market(A, 0.01)], PositionMode.HEDGE)
    liquidation = float(CompiledBook(b).recompute(np.array([100.0])).liquidation_price[0])
    [odds] = run(b, {A: 100.0}, {A: 1.0}, [[1.0]])
    hourly, _ = closed_form_hourly(100.0, liquidation, 1.0, 24.0)
    assert 0.05 < hourly < 0.95
    assert abs(odds.probability - hourly) <= 4 * odds.standard_error + 0.003, (odds, hourly)


def two_symbol_book(side_b: Side, wallet: float = 900.0):
    positions = [pos(A, Side.LONG, 50.0, 100.0), pos(B, side_b, 50.0, 100.0)]
    return book(EX, wallet, positions, [market(A, 0.01), market(B, 0.01)])


def test_correlation_plus_one_two_longs_are_one_long_of_both_sizes():
    together = run(two_symbol_book(Side.LONG), {A: 100.0, B: 100.0}, {A: 1.2, B: 1.2}, [[1, 1], [1, 1]])[0]
    one = run(book(EX, 900.0, [pos(A, Side.LONG, 100.0, 100.0)], [market(A, 0.01)]), {A: 100.0}, {A: 1.2}, [[1]])
    assert 0.05 < one[0].probability < 0.95
    gap = 4 * math.hypot(together.standard_error, one[0].standard_error)
    assert abs(together.probability - one[0].probability) <= gap


def test_correlation_minus_one_two_longs_of_one_size_are_never_liquidated():
    """One gains more than the other loses (A + B = 200 cosh x >= 200): the surplus is least where it is now."""
    b = two_symbol_book(Side.LONG, wallet=120.0)  # a thin wallet: an independent fall of either liquidates it
    [odds] = run(b, {A: 100.0, B: 100.0}, {A: 1.2, B: 1.2}, [[1.0, -1.0], [-1.0, 1.0]])
    assert odds.probability == 0.0
    [independent] = run(b, {A: 100.0, B: 100.0}, {A: 1.2, B: 1.2}, [[1.0, 0.0], [0.0, 1.0]])
    assert independent.probability > 0.2


def test_correlation_plus_one_long_against_short_is_liquidated_only_by_the_maintenance_of_a_rise():
    """The PnL of the pair cancels; the maintenance margin 1% x 50 x (A + B) = A at a common price A eats the
    wallet of 108: one barrier at A = 108, the closed form's (checked hourly)."""
    b = two_symbol_book(Side.SHORT, wallet=108.0)
    [odds] = run(b, {A: 100.0, B: 100.0}, {A: 1.2, B: 1.2}, [[1.0, 1.0], [1.0, 1.0]])
    hourly, continuous = closed_form_hourly(100.0, 108.0, 1.2, 24.0)
    assert 0.05 < hourly < 0.95
    assert abs(odds.probability - hourly) <= 4 * odds.standard_error + 0.003, (odds, hourly)
    [anti] = run(b, {A: 100.0, B: 100.0}, {A: 1.2, B: 1.2}, [[1.0, -1.0], [-1.0, 1.0]])
    assert anti.probability > continuous  # with -1 the two legs lose together


def test_accounts_without_a_figure_say_why():
    isolated = book(EX, 1_000.0, [pos(A, Side.LONG, 1.0, 100.0, MarginMode.ISOLATED, 10.0, 10.0)], [market(A, 0.01)])
    [odds] = run(isolated, {A: 100.0}, {A: 0.5}, [[1.0]])
    assert odds.probability is None and "no cross position" in odds.reason
    b = two_symbol_book(Side.LONG)
    [odds] = run(b, {A: 100.0, B: 100.0}, {A: 0.5}, [[1, 0], [0, 1]])
    assert odds.probability is None and "no volatility for BBB/USDT:USDT" in odds.reason
    [odds] = run(b, {A: 100.0, B: 100.0}, {A: 0.5, B: 0.5}, [[1, np.nan], [np.nan, 1]])
    assert odds.probability is None and "correlation of AAA/USDT:USDT and BBB/USDT:USDT is unknown" in odds.reason
    [odds] = run(b, {A: 100.0}, {A: 0.5, B: 0.5}, [[1, 0], [0, 1]])
    assert odds.probability is None and "waits for the mark of BBB/USDT:USDT" in odds.reason


def test_an_account_past_its_liquidation_point_is_certain():
    b = book(EX, 100.0, [pos(A, Side.LONG, 100.0, 100.0)], [market(A, 0.01)])
    [odds] = run(b, {A: 90.0}, {A: 0.5}, [[1.0]])
    assert odds.probability == 1.0 and odds.standard_error == 0.0


def test_the_same_seed_gives_the_same_figure_and_another_seed_agrees_within_its_error():
    b = two_symbol_book(Side.LONG)
    args = ({A: 100.0, B: 100.0}, {A: 1.0, B: 0.8}, [[1, 0.6], [0.6, 1]])
    first, again, other = run(b, *args, seed=3)[0], run(b, *args, seed=3)[0], run(b, *args, seed=5)[0]
    assert first == again
    assert first.probability != other.probability
    assert abs(first.probability - other.probability) <= 4 * math.hypot(first.standard_error, other.standard_error)


def test_factor_reproduces_a_singular_covariance():
    cov = np.array([[1.0, -1.0], [-1.0, 1.0]]) * 0.04
    a = factor(cov)
    assert np.allclose(a @ a.T, cov)


def test_the_per_symbol_surplus_is_the_engines_at_marks_far_and_near():
    """CrossSurplus (per symbol, tiers recounted only where a mark left its band) equals MoveSearch's sum over
    every leg, on real Binance tier tables, hedge pairs, an inverse contract and moves that cross tiers."""
    from engine.margin.account_odds import CrossSurplus
    from engine.margin.model import Account, Book, Position
    from engine.margin.tiers import bundled_table
    from engine.margin.vectorised_stress import MoveSearch

    linear = bundled_table("binanceusdm").markets
    symbols = ["BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "DOGE/USDT:USDT"]
    marks = {"BTC/USDT:USDT": 92_000.0, "ETH/USDT:USDT": 3_200.0, "SOL/USDT:USDT": 127.0, "DOGE/USDT:USDT": 0.157}
    markets = {("binanceusdm", s): linear[s] for s in symbols}
    markets[("binancecoinm", "BTC/USD:BTC")] = bundled_table("binancecoinm").markets["BTC/USD:BTC"]
    rng = np.random.default_rng(4)
    positions = []
    for k in range(40):
        s = symbols[k % 4]
        account = "hedged" if k % 2 else "oneway"
        side = Side.LONG if (k // 4) % 2 else Side.SHORT
        if account == "oneway":
            side = Side.LONG if s in ("BTC/USDT:USDT", "SOL/USDT:USDT") else Side.SHORT
        size = float(10 ** rng.uniform(4, 6.3)) / marks[s]  # notionals across the first tiers' bounds
        positions.append(Position(account, s, side, size, marks[s] * rng.uniform(0.95, 1.05), MarginMode.CROSS, 20))
    positions.append(Position("coin", "BTC/USD:BTC", Side.LONG, 300, 90_000.0, MarginMode.CROSS, 20))
    accounts = (
        Account("hedged", "binanceusdm", 2e6, "USDT", PositionMode.HEDGE),
        Account("oneway", "binanceusdm", 2e6, "USDT"),
        Account("coin", "binancecoinm", 1.0, "BTC"),
    )
    compiled = CompiledBook(Book(accounts, tuple(positions), markets))
    now = compiled.prices_from(
        {**{("binanceusdm", s): v for s, v in marks.items()}, ("binancecoinm", "BTC/USD:BTC"): 92_000.0}
    )
    search = MoveSearch(compiled)
    fast = CrossSurplus(search, np.arange(len(search.legs)), now)
    moved = now[fast.keys] * np.exp(rng.normal(0.0, 0.4, (2_000, len(fast.keys))))
    moved[:5] = now[fast.keys]  # and the current marks themselves
    expected = search.cross_surplus(moved[:, fast.column])
    got = fast(moved)
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-6 * np.abs(expected).max())
    z = np.where(fast.key_inverse, 1 / moved, moved)
    assert ((z < fast.low) | (z >= fast.high)).mean() > 0.2  # the test did cross tiers
