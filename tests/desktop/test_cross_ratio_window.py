"""The window never shows a calm account over a liquidated cross position (issue: every number is true)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.app import MainWindow
from desktop.tables.accounts_model import RATIO_COLUMN, AccountsModel
from desktop.tables.position_columns import COLUMNS, LEVEL_BACKGROUND, SYMBOL_COLUMN
from engine.book.portfolio import parse_portfolio
from engine.margin.risk import evaluate_book
from engine.market.prices import PriceStore
from engine.monitor.levels import Level
from tests.engine.test_cross_margin_ratio import DILUTED


def window_on(qtbot, doc, marks=None):
    portfolio = parse_portfolio(doc)
    store = PriceStore()
    for key, mark in (marks if marks is not None else portfolio.price_map()).items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "test book", store)
    qtbot.addWidget(window)
    return window


def test_a_cross_position_past_liquidation_turns_its_account_liquidated_and_alerts(qtbot):
    window = window_on(qtbot, DILUTED)
    accounts = window.accounts_model
    assert accounts.levels == [Level.LIQUIDATED]  # was OK: 4.06% over 9,000 USDT of isolated margin
    assert accounts.row_text(0)[RATIO_COLUMN] == "liquidated (cross balance gone)"
    assert accounts.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) == LEVEL_BACKGROUND[Level.LIQUIDATED]
    assert accounts.index(0, RATIO_COLUMN).data(Qt.ItemDataRole.UserRole) >= 1.0  # the gauge is full
    subjects = [a.subject for a in window.alerts]
    assert any(s.startswith("account main (margin ratio liquidated") for s in subjects), subjects
    ratio = next(i for i, c in enumerate(COLUMNS) if c.title == "Margin ratio")
    texts = {window.model.row_text(p)[SYMBOL_COLUMN]: window.model.row_text(p)[ratio] for p in range(2)}
    assert texts == {"ETH/USDT:USDT": "1.33%", "BTC/USDT:USDT": "gone"}  # ETH's own ratio; BTC's account's


def test_accounts_model_passes_qt_model_tester(qtmodeltester):
    portfolio = parse_portfolio(DILUTED)
    model = AccountsModel(evaluate_book(portfolio.book, portfolio.price_map()))
    qtmodeltester.check(model, force_py=True)


def test_a_position_without_a_mark_keeps_its_row_and_its_level(qtbot):
    portfolio = parse_portfolio(DILUTED)
    marks = portfolio.price_map()
    eth = ("binanceusdm", "ETH/USDT:USDT")
    window = window_on(qtbot, DILUTED, {k: v for k, v in marks.items() if k != eth})
    assert window.model.rowCount() == 2
    # BTC is cross and its account's cross marks are all in: its figures are whole, ETH's are "—".
    eth_row = next(p for p in range(2) if window.model.row_text(p)[SYMBOL_COLUMN] == "ETH/USDT:USDT")
    liq = next(i for i, c in enumerate(COLUMNS) if c.title == "Liq. price")
    assert window.model.row_text(eth_row)[liq] == "—"
    assert window.model.states[1 - eth_row].level is Level.LIQUIDATED
    assert "waiting for prices: ETH/USDT:USDT" in window.status.text()
