"""The live view's evaluator: the vectorised engine's numbers in the scalar path's shape."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.margin.live_risk import LiveEvaluator, VectorPositions, position_distances
from engine.margin.risk import evaluate_book, evaluate_priced_accounts
from tests.engine.strategies import books


def _same(scalar: float | None, live: float | None, scale: float) -> bool:
    if scalar is None or live is None:
        return scalar is None and live is None
    return math.isclose(scalar, live, rel_tol=1e-9, abs_tol=1e-9 * scale)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=10))
def test_live_risk_equals_the_scalar_engine_field_by_field(case):
    book, prices = case
    scalar = evaluate_book(book, prices)
    live, missing = LiveEvaluator(book).evaluate(prices)
    assert missing == []
    assert [r.position for r in live.positions] == list(book.positions)
    for s, v in zip(scalar.positions, live.positions, strict=True):
        scale = abs(s.notional) + 1.0
        assert _same(s.liquidation_price, v.liquidation_price, s.mark_price)
        assert _same(s.distance_to_liquidation, v.distance_to_liquidation, 1.0)
        for field in ("mark_price", "notional", "unrealized_pnl", "initial_margin", "maintenance_margin", "roe"):
            assert _same(getattr(s, field), getattr(v, field), scale), field
    for s, v in zip(scalar.accounts, live.accounts, strict=True):
        assert s.account == v.account and s.estimate == v.estimate
        scale = s.wallet_balance + sum(abs(r.notional) for r in scalar.positions) + 1.0
        for field in ("equity", "unrealized_pnl", "maintenance_margin", "initial_margin", "available_balance"):
            assert _same(getattr(s, field), getattr(v, field), scale), field
        assert _same(s.margin_ratio, v.margin_ratio, 1.0 + (s.margin_ratio or 0.0))


def _same_or_both_nan(a: float | None, b: float | None) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return _same(a, b, 1.0 + abs(a or 0.0))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=6))
def test_a_missing_mark_hides_no_position_and_both_paths_say_why(case):
    book, prices = case
    first_key = book.price_keys()[0]
    partial = {k: v for k, v in prices.items() if k != first_key}
    live, missing = LiveEvaluator(book).evaluate(partial)
    scalar, scalar_missing = evaluate_priced_accounts(book, partial)
    assert missing == scalar_missing == [first_key]
    assert [r.position for r in live.positions] == list(book.positions)  # every position is still a row
    assert [a.account for a in live.accounts] == list(book.accounts)
    for s, v in zip(scalar.positions, live.positions, strict=True):
        assert s.missing == v.missing
        for field in ("mark_price", "unrealized_pnl", "liquidation_price", "distance_to_liquidation", "margin_ratio"):
            assert _same_or_both_nan(getattr(s, field), getattr(v, field)), field
        exchange = book.account(s.position.account).exchange
        if (exchange, s.position.symbol) == first_key:
            assert s.missing == f"no mark price yet for {first_key[1]} on {first_key[0]}"
            assert math.isnan(v.mark_price) and v.liquidation_price is None and v.distance_to_liquidation is None
        elif s.position.margin_mode.value == "isolated":
            assert not v.missing and math.isfinite(v.unrealized_pnl)  # an isolated position needs its own mark only
    for s, v in zip(scalar.accounts, live.accounts, strict=True):
        assert s.missing == v.missing and s.liquidated == v.liquidated and s.has_cross == v.has_cross
        assert _same_or_both_nan(s.margin_ratio, v.margin_ratio)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=8), st.floats(0.5, 1.5), st.integers(0, 7))
def test_positions_made_when_read_are_the_arrays_numbers_and_say_which_moved(case, factor, which):
    """What the window takes from the arrays (distances, which rows moved) agrees with the PositionRisk
    objects it would otherwise have compared, row by row."""
    book, prices = case
    evaluator = LiveEvaluator(book)
    before, _ = evaluator.evaluate(prices)
    key = book.price_keys()[which % len(book.price_keys())]
    after, _ = evaluator.evaluate({**prices, key: prices[key] * factor})
    assert isinstance(after.positions, VectorPositions)
    v = after.positions.vectors
    for i, r in enumerate(after.positions):
        assert r.position is book.positions[i] and r.mark_price == v.mark_price[i]
        assert (r.liquidation_price is None) == math.isnan(v.liquidation_price[i])
        assert (r.distance_to_liquidation is None) == (r.liquidation_price is None)
    if book.positions:
        assert after.positions[-1] == after.positions[len(book.positions) - 1]
    assert list(after.positions[:2]) == list(after.positions)[:2]
    distances = position_distances(after.positions)
    expected = [math.nan if r.distance_to_liquidation is None else r.distance_to_liquidation for r in after.positions]
    assert np.array_equal(distances, np.array(expected), equal_nan=True)
    assert np.array_equal(distances, position_distances(tuple(after.positions)), equal_nan=True)
    moved = after.positions.moved_since(before.positions)
    assert moved is not None
    assert moved.tolist() == [b != a for b, a in zip(before.positions, after.positions, strict=True)]
    assert after.positions == tuple(after.positions)  # equal to the same risks made eagerly
    other, _ = LiveEvaluator(book).evaluate(prices)  # the same book compiled again: same positions
    assert other.positions.moved_since(before.positions) is not None
    assert after.positions.moved_since(tuple(before.positions)) is None  # not arrays: the caller compares rows
