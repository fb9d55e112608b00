"""The all-accounts move search agrees with the scalar search, account by account."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings

from engine.margin.layout import book_layout
from engine.margin.stress import cross_surplus, uniform_move_to_liquidation
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch
from tests.engine.strategies import books


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(max_positions=10))
def test_every_accounts_move_equals_the_scalar_search(case):
    book, prices = case
    compiled = CompiledBook(book)
    layout = book_layout(book)
    moves = MoveSearch(compiled).moves(compiled.prices_from(prices))
    for account, move in zip(book.accounts, moves, strict=True):
        expected = uniform_move_to_liquidation(book, prices, account.name, layout)
        if expected is None:
            assert move is None
            continue
        assert move is not None
        assert math.isclose(move, expected, rel_tol=1e-9, abs_tol=1e-12), (account.name, move, expected)
        # Just short of the move the account still stands. A move within 1e-7 of 0 (an account already at
        # its liquidation point: -3.6e-14, or -1.27e-8 on a 0.25 USDT cross wallet beside a 94,074 USD inverse
        # leg, where the surplus itself is rounding noise of -3e-7) is below what the surplus resolves, and
        # 2,000 times below the 0.01% the window shows.
        if abs(move) > 1e-7:
            assert cross_surplus(layout, prices, account.name, move * (1 - 1e-6)) > 0
