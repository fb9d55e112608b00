"""The real book's levels and alerts (engine.monitor.book_alerts): hypothetical positions never reach them."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.margin.model import Book
from engine.margin.risk import evaluate_book
from engine.monitor.book_alerts import (
    BookAlerts,
    account_ratio_level,
    preview_scope,
    real_book,
    what_if_levels,
    what_if_note,
    what_if_rows,
)
from engine.monitor.levels import Level, Thresholds
from tests.engine.strategies import books


def _keys(book: Book) -> list[tuple]:
    return [(p.account, p.symbol, p.side.value, i) for i, p in enumerate(book.positions)]


def test_a_hypothetical_row_is_refused_so_no_caller_can_alert_on_it():
    book, prices = _one_book()
    hypothetical = Book(book.accounts, (dataclasses.replace(book.positions[0], hypothetical=True),), book.markets)
    risk = evaluate_book(hypothetical, prices)
    with pytest.raises(ValueError, match="hypothetical positions never raise alerts"):
        BookAlerts().positions(["k"], risk.positions, [False], 0.0)
    assert real_book(hypothetical).positions == ()
    assert real_book(book) is book  # nothing to leave out: the same book, no copy


def _one_book():
    from engine.margin.model import Account, MarginMode, MarketSpec, Position, Side, Tier

    spec = MarketSpec("BTC/USDT:USDT", (Tier(0, 1e12, 0.005, 0.0, 125),), max_leverage=125)
    book = Book(
        (Account("a", "binanceusdm", 10_000.0, "USDT"),),
        (Position("a", "BTC/USDT:USDT", Side.LONG, 1.0, 60_000.0, MarginMode.CROSS, 20.0),),
        {("binanceusdm", "BTC/USDT:USDT"): spec},
    )
    return book, {("binanceusdm", "BTC/USDT:USDT"): 60_000.0}


def test_levels_alerts_and_notes_of_a_cross_long_falling_to_liquidation():
    """1 BTC long at 60,000, 20x cross, 10,000 USDT wallet, 0.5% maintenance rate: liquidation where
    10,000 + (m - 60,000) = 0.005 m, m = 50,000 / 0.995 = 50,251.26 (no fee in this market)."""
    book, _ = _one_book()
    alerts = BookAlerts()
    key = ("a", "BTC/USDT:USDT", "long", 0)
    seen = []
    for mark in (60_000.0, 57_000.0, 52_000.0, 50_000.0, 50_500.0, 51_000.0, 50_000.0):
        risk = evaluate_book(book, {("binanceusdm", "BTC/USDT:USDT"): mark})
        levels, raised = alerts.positions([key], risk.positions, [False], mark)
        seen.append((levels[0], [(a.new, a.count) for a in raised]))
    assert risk.positions[0].liquidation_price == pytest.approx(50_000 / 0.995)
    ok, warning, danger, liquidated = Level.OK, Level.WARNING, Level.DANGER, Level.LIQUIDATED
    assert seen == [
        (ok, []),
        (warning, [(warning, 1)]),  # 11.8% to go
        (danger, [(danger, 1)]),  # 3.4%
        (liquidated, [(liquidated, 1)]),  # past it
        (liquidated, []),  # 0.49% back: inside the 1-point band, still liquidated
        (danger, []),  # 1.47% back: out of the band, a fall (no alert)
        (liquidated, [(liquidated, 2)]),  # liquidated again: counted into the first alert
    ]
    assert what_if_levels(risk.positions, Thresholds()) == [liquidated]
    assert what_if_note(Level.OK) == "what-if · real: ok"
    assert what_if_note(None, hypothetical=True) == "◇ hypothetical · what-if"
    assert account_ratio_level(risk.accounts[0], Thresholds()) is liquidated


@st.composite
def books_and_flags(draw):
    book, prices = draw(books(max_positions=8))
    flags = draw(st.lists(st.booleans(), min_size=len(book.positions), max_size=len(book.positions)))
    moves = draw(st.lists(st.floats(-0.5, 0.5), min_size=1, max_size=5))
    return book, prices, flags, moves


@settings(max_examples=150, deadline=None)
@given(books_and_flags())
def test_hypothetical_positions_change_no_alert(case):
    """A random book with hypothetical positions added raises, at every step of a price path, the same
    alerts as the book without them, when both go through real_book (what the window does)."""
    book, prices, flags, moves = case
    real_positions = tuple(p for p, f in zip(book.positions, flags, strict=True) if not f)
    with_hypothetical = Book(
        book.accounts,
        tuple(dataclasses.replace(p, hypothetical=f) for p, f in zip(book.positions, flags, strict=True)),
        book.markets,
    )
    without = Book(book.accounts, real_positions, book.markets)
    runs = []
    for shown in (with_hypothetical, without):
        alerts, raised = BookAlerts(), []
        real = real_book(shown)
        for step, move in enumerate(moves):
            risk = evaluate_book(real, {k: v * (1 + move) for k, v in prices.items()})
            keys = _keys(real)
            _, position_alerts = alerts.positions(keys, risk.positions, [False] * len(keys), float(step))
            _, account_alerts = alerts.accounts(risk.accounts, float(step))
            raised += [(a.subject, a.old, a.new, a.count) for a in position_alerts + account_alerts]
        runs.append(raised)
    assert runs[0] == runs[1]


def test_a_preview_changes_the_rows_that_share_its_margin_and_says_so():
    """A hypothetical cross long changes its account's cross rows, never an isolated one; a shocked
    isolated mark changes its own row only; every changed account is named."""
    from engine.margin.model import Account, MarginMode, Position, Side
    from engine.market.prices import Shock

    def position(account, symbol, mode, hypothetical=False):
        return Position(account, symbol, Side.LONG, 1.0, 100.0, mode, 10.0, 10.0, hypothetical)

    book = Book(
        (Account("a", "x", 1_000.0, "USDT"), Account("b", "x", 1_000.0, "USDT")),
        (
            position("a", "BTC", MarginMode.CROSS),
            position("a", "ETH", MarginMode.ISOLATED),
            position("a", "SOL", MarginMode.CROSS, hypothetical=True),
            position("b", "BTC", MarginMode.CROSS),
            position("b", "DOGE", MarginMode.ISOLATED),
        ),
    )
    keys = [("x", p.symbol) for p in book.positions]
    real = {0: Level.WARNING, 1: Level.OK, 3: Level.OK, 4: Level.OK}
    what_if = [Level.DANGER, Level.OK, Level.DANGER, Level.WARNING, Level.DANGER]

    def rows(shock):
        scope = preview_scope(book, shock, keys)
        return scope, what_if_rows(book.positions, keys, range(5), what_if, scope, real.__getitem__)

    scope, (levels, notes) = rows(None)
    assert scope.accounts == {"a"} and scope.cross_accounts == {"a"}
    assert levels == [Level.DANGER, Level.OK, Level.DANGER, Level.OK, Level.OK]
    assert notes == ["what-if · real: warning", "", "◇ hypothetical · what-if", "", ""]
    scope, (levels, notes) = rows(Shock(per_key={("x", "DOGE"): -0.2}))
    assert scope.accounts == {"a", "b"} and scope.cross_accounts == {"a"}
    assert notes[3:] == ["", "what-if · real: ok"] and levels[3:] == [Level.OK, Level.DANGER]
