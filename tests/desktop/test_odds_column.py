"""The positions table's "P(liq 24h)" column: computed off the GUI thread, the closed form's figure at each
row's own liquidation price, coloured past its threshold, sortable, and '—' with the reason where there is
no volatility (issue 19)."""

from __future__ import annotations

import dataclasses
import math
import threading

import numpy as np
from PySide6.QtCore import Qt

from desktop.app import MainWindow, demo_portfolio
from desktop.tables.accounts_model import ODDS_COLUMN as ODDS_ACCOUNT_COLUMN
from desktop.tables.accounts_model import AccountsModel
from desktop.tables.odds_model import HOT_FOREGROUND, ODDS_COLUMN, OddsPositionsModel, probability_text, rows_token
from engine.margin.liquidation_odds import Odds, horizon_years, touch_probability
from engine.margin.risk import evaluate_book
from engine.market.prices import PriceStore
from engine.monitor.odds_report import probability_text as odds_text
from engine.monitor.odds_worker import OddsResult

TYPED = {"BTC/USDT:USDT": 0.6, "ETH/USDT:USDT": 0.8, "DOGE/USDT:USDT": 1.4, "SOL/USDT:USDT": 1.0}


def portfolio_with_volatilities():
    portfolio = demo_portfolio()
    return dataclasses.replace(portfolio, volatilities=TYPED)


def test_the_window_fills_the_columns_from_a_worker_thread(qtbot, qtmodeltester):
    portfolio = portfolio_with_volatilities()
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "demo book", store)
    qtbot.addWidget(window)
    model = window.model
    assert all(model.index(r, ODDS_COLUMN).data() == "—" for r in range(model.rowCount()))  # not computed yet
    qtbot.waitUntil(lambda: model.odds is not None, timeout=10_000)
    assert model.odds.thread != threading.main_thread().ident
    risk = evaluate_book(window.session.book, portfolio.price_map())
    shown = {model.position_at(r): model.index(r, ODDS_COLUMN) for r in range(model.rowCount())}
    for p, index in shown.items():
        r = risk.positions[p]
        sigma = TYPED.get(r.position.symbol)
        if sigma is None:  # BTC/USD:BTC, SOL/USDC:USDC: nothing typed, no candles
            assert index.data() == "—"
            assert "no volatility" in index.data(Qt.ItemDataRole.ToolTipRole)
            continue
        expected = touch_probability(r.mark_price, r.liquidation_price, sigma, horizon_years(24))
        assert index.data() == probability_text(expected)
        assert "not a forecast" in index.data(Qt.ItemDataRole.ToolTipRole)
        hot = expected >= model.threshold
        assert (index.data(Qt.ItemDataRole.ForegroundRole) == HOT_FOREGROUND) == hot
    accounts = window.accounts_model
    qtbot.waitUntil(lambda: accounts.odds is not None, timeout=10_000)
    qtmodeltester.check(accounts, force_py=True)
    for row, o in enumerate(accounts.odds):
        cell = accounts.index(row, ODDS_ACCOUNT_COLUMN)
        if o.probability is None:  # typed volatilities have no history to correlate, or no cross position
            assert cell.data() == "—" and o.reason in cell.data(Qt.ItemDataRole.ToolTipRole)
        else:
            assert cell.data() == odds_text(o) and "Monte Carlo" in cell.data(Qt.ItemDataRole.ToolTipRole)
    window.close()
    assert not window.odds_column.worker.busy


def result_for(model, risk, probabilities, volatility=0.8):
    p = np.array(probabilities, dtype=float)
    return OddsResult(rows_token(risk), p, np.full(len(p), volatility), [], (), 24.0, 0, 0.0)


def test_model_sorts_by_the_probability_and_passes_the_model_tester(qtmodeltester):
    portfolio = portfolio_with_volatilities()
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    model = OddsPositionsModel(risk)
    qtmodeltester.check(model, force_py=True)
    n = model.total
    probabilities = [math.nan if p % 3 == 0 else p / 100 for p in range(n)]
    model.set_odds(result_for(model, risk, probabilities))
    model.sort(ODDS_COLUMN, Qt.SortOrder.DescendingOrder)
    order = [model.position_at(r) for r in range(model.rowCount())]
    known = [p for p in order if not math.isnan(probabilities[p])]
    assert known == sorted(known, key=lambda p: -probabilities[p])
    assert order[len(known) :] == [p for p in range(n) if math.isnan(probabilities[p])]  # unknown last
    # A result for other rows (an edited book) is not shown on these.
    shown = model.odds
    other = dataclasses.replace(portfolio.book, positions=portfolio.book.positions[:-1])
    model.set_odds(result_for(model, evaluate_book(other, portfolio.price_map()), probabilities[:-1]))
    assert model.odds is shown


def test_a_new_book_clears_the_old_figures(qtmodeltester):
    portfolio = portfolio_with_volatilities()
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    model = OddsPositionsModel(risk)
    model.set_odds(result_for(model, risk, [0.5] * model.total))
    assert model.index(0, ODDS_COLUMN).data() == "50.00%"
    other = dataclasses.replace(portfolio.book, positions=portfolio.book.positions[:-1])
    model.set_risk(evaluate_book(other, portfolio.price_map()))
    qtmodeltester.check(model, force_py=True)
    assert all(model.index(r, ODDS_COLUMN).data() == "—" for r in range(model.rowCount()))


def test_the_accounts_table_shows_the_figures_of_its_own_accounts_only(qtmodeltester):
    portfolio = portfolio_with_volatilities()
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    model = AccountsModel(risk)
    names = [a.name for a in portfolio.book.accounts]
    assert all(model.index(r, ODDS_ACCOUNT_COLUMN).data() == "—" for r in range(model.rowCount()))
    figures = [Odds(0.0123, standard_error=0.001, model="Monte Carlo")] + [Odds(None, "no cross position")] * (
        len(names) - 1
    )
    model.set_odds(figures, names[::-1])  # another book's order: not these rows
    assert model.odds is None
    model.set_odds(figures, names)
    qtmodeltester.check(model, force_py=True)
    assert model.index(0, ODDS_ACCOUNT_COLUMN).data() == "1.23% ±0.10%"
    assert model.index(1, ODDS_ACCOUNT_COLUMN).data(Qt.ItemDataRole.ToolTipRole) == "no cross position"
    model.set_risk(risk)  # a tick keeps the figures
    assert model.index(0, ODDS_ACCOUNT_COLUMN).data() == "1.23% ±0.10%"
    other = dataclasses.replace(portfolio.book, accounts=portfolio.book.accounts[:-1])
    other = dataclasses.replace(other, positions=tuple(p for p in other.positions if p.account in names[:-1]))
    model.set_risk(evaluate_book(other, portfolio.price_map()))  # other accounts: the old figures go
    qtmodeltester.check(model, force_py=True)
    assert model.odds is None
