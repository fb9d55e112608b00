"""The account's margin ratio is its cross margin ratio; isolated positions have their own (issue: every
number on screen is true). Each example is checked on the scalar and the vectorised path."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings

from engine.book.portfolio import parse_portfolio
from engine.margin.layout import book_layout
from engine.margin.live_risk import LiveEvaluator
from engine.margin.model import Book, MarginMode, Side
from engine.margin.risk import evaluate_book
from engine.margin.stress import equity_ladder
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch
from engine.monitor.levels import Level, Thresholds, ratio_level
from engine.monitor.report import account_ratio_text, risk_to_dict
from tests.engine.books import book, market, pos
from tests.engine.strategies import books
from tests.portfolio_docs import portfolio_doc, position_doc

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# The example (bundled Binance tiers): 9,000 USDT of isolated ETH margin used to dilute the ratio of
# an account whose only cross position, a BTC long, is past its liquidation price (4.06%, green, no alert).
DILUTED = portfolio_doc(
    position_doc(
        "ETH/USDT:USDT", contracts=10, entry_price=3_000, margin_mode="isolated", leverage=1, isolated_margin=9_000
    ),
    position_doc("BTC/USDT:USDT", contracts=1, entry_price=60_000, margin_mode="cross", leverage=20),
    wallet_balance=10_000,
    prices={"BTC/USDT:USDT": 59_000, "ETH/USDT:USDT": 3_000},
)


def both_paths(b, prices):
    return [evaluate_book(b, prices), LiveEvaluator(b).evaluate(prices)[0]]


@pytest.mark.parametrize("path", [0, 1], ids=["scalar", "vectorised"])
def test_isolated_collateral_never_dilutes_a_liquidated_cross_account(path):
    portfolio = parse_portfolio(DILUTED)
    risk = both_paths(portfolio.book, portfolio.price_map())[path]
    eth, btc = risk.positions
    # BTC: tier 2 at 59,000 (0.5%, amount 50): 1,000 + (p - 60,000) = 0.005 p - 50  ->  p = 58,950 / 0.995.
    assert btc.liquidation_price == pytest.approx(58_950 / 0.995)
    assert btc.distance_to_liquidation == pytest.approx((59_000 - 58_950 / 0.995) / 59_000)  # -0.42%
    account = risk.accounts[0]
    assert account.cross_margin_balance == pytest.approx(0.0)  # 10,000 - 9,000 isolated - 1,000 BTC loss
    assert account.cross_maintenance_margin == pytest.approx(59_000 * 0.005 - 50)
    assert account.liquidated and account.margin_ratio is None
    assert account_ratio_text(account) == "liquidated (cross balance gone)"
    assert ratio_level(account.margin_ratio, Thresholds(), equity_gone=account.liquidated) is Level.LIQUIDATED
    # ETH keeps its own ratio: 30,000 x 0.4% / 9,000.
    assert eth.margin_ratio == pytest.approx(120 / 9_000)
    assert btc.margin_ratio is None  # its account's cross ratio: none, the cross balance is gone


def test_the_json_report_carries_the_cross_ratio_and_each_positions_own():
    portfolio = parse_portfolio(DILUTED)
    document = risk_to_dict(evaluate_book(portfolio.book, portfolio.price_map()))
    (account,) = document["accounts"]
    assert account["margin_ratio"] is None and account["liquidated"] is True
    assert account["cross_margin_balance"] == pytest.approx(0.0)
    assert [p["margin_ratio"] for p in document["positions"]] == [pytest.approx(120 / 9_000), None]
    assert account["estimate"] is False and account["estimate_reason"] is None


@pytest.mark.parametrize("path", [0, 1], ids=["scalar", "vectorised"])
def test_a_healthy_cross_ratio_ignores_isolated_margin(path):
    b = book(
        "binanceusdm",
        12_000,
        [
            pos("BTC/USDT:USDT", Side.LONG, 1, 60_000, MarginMode.CROSS, 20),
            pos("ETH/USDT:USDT", Side.LONG, 10, 3_000, MarginMode.ISOLATED, 5, 6_000),
        ],
        [market("BTC/USDT:USDT", 0.004), market("ETH/USDT:USDT", 0.004)],
    )
    prices = {("binanceusdm", "BTC/USDT:USDT"): 59_000.0, ("binanceusdm", "ETH/USDT:USDT"): 2_900.0}
    risk = both_paths(b, prices)[path]
    account = risk.accounts[0]
    # Cross: (12,000 - 6,000) - 1,000 = 5,000 balance, 59,000 x 0.4% = 236 maintenance.
    assert account.margin_ratio == pytest.approx(236 / 5_000)
    assert not account.liquidated
    eth = risk.positions[1]
    assert eth.margin_ratio == pytest.approx(29_000 * 0.004 / (6_000 - 1_000))
    assert risk.positions[0].margin_ratio == account.margin_ratio


@pytest.mark.parametrize("path", [0, 1], ids=["scalar", "vectorised"])
def test_an_account_with_no_cross_position_says_so(path):
    b = book(
        "binanceusdm",
        5_000,
        [pos("ETH/USDT:USDT", Side.SHORT, 1, 3_000, MarginMode.ISOLATED, 10, 300)],
        [market("ETH/USDT:USDT", 0.005)],
    )
    account = both_paths(b, {("binanceusdm", "ETH/USDT:USDT"): 3_100.0})[path].accounts[0]
    assert account.margin_ratio is None and not account.has_cross and not account.liquidated
    assert account_ratio_text(account) == "no cross position"


@pytest.mark.parametrize("path", [0, 1], ids=["scalar", "vectorised"])
def test_roe_is_on_the_initial_margin_at_the_mark_as_binance_shows_it(path):
    """Binance, "A Beginner's Guide to Futures Trading": ROI% = uPnL / (amount x mark x IMR).
    Long 1 BTC @ 10,000, 10x, mark 11,000: 1,000 / 1,100 = 90.91% (the old entry base said 100%)."""
    b = book(
        "binanceusdm",
        5_000,
        [pos("BTC/USDT:USDT", Side.LONG, 1, 10_000, leverage=10)],
        [market("BTC/USDT:USDT", 0.004)],
    )
    r = both_paths(b, {("binanceusdm", "BTC/USDT:USDT"): 11_000.0})[path].positions[0]
    assert r.roe == pytest.approx(1_000 / 1_100)
    assert round(r.roe * 100, 2) == 90.91


@pytest.mark.parametrize("path", [0, 1], ids=["scalar", "vectorised"])
def test_bybit_roe_is_on_the_position_margin_with_the_fee_to_close(path):
    """Bybit, "Profit and Loss calculations (USDT Contract)": 0.2 BTC long @ 7,000, 10x, price 7,500, taker
    0.055%: initial margin 140, fee to close at the bankruptcy price 6,300 x 0.2 x 0.055% = 0.693,
    ROI = 100 / 140.693 = 71.07%."""
    spec = market("BTC/USDT:USDT", 0.005, taker_fee=0.00055)
    b = book("bybit", 5_000, [pos("BTC/USDT:USDT", Side.LONG, 0.2, 7_000, leverage=10)], [spec])
    r = both_paths(b, {("bybit", "BTC/USDT:USDT"): 7_500.0})[path].positions[0]
    assert r.roe == pytest.approx(100 / (140 + 6_300 * 0.2 * 0.00055))
    assert math.floor(r.roe * 10_000) / 100 == 71.07  # the page truncates 71.0767% to 71.07%


def _cross_accounts(b):
    return {leg.account for leg in book_layout(b).legs if leg.cross}


@PROPERTY
@given(books(max_positions=8))
def test_a_cross_position_past_liquidation_puts_its_account_in_danger_or_worse(case):
    b, prices = case
    for risk in both_paths(b, prices):
        for r in risk.positions:
            distance = r.distance_to_liquidation
            if r.position.margin_mode is MarginMode.CROSS and distance is not None and distance <= 0:
                a = risk.account(r.position.account)
                assert ratio_level(a.margin_ratio, Thresholds(), equity_gone=a.liquidated) >= Level.DANGER
                assert a.liquidated or distance == 0  # exactly at the price: the ratio may round below 100%
        for a in risk.accounts:
            if a.liquidated:  # and the other way round: a liquidated account has no safe cross position
                mine = [r for r in risk.positions if r.position.account == a.account.name]
                assert all(
                    r.distance_to_liquidation is None or r.distance_to_liquidation <= 0
                    for r in mine
                    if r.position.margin_mode is MarginMode.CROSS
                )


@PROPERTY
@given(books(max_positions=6, continuous=True))
def test_at_a_cross_legs_liquidation_price_the_cross_ratio_is_one(case):
    b, prices = case
    risk = evaluate_book(b, prices)
    for r in risk.positions:
        if r.position.margin_mode is not MarginMode.CROSS or r.liquidation_price is None:
            continue
        key = (b.account(r.position.account).exchange, r.position.symbol)
        moved = dict(prices)
        moved[key] = r.liquidation_price
        for at in both_paths(b, moved):
            a = at.account(r.position.account)
            scale = a.wallet_balance + sum(abs(p.notional) for p in at.positions) + 1.0
            # equity = maintenance margin of the cross account, to rounding: the ratio is 1.
            assert abs(a.cross_margin_balance - a.cross_maintenance_margin) <= 1e-9 * scale
            if a.cross_margin_balance > 1e-6 * scale:
                assert a.margin_ratio == pytest.approx(1.0, rel=1e-6)


@PROPERTY
@given(books(max_positions=8))
def test_no_ladder_shows_a_negative_balance(case):
    b, prices = case
    layout = book_layout(b)
    moves = list(np.linspace(-0.9, 2.0, 59))
    for a in b.accounts:
        assume(layout.cross_wallet[a.name] >= 0)
        ladder = equity_ladder(b, prices, a.name, moves, layout)
        assert min(ladder) >= -1e-9 * (a.wallet_balance + 1)


def test_a_missing_mark_leaves_the_other_accounts_moves_alone():
    b = book(
        "binanceusdm",
        10_000,
        [pos("BTC/USDT:USDT", Side.LONG, 1, 60_000, leverage=20)],
        [market("BTC/USDT:USDT", 0.004)],
    )
    other = book(
        "bybit", 10_000, [pos("ETH/USDT:USDT", Side.SHORT, 10, 3_000, leverage=10)], [market("ETH/USDT:USDT", 0.005)]
    )
    second = replace(other.accounts[0], name="second")
    combined = Book(
        (b.accounts[0], second),
        (b.positions[0], replace(other.positions[0], account="second")),
        {**b.markets, **other.markets},
    )
    compiled = CompiledBook(combined)
    search = MoveSearch(compiled)
    complete = search.moves(
        compiled.prices_from({("binanceusdm", "BTC/USDT:USDT"): 60_000.0, ("bybit", "ETH/USDT:USDT"): 3_000.0})
    )
    partial = search.moves(compiled.prices_from({("bybit", "ETH/USDT:USDT"): 3_000.0}))
    assert partial[0] is None  # its own mark is missing
    assert partial[1] == pytest.approx(complete[1]) and complete[1] is not None and math.isfinite(complete[1])


@PROPERTY
@given(books(max_positions=6, continuous=True))
def test_exactly_at_a_cross_liquidation_price_the_account_is_at_least_in_danger(case):
    """The reviewer's boundary: marks moved onto the engine's own liquidation price (distance 0)."""
    b, prices = case
    for r in evaluate_book(b, prices).positions:
        if r.position.margin_mode is not MarginMode.CROSS or r.liquidation_price is None:
            continue
        moved = dict(prices)
        moved[(b.account(r.position.account).exchange, r.position.symbol)] = r.liquidation_price
        for at in both_paths(b, moved):
            a = at.account(r.position.account)
            assert ratio_level(a.margin_ratio, Thresholds(), equity_gone=a.liquidated) >= Level.DANGER
            mine = [x for x in at.positions if x.position.account == a.account.name]
            cross = [
                x for x in mine if x.position.margin_mode is MarginMode.CROSS and x.distance_to_liquidation is not None
            ]
            assert all(
                (x.distance_to_liquidation <= 0) == a.liquidated for x in cross if x.distance_to_liquidation != 0
            )


@pytest.mark.parametrize("path", [0, 1], ids=["scalar", "vectorised"])
def test_an_overflowing_cross_account_is_liquidated_and_its_rows_say_why(path):
    """The reviewer's input: a BTC short of 2e8 at a 1e300 mark overflows; both paths say the same."""
    from engine.margin.model import PositionMode

    b = book(
        "binanceusdm",
        10_000,
        [pos("BTC/USDT:USDT", Side.SHORT, 2e8, 60_000), pos("ETH/USDT:USDT", Side.LONG, 1, 3_000)],
        [market("BTC/USDT:USDT", 0.004), market("ETH/USDT:USDT", 0.004)],
        PositionMode.HEDGE,
    )
    risk = both_paths(b, {("binanceusdm", "BTC/USDT:USDT"): 1e300, ("binanceusdm", "ETH/USDT:USDT"): 3_000.0})[path]
    assert risk.accounts[0].liquidated
    for r in risk.positions:
        assert r.liquidation_price is None and r.distance_to_liquidation is None and r.missing
