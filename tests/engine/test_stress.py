"""The uniform move of all cross positions that liquidates an account."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from engine.margin.layout import book_layout
from engine.margin.model import MarginMode, PositionMode, Side
from engine.margin.risk import evaluate_book
from engine.margin.stress import cross_surplus, uniform_move_to_liquidation
from tests.engine.books import book, market, pos
from tests.engine.strategies import books

KEY = ("binanceusdm", "BTC/USDT:USDT")


def test_with_one_cross_position_it_is_that_positions_distance():
    b = book("binanceusdm", 5_000, [pos("BTC/USDT:USDT", Side.LONG, 1, 60_000)], [market("BTC/USDT:USDT", 0.005)])
    prices = {KEY: 60_000.0}
    distance = evaluate_book(b, prices).positions[0].distance_to_liquidation
    assert uniform_move_to_liquidation(b, prices, "acct") == pytest.approx(-distance, abs=1e-9)


def test_a_hedged_account_survives_large_moves_both_ways():
    eth = ("binanceusdm", "ETH/USDT:USDT")
    b = book(
        "binanceusdm",
        20_000,
        [pos("BTC/USDT:USDT", Side.LONG, 1, 60_000), pos("ETH/USDT:USDT", Side.SHORT, 20, 3_000)],
        [market("BTC/USDT:USDT", 0.005), market("ETH/USDT:USDT", 0.005)],
        PositionMode.ONEWAY,
    )
    prices = {KEY: 60_000.0, eth: 3_000.0}
    move = uniform_move_to_liquidation(b, prices, "acct")
    single = evaluate_book(b, prices).positions[0].distance_to_liquidation
    assert move is None or abs(move) > single  # the short offsets the long under a uniform move


def test_isolated_only_accounts_have_no_uniform_move():
    b = book(
        "binanceusdm",
        5_000,
        [pos("BTC/USDT:USDT", Side.LONG, 1, 60_000, MarginMode.ISOLATED, 10, 6_000)],
        [market("BTC/USDT:USDT", 0.005)],
    )
    assert uniform_move_to_liquidation(b, {KEY: 60_000.0}, "acct") is None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(continuous=True))
def test_at_the_move_the_cross_surplus_is_zero_and_nothing_nearer_liquidates(case):
    b, prices = case
    layout = book_layout(b)
    for account in b.accounts:
        move = uniform_move_to_liquidation(b, prices, account.name, layout)
        if move is None or move == 0.0:
            continue
        scale = (
            abs(layout.cross_wallet[account.name])
            + sum(leg.leg.nu * abs(prices[leg.price_key]) for leg in layout.legs if leg.account == account.name)
            + 1.0
        )
        assert abs(cross_surplus(layout, prices, account.name, move)) <= 1e-7 * scale
        for fraction in (0.25, 0.5, 0.75, 0.95):
            assert cross_surplus(layout, prices, account.name, move * fraction) > 0


def test_the_equity_ladder_moves_with_the_cross_pnl_and_caps_isolated_and_cross_losses():
    from engine.margin.stress import equity_ladder

    b = book(
        "binanceusdm",
        10_000,
        [
            pos("BTC/USDT:USDT", Side.LONG, 1, 60_000),
            pos("ETH/USDT:USDT", Side.LONG, 10, 3_000, MarginMode.ISOLATED, 10, 3_000),
        ],
        [market("BTC/USDT:USDT", 0.005), market("ETH/USDT:USDT", 0.005)],
    )
    prices = {KEY: 60_000.0, ("binanceusdm", "ETH/USDT:USDT"): 3_000.0}
    flat, down10, down50 = equity_ladder(b, prices, "acct", [0.0, -0.10, -0.50])
    assert flat == 10_000
    assert down10 == pytest.approx(10_000 - 6_000 - 3_000)  # BTC -6,000; ETH -3,000 = its whole margin
    # Past the cross liquidation point (about -11%) the cross balance (7,000) is gone, never negative; ETH's
    # loss stays capped at its margin: nothing is left, and nothing below zero.
    assert down50 == pytest.approx(0.0)
