"""The live view's evaluator: the vectorised engine's numbers in the scalar path's shape."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings

from engine.live_risk import LiveEvaluator
from engine.risk import evaluate_book, evaluate_priced_accounts
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
        for field in ("mark_price", "notional", "unrealized_pnl", "initial_margin", "maintenance_margin"):
            assert _same(getattr(s, field), getattr(v, field), scale), field
    for s, v in zip(scalar.accounts, live.accounts, strict=True):
        assert s.account == v.account and s.estimate == v.estimate
        scale = s.wallet_balance + sum(abs(r.notional) for r in scalar.positions) + 1.0
        for field in ("equity", "unrealized_pnl", "maintenance_margin", "initial_margin", "available_balance"):
            assert _same(getattr(s, field), getattr(v, field), scale), field
        assert _same(s.margin_ratio, v.margin_ratio, 1.0 + (s.margin_ratio or 0.0))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=6))
def test_an_account_missing_a_mark_is_left_out_as_in_the_scalar_path(case):
    book, prices = case
    first_key = book.price_keys()[0]
    partial = {k: v for k, v in prices.items() if k != first_key}
    live, missing = LiveEvaluator(book).evaluate(partial)
    scalar, scalar_missing = evaluate_priced_accounts(book, partial)
    assert missing == scalar_missing == [first_key]
    assert live == scalar
