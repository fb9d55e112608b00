"""Properties of the margin equation over random books (hypothesis)."""

from __future__ import annotations

import math
import os
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from engine.margin.exposure import initial_margin_at_entry
from engine.margin.layout import book_layout
from engine.margin.liquidation import margin_surplus, to_z
from engine.margin.model import Book, MarginMode, MarketSpec, Position, Side
from engine.margin.risk import evaluate_book
from engine.margin.vectorised import CompiledBook
from tests.engine.books import book, market
from tests.engine.strategies import books, tier_tables

# MARGINWATCH_PROPERTY_EXAMPLES raises the count for a deeper run by hand (e.g. 5000).
EXAMPLES = int(os.environ.get("MARGINWATCH_PROPERTY_EXAMPLES", "300"))
PROPERTY_SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _surplus_at(book: Book, prices, index: int, price: float) -> tuple[float, float]:
    """(equity - maintenance, scale) of the position's group when its own mark moves to price."""
    key = (book.account(book.positions[index].account).exchange, book.positions[index].symbol)
    layout = book_layout(book)
    moved = dict(prices)
    moved[key] = price
    leg_index = layout.leg_of_position[index]
    group = [layout.legs[k] for k in layout.groups[layout.legs[leg_index].group]]
    first = group[0]
    risk = evaluate_book(book, moved)  # other symbols stay at their marks
    if first.cross:
        account = risk.account(first.account)
        cross = [
            r
            for r in risk.positions
            if r.position.account == first.account and r.position.margin_mode is MarginMode.CROSS
        ]
        surplus = layout.cross_wallet[first.account] + sum(r.unrealized_pnl - r.maintenance_margin for r in cross)
        scale = account.wallet_balance + sum(abs(r.notional) for r in cross)
    else:
        surplus = margin_surplus([first.leg], first.collateral, to_z(price, first.inverse))
        scale = first.collateral + first.leg.nu * to_z(price, first.inverse)
    return surplus, scale


@PROPERTY_SETTINGS
@given(books(continuous=True))
def test_equity_equals_maintenance_at_the_liquidation_price(case):
    book, prices = case
    risk = evaluate_book(book, prices)
    for i, r in enumerate(risk.positions):
        if r.liquidation_price is None:
            continue
        surplus, scale = _surplus_at(book, prices, i, r.liquidation_price)
        assert abs(surplus) <= 1e-9 * scale


@PROPERTY_SETTINGS
@given(books(continuous=True), st.floats(1.01, 5.0))
def test_more_isolated_margin_never_moves_liquidation_closer(case, factor):
    book, prices = case
    before = evaluate_book(book, prices)
    for i, p in enumerate(book.positions):
        if p.margin_mode is not MarginMode.ISOLATED:
            continue
        richer = Book(
            tuple(replace(a, wallet_balance=a.wallet_balance + p.isolated_margin * factor) for a in book.accounts),
            tuple(
                replace(q, isolated_margin=q.isolated_margin * factor) if j == i else q
                for j, q in enumerate(book.positions)
            ),
            book.markets,
        )
        old = before.positions[i].liquidation_price
        new = evaluate_book(richer, prices).positions[i].liquidation_price
        if old is None:
            assert new is None
        elif new is not None:
            assert (new <= old * (1 + 1e-12)) if p.side is Side.LONG else (new >= old * (1 - 1e-12))


@PROPERTY_SETTINGS
@given(
    tier_tables(continuous=True),
    st.floats(1.0, 1e5),
    st.floats(1.0, 50.0),
    st.floats(1.01, 3.0),
    st.sampled_from(list(Side)),
    st.booleans(),
)
def test_higher_leverage_never_moves_liquidation_further(tiers, entry, leverage, bump, side, inverse):
    """An isolated position opened with its initial margin: more leverage means less margin."""
    symbol = "C/USD:C" if inverse else "S/USDT:USDT"
    spec = MarketSpec(symbol, tiers, contract_size=100.0 if inverse else 1.0, inverse=inverse)

    def liquidation(lev: float) -> float | None:
        p = Position("acct", symbol, side, 50.0, entry, MarginMode.ISOLATED, lev)
        p = replace(p, isolated_margin=initial_margin_at_entry(p, spec))
        b = book("binanceusdm", 1e9, [p], [spec])
        return evaluate_book(b, {("binanceusdm", symbol): entry}).positions[0].liquidation_price

    low, high = liquidation(leverage), liquidation(leverage * bump)
    assume(low is not None)
    assert high is not None
    if side is Side.LONG:
        assert high >= low * (1 - 1e-12)
    else:
        assert high <= low * (1 + 1e-12)


@PROPERTY_SETTINGS
@given(st.floats(1.0, 1e5), st.floats(0.01, 100.0), st.floats(0.0, 0.5))
def test_long_and_short_mirror_each_other_without_maintenance(entry, size, margin_share):
    """With no maintenance margin, a long and a short with the same margin liquidate equally far from entry."""
    margin = entry * size * margin_share + 1e-6
    results = {}
    for side in Side:
        p = Position("acct", "S/USDT:USDT", side, size, entry, MarginMode.ISOLATED, 10, margin)
        b = book("binanceusdm", 1e12, [p], [market("S/USDT:USDT", 0.0)])
        results[side] = evaluate_book(b, {("binanceusdm", "S/USDT:USDT"): entry}).positions[0].liquidation_price
    gap = margin / size
    if gap < entry:
        assert results[Side.LONG] == pytest.approx(entry - gap, rel=1e-12)
    else:
        assert results[Side.LONG] is None  # over-collateralised long: no positive price liquidates it
    assert results[Side.SHORT] == pytest.approx(entry + gap, rel=1e-12)


@PROPERTY_SETTINGS
@given(tier_tables(), st.floats(100.0, 1e5), st.floats(10.0, 1e6), st.floats(0.01, 0.5), st.sampled_from(list(Side)))
def test_inverse_position_mirrors_linear_in_reciprocal_price(tiers, entry, usd, margin_share, side):
    """An inverse position of Q USD is a linear position of the opposite side in 1/price: same root."""
    inv = MarketSpec("C/USD:C", tiers, inverse=True)
    lin = MarketSpec("L/USDT:USDT", tiers)
    margin = usd / entry * margin_share
    p_inv = Position("acct", "C/USD:C", side, usd, entry, MarginMode.ISOLATED, 10, margin)
    p_lin = Position("acct", "L/USDT:USDT", side.opposite, usd, 1 / entry, MarginMode.ISOLATED, 10, margin)
    r_inv = evaluate_book(book("binancecoinm", 1e9, [p_inv], [inv]), {("binancecoinm", "C/USD:C"): entry})
    r_lin = evaluate_book(book("binancecoinm", 1e9, [p_lin], [lin]), {("binancecoinm", "L/USDT:USDT"): 1 / entry})
    a, b = r_inv.positions[0].liquidation_price, r_lin.positions[0].liquidation_price
    assert (a is None) == (b is None)
    if a is not None:
        assert a == pytest.approx(1 / b, rel=1e-9)


def _close(scalar: float | None, vector: float, scale: float) -> bool:
    if scalar is None:
        return bool(np.isnan(vector))
    return not np.isnan(vector) and math.isclose(scalar, vector, rel_tol=1e-9, abs_tol=1e-9 * abs(scale))


@settings(max_examples=EXAMPLES + 100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=12))
def test_vectorised_path_equals_scalar_path(case):
    book, prices = case
    scalar = evaluate_book(book, prices)
    compiled = CompiledBook(book)
    vector = compiled.recompute(compiled.prices_from(prices))
    for i, r in enumerate(scalar.positions):
        scale = abs(r.notional) + 1.0
        assert _close(r.liquidation_price, vector.liquidation_price[i], r.mark_price)
        assert _close(r.distance_to_liquidation, vector.distance_to_liquidation[i], 1.0)
        assert _close(r.unrealized_pnl, vector.unrealized_pnl[i], scale)
        assert _close(r.maintenance_margin, vector.maintenance_margin[i], scale)
        assert _close(r.initial_margin, vector.initial_margin[i], scale)
        assert _close(r.roe, vector.roe[i], 1.0 + abs(r.roe))
    for a, account in enumerate(scalar.accounts):
        scale = (
            account.wallet_balance
            + sum(abs(r.notional) for r in scalar.positions if r.position.account == account.account.name)
            + 1.0
        )
        assert _close(account.equity, vector.account_equity[a], scale)
        assert _close(account.maintenance_margin, vector.account_maintenance_margin[a], scale)
        assert _close(account.available_balance, vector.account_available_balance[a], scale)
        assert _close(account.margin_ratio, vector.account_margin_ratio[a], 1.0 + (account.margin_ratio or 0))


def test_a_denormal_cross_balance_has_no_ratio_on_either_path_and_is_liquidated():
    # Found by the property test above: 0.25 of maintenance over 2.2e-311 of balance overflows; the scalar path
    # said no ratio (None), the vectorised one inf. Both say none now, and the account is liquidated either way.
    from engine.monitor.book_alerts import account_ratio_level
    from engine.monitor.levels import Level, Thresholds
    from tests.engine.books import book, market, pos

    b = book(
        "binanceusdm",
        2.225073858507e-311,
        [pos("S0/USDT:USDT", Side.LONG, 1.0, 1.0, MarginMode.CROSS, 1.0)],
        [market("S0/USDT:USDT", 0.25)],
    )
    prices = {("binanceusdm", "S0/USDT:USDT"): 1.0}
    scalar = evaluate_book(b, prices).accounts[0]
    compiled = CompiledBook(b)
    vector = compiled.recompute(compiled.prices_from(prices))
    assert scalar.margin_ratio is None and np.isnan(vector.account_margin_ratio[0])
    assert np.isnan(vector.position_margin_ratio[0])
    assert scalar.liquidated and account_ratio_level(scalar, Thresholds()) is Level.LIQUIDATED
