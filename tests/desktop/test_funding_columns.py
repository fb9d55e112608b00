"""The positions table's funding columns: rate per interval, countdown, funding per day (signed, with its unit),
stale rates marked, sorting by the state's keys; the model through pytest-qt's model tester."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import Qt

from desktop.app import demo_portfolio
from desktop.tables.position_columns import COLUMNS, ORDER
from desktop.tables.positions_model import PositionsModel
from engine.book.formats import money
from engine.funding.rates import FundingRate, RateSource
from engine.margin.model import Side
from engine.margin.risk import evaluate_book
from engine.monitor.frame import RowState
from tests.desktop.test_models import every_cell_answers_as_the_tester_asks

NOW = dt.datetime(2026, 12, 1, 4, 48, tzinfo=dt.UTC).timestamp()  # 3h 12m before 08:00 UTC
FUNDING, NEXT, PER_DAY = (ORDER.index(t) for t in ("Funding", "Next funding", "Funding/day"))


def funded_states(book, rate_of, fetched_at=NOW, source=RateSource.EXCHANGE):
    exchange_of = {a.name: a.exchange for a in book.accounts}
    states = []
    for p in book.positions:
        key = (exchange_of[p.account], p.symbol)
        value = rate_of(p)
        rate = None if value is None else FundingRate(*key, value, 8.0, None, fetched_at, source)
        states.append(RowState(funding=rate))
    return states


def test_funding_columns_come_after_the_first_ten():
    assert ORDER.index("Funding") >= 10 and ORDER[-4:] == ("Funding", "Next funding", "Funding/day", "Break-even")
    assert [c.title for c in COLUMNS] == list(ORDER)


def test_funding_cells_sorts_and_the_model_tester(qtmodeltester):
    portfolio = demo_portfolio()
    book, marks = portfolio.book, portfolio.price_map()
    risk = evaluate_book(book, marks)
    model = PositionsModel(risk, funded_states(book, lambda p: 0.0001 if p.side is Side.LONG else -0.0002))
    model.clock = lambda: NOW
    qtmodeltester.check(model, force_py=True)
    every_cell_answers_as_the_tester_asks(model)
    by_position = {model.position_at(row): row for row in range(model.rowCount())}
    for p, r in enumerate(risk.positions):
        cells = model.row_text(p)
        currency = book.account(r.position.account).currency
        assert cells[NEXT] == "3h 12m"
        if r.position.side is Side.LONG:  # a positive rate: the long pays
            assert cells[FUNDING] == "0.0100%/8h"
            assert cells[PER_DAY] == money(-r.notional * 0.0003, currency)
        else:  # a negative rate: the short pays too
            assert cells[FUNDING] == "-0.0200%/8h"
            assert cells[PER_DAY] == money(-r.notional * 0.0006, currency)
        assert model.index(by_position[p], PER_DAY).data(Qt.ItemDataRole.DisplayRole) == cells[PER_DAY]
    model.sort(PER_DAY, Qt.SortOrder.AscendingOrder)
    paid = [
        r.position.side.sign * -r.notional * (0.0003 if r.position.side is Side.LONG else -0.0006)
        for r in risk.positions
    ]
    shown = [paid[model.position_at(row)] for row in range(model.rowCount())]
    assert shown == sorted(shown)
    for column in (FUNDING, NEXT, PER_DAY):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            model.sort(column, order)
    every_cell_answers_as_the_tester_asks(model)


def test_stale_file_and_missing_rates_say_so(qtmodeltester):
    portfolio = demo_portfolio()
    book, marks = portfolio.book, portfolio.price_map()
    risk = evaluate_book(book, marks)
    old = NOW - 17 * 3600  # two 8 h intervals ago and more
    model = PositionsModel(risk, funded_states(book, lambda p: 0.0001, fetched_at=old))
    model.clock = lambda: NOW
    qtmodeltester.check(model, force_py=True)
    assert model.row_text(0)[FUNDING] == "0.0100%/8h · stale 17h 00m"
    model.set_risk(risk, funded_states(book, lambda p: 0.0001, source=RateSource.FILE))
    assert model.row_text(0)[FUNDING] == "0.0100%/8h · file"
    model.set_risk(risk, funded_states(book, lambda p: None))
    assert model.row_text(0)[FUNDING] == "none" and model.row_text(0)[PER_DAY] == ""
    every_cell_answers_as_the_tester_asks(model)


def test_the_countdown_moves_with_the_clock_without_a_tick():
    portfolio = demo_portfolio()
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    states = funded_states(portfolio.book, lambda p: 0.0001)
    model = PositionsModel(risk, states)
    now = [NOW]
    model.clock = lambda: now[0]
    model.set_risk(risk, states)
    assert model.row_text(0)[NEXT] == "3h 12m"
    now[0] += 120
    model.set_risk(risk, states)  # the same marks and rates: only the minute moved
    assert model.row_text(0)[NEXT] == "3h 10m"


def test_break_even_column_from_the_session_states():
    """The demo book's markets carry a 0.055% taker fee: a long's break-even is entry × 1.00055 / 0.99945."""
    from engine.monitor.session import WatchSession

    portfolio = demo_portfolio()
    frame = WatchSession(portfolio, clock=lambda: NOW).step({})
    model = PositionsModel(frame.shown, frame.rows)
    column = ORDER.index("Break-even")
    for p, r in enumerate(frame.shown.positions):
        position = r.position
        market = portfolio.book.market_of(position)
        if market.taker_fee != 0.00055 or market.inverse:
            continue
        f = 0.00055
        e = position.entry_price
        expected = e * (1 + f) / (1 - f) if position.side is Side.LONG else e * (1 - f) / (1 + f)
        assert frame.rows[p].break_even == pytest.approx(expected)
        assert model.row_text(p)[column].endswith(" (fees)")
