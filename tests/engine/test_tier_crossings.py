"""The account move searches find the nearest liquidation when a tier crossing makes the surplus jump.

On a table without maintenance amounts (OKX, Gate) a long falling into a lower tier has its maintenance drop: the
surplus rises at the crossing, so a liquidated stretch can end there and a safer one follow. Both searches (scalar
and vectorised) used to return the farther root, or skip a liquidated stretch lying between two grid moves: a
move farther than the one that liquidates. A one-position account liquidates exactly where its position does, so
the position's liquidation price is the truth these tests hold both searches to.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.margin.layout import book_layout
from engine.margin.model import Account, Book, MarginMode, MarketSpec, Position, PositionMode, Side, Tier
from engine.margin.risk import evaluate_book
from engine.margin.stress import cross_surplus, uniform_move_to_liquidation
from engine.margin.tier_crossings import jumps, probe_points
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch

SYMBOL, INVERSE = "X/USDT:USDT", "C/USD:C"


def _one_position(wallet: float, bound: float, rates: tuple[float, float], side: Side = Side.LONG, inverse=False):
    """An OKX-style cross account holding one position at entry = mark = 100: tiers [0, bound) and [bound, inf)
    at the two rates, no maintenance amounts. Linear: 1,000 X (contract 1); inverse: 1,000 contracts of 100 USD."""
    symbol = INVERSE if inverse else SYMBOL
    tiers = (Tier(0.0, bound, rates[0], 0.0, 100), Tier(bound, 1e15, rates[1], 0.0, 50))
    market = MarketSpec(symbol, tiers, 100.0 if inverse else 1.0, inverse, 0.0, 100)
    account = Account("acct", "okx", wallet, "C" if inverse else "USDT")
    position = Position("acct", symbol, side, 1000.0, 100.0, MarginMode.CROSS, 10.0)
    return Book((account,), (position,), {("okx", symbol): market}), {("okx", symbol): 100.0}


def _both_searches(book: Book, prices) -> tuple[float | None, float | None]:
    compiled = CompiledBook(book)
    vectorised = MoveSearch(compiled).moves(compiled.prices_from(prices))[0]
    return vectorised, uniform_move_to_liquidation(book, prices, "acct", book_layout(book))


@pytest.mark.parametrize(
    ("wallet", "bound", "rates", "expected"),
    [
        # 1,000 X long at 100 on 10,400 USDT: liquidated at 90.964 (-9.0355%), in the 1.5% tier; below 90.6 the
        # 1% tier's maintenance lets it breathe again until about 90.5 (-9.49%): the answer was -9.49%.
        (10_400.0, 90_600.0, (0.01, 0.015), -0.0903553299),
        # A thin wallet and a 10% upper tier: liquidated at 44.44 (-55.56%); the answer was -59.80%.
        (60_000.0, 42_000.0, (0.005, 0.10), -0.5555555556),
    ],
)
def test_a_long_is_liquidated_at_its_first_root_not_below_the_tier_where_it_breathes_again(
    wallet, bound, rates, expected
):
    book, prices = _one_position(wallet, bound, rates)
    liquidation = evaluate_book(book, prices).positions[0].liquidation_price
    assert liquidation / 100 - 1 == pytest.approx(expected, abs=1e-9)
    for move in _both_searches(book, prices):
        assert move == pytest.approx(expected, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    root=st.floats(0.002, 0.85),
    gap=st.floats(1e-4, 0.06),
    island=st.floats(1e-4, 0.06),
    low_rate=st.floats(0.001, 0.05),
)
def test_a_liquidated_stretch_between_two_grid_moves_is_found(root, gap, island, low_rate):
    """Random books shaped to have the trap: liquidated at `root` below the mark, the tier bound `gap` below
    that (a stretch of 0.01% to 6%, often between two grid moves), safe again for up to `island` more. Both
    searches give the position's own liquidation move."""
    first = 100.0 * (1 - root)  # the first liquidation price
    bound_price = first * (1 - gap)
    second = bound_price * (1 - island)
    high_rate = 1 - (1 - low_rate) * second / first  # makes the lower tier's root lie at `second`
    wallet = 100.0 - first * (1 - high_rate)  # per unit: liquidated at `first` in the upper tier
    if not (0 < high_rate < 1 and wallet > 0):
        return
    book, prices = _one_position(wallet * 1000, bound_price * 1000, (low_rate, high_rate))
    liquidation = evaluate_book(book, prices).positions[0].liquidation_price
    truth = liquidation / 100 - 1
    for move in _both_searches(book, prices):
        assert move == pytest.approx(truth, abs=1e-9)
        layout = book_layout(book)
        assert cross_surplus(layout, prices, "acct", truth * (1 - 1e-6)) > 0  # just short of it: still safe


def test_an_inverse_short_rising_through_a_tier_bound_is_liquidated_at_its_first_root():
    """An inverse short's coin notional falls as the price rises (it crosses into the lower tier going up): the
    same trap on the other side. 1,000 contracts of 100 USD short at 100 on 236 coins: liquidated at +26.52%;
    both searches said +28.48%."""
    book, prices = _one_position(236.0, 789.0, (0.0184, 0.0334), Side.SHORT, inverse=True)
    liquidation = evaluate_book(book, prices).positions[0].liquidation_price
    assert liquidation / 100 - 1 == pytest.approx(0.26518, abs=1e-5)
    for move in _both_searches(book, prices):
        assert move == pytest.approx(liquidation / 100 - 1, abs=1e-9)


def test_the_points_read_around_crossings_go_out_from_the_marks_and_stay_inside_the_step():
    """Where the maintenance jumps the surplus is read on both sides of the crossing; where it only bends, at it."""
    crossings = [(-0.05, True), (-0.02, True), (-0.2, True), (0.3, True), (-0.07, False)]
    assert probe_points(crossings, 0.0, -0.1) == pytest.approx(
        [-0.02 + 1e-11, -0.02, -0.02 - 1e-11, -0.05 + 1e-11, -0.05, -0.05 - 1e-11, -0.07]
    )
    assert probe_points([(0.5, True)], 0.0, 0.5) == [pytest.approx(0.5 - 1e-11)]  # at the end itself: before it
    assert probe_points([], 0.0, 1.0) == []


def test_binances_tiers_do_not_jump_and_okxs_do():
    """Binance's amounts keep maintenance continuous at each bound (the surplus only bends there); an OKX-style
    table without amounts jumps."""
    from engine.margin.liquidation import applied_tiers
    from engine.margin.rules import profile_for
    from engine.margin.tiers import bundled_market

    okx_book, _ = _one_position(10_400.0, 90_600.0, (0.01, 0.015))
    for market, exchange, jumping in (
        (bundled_market("binanceusdm", "BTC/USDT:USDT"), "binanceusdm", False),
        (okx_book.markets[("okx", SYMBOL)], "okx", True),
    ):
        tiers = applied_tiers(market, profile_for(exchange))
        below, above = tiers[:-1], tiers[1:]
        found = jumps(
            np.array([t.lower for t in above]),
            np.array([t.rate for t in below]),
            np.array([t.amount for t in below]),
            np.array([t.rate for t in above]),
            np.array([t.amount for t in above]),
        )
        assert len(found) and found.any() == jumping and found.all() == jumping, exchange


@settings(max_examples=60, deadline=None)
@given(
    legs=st.lists(
        st.tuples(
            st.floats(0.5, 5e4),  # mark
            st.floats(0.01, 1e3),  # contracts
            st.booleans(),  # long
            st.lists(st.floats(0.05, 4.0), min_size=1, max_size=6),  # bounds, as multiples of the notional
            st.booleans(),  # hedged by the other side
        ),
        min_size=1,
        max_size=4,
    ),
    move=st.floats(-0.9, 3.0),
)
def test_the_running_sums_read_the_surplus_each_leg_gives(legs, move):
    """The vectorised search reads the surplus at thousands of crossings from running sums of each crossing's
    change of rate and amount, not leg by leg: at every read it equals the surplus evaluated leg by leg."""
    markets, prices, positions = {}, {}, []
    for j, (mark, contracts, long, multiples, hedged) in enumerate(legs):
        symbol, notional = f"S{j}/USDT:USDT", mark * contracts
        bounds = sorted({round(k * notional, 6) for k in multiples})
        lowers = [0.0, *bounds]
        tiers = tuple(
            Tier(lower, upper, 0.004 * (k + 1), 0.0, 100 / (k + 1))
            for k, (lower, upper) in enumerate(zip(lowers, [*bounds, 1e15], strict=True))
        )
        markets[("okx", symbol)] = MarketSpec(symbol, tiers, 1.0, False, 0.0, 100)
        prices[("okx", symbol)] = mark
        side = Side.LONG if long else Side.SHORT
        positions.append(Position("acct", symbol, side, contracts, mark, MarginMode.CROSS, 10.0))
        if hedged:
            positions.append(Position("acct", symbol, side.opposite, contracts / 2, mark, MarginMode.CROSS, 10.0))
    book = Book((Account("acct", "okx", 1e9, "USDT", PositionMode.HEDGE),), tuple(positions), markets)
    compiled = CompiledBook(book)
    search = MoveSearch(compiled)
    base = compiled.prices_from(prices)[search.price]
    now = search._surplus(base[None, :])[0]
    grid = search.up if move > 0 else search.down
    reads = search._crossing_reads(base, grid, now, np.array([move]))
    if reads is None:
        return
    _, at, surplus = reads
    exact = search._surplus(base[None, :] * (1 + at[:, None]))[:, 0]
    assert surplus == pytest.approx(exact, rel=1e-9, abs=1e-6)


def test_a_long_near_one_times_leverage_liquidated_below_minus_95_percent_has_its_move():
    """The grid stopped at -95%, the documented end is -99%: a long of about 1x (97,000 USDT behind 1,000 X at 100,
    0.5% maintenance) is liquidated at -96.98%, and both searches said it had no move at all."""
    book, prices = _one_position(97_000.0, 1e9, (0.005, 0.005))
    liquidation = evaluate_book(book, prices).positions[0].liquidation_price
    assert liquidation / 100 - 1 == pytest.approx(-0.9698, abs=1e-4)
    for move in _both_searches(book, prices):
        assert move == pytest.approx(liquidation / 100 - 1, abs=1e-9)
