"""The all-accounts move search agrees with the scalar search, account by account, in few evaluations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from engine.book.portfolio import parse_portfolio
from engine.margin.bundled import load_json
from engine.margin.layout import book_layout
from engine.margin.model import Side
from engine.margin.risk import evaluate_book
from engine.margin.stress import cross_surplus, uniform_move_to_liquidation
from engine.margin.vectorised import CompiledBook
from engine.margin.vectorised_stress import MoveSearch
from tests.engine.books import book, market, pos
from tests.engine.strategies import books


def counted(search: MoveSearch, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """The shapes of the marks of every surplus evaluation the search makes from now on."""
    calls: list[tuple[int, ...]] = []
    evaluate = search._surplus

    def counting(leg_mark: np.ndarray, *args: object) -> np.ndarray:
        calls.append(leg_mark.shape)
        return evaluate(leg_mark, *args)

    monkeypatch.setattr(search, "_surplus", counting)
    return calls


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


def test_the_demo_books_search_costs_half_the_evaluations_bisection_did(monkeypatch):
    """Issue 15: every surplus evaluation costs 100-200 us of numpy overhead and the window searches every 2 s.
    On the demo book bisection took 57 (1 at the current marks, 17 scanning the grid, 39 bisecting); regula
    falsi (Illinois) takes 26, and the four accounts' moves still equal the scalar search's."""
    portfolio = parse_portfolio(load_json("demo", "book.json"))
    compiled = CompiledBook(portfolio.book)
    search = MoveSearch(compiled)
    calls = counted(search, monkeypatch)
    moves = search.moves(compiled.prices_from(portfolio.price_map()))
    assert len(calls) <= 36
    layout = book_layout(portfolio.book)
    for account, move in zip(portfolio.book.accounts, moves, strict=True):
        expected = uniform_move_to_liquidation(portfolio.book, portfolio.price_map(), account.name, layout)
        assert move is not None and expected is not None
        assert math.isclose(move, expected, rel_tol=1e-9, abs_tol=1e-12), (account.name, move, expected)


@pytest.mark.parametrize(("side", "wallet"), [(Side.LONG, 101.0), (Side.SHORT, 101.0), (Side.SHORT, 20.0)])
def test_an_inverse_cross_account_is_found_where_its_position_liquidates(monkeypatch, side, wallet):
    """A coin-margined account (Binance COIN-M BTCUSD, 100 USD contracts, 12.5% tier with 11.605 BTC, as in
    test_published_examples): the surplus is a curve in the move, not a line. With one cross position the
    account's move is its position's liquidation distance; bisection took 43 to 52 evaluations, 12 to 17 of
    them scanning the grid, and regula falsi takes 12 to 21."""
    b = book(
        "binancecoinm",
        wallet,
        [pos("BTC/USD:BTC", side, 100_000, 45_000)],
        [market("BTC/USD:BTC", 0.125, 11.605, contract_size=100, inverse=True)],
    )
    prices = {("binancecoinm", "BTC/USD:BTC"): 45_000.0}
    compiled = CompiledBook(b)
    search = MoveSearch(compiled)
    calls = counted(search, monkeypatch)
    [move] = search.moves(compiled.prices_from(prices))
    assert len(calls) <= 28
    liquidation = evaluate_book(b, prices).positions[0].liquidation_price
    assert move is not None and liquidation is not None
    assert math.isclose(move, liquidation / 45_000 - 1, rel_tol=1e-9)
    assert (move < 0) is (side is Side.LONG)
    if side is Side.LONG and wallet == 101.0:
        assert int(45_000 * (1 + move) * 10) / 10 == 33_599.4  # Binance's calculator (its 0.1 tick)
