"""The positions table's "P(liq 24h)" column: computed off the GUI thread, the closed form's figure at each
row's own liquidation price, coloured past its threshold, sortable, and '—' with the reason where there is
no volatility (issue 19)."""

from __future__ import annotations

import dataclasses
import math
import os
import time

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMessageBox

from desktop.app import MainWindow, WindowOptions, build_window, demo_portfolio
from desktop.platform.text_colours import sign_colour
from desktop.tables.accounts_model import ODDS_COLUMN as ODDS_ACCOUNT_COLUMN
from desktop.tables.accounts_model import AccountsModel
from desktop.tables.odds_model import ODDS_COLUMN, OddsPositionsModel, probability_text, rows_token
from desktop.window.odds_setting import OddsChoice, choice_from_setting
from engine.book.horizon import read_threshold_percent
from engine.book.numbers import NotANumber
from engine.margin.liquidation_odds import Odds, horizon_years, likely_range, touch_probability
from engine.margin.risk import evaluate_book
from engine.market.prices import PriceStore
from engine.monitor.odds_report import probability_text as odds_text
from engine.monitor.odds_worker import OddsResult
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path

TYPED = {"BTC/USDT:USDT": 0.6, "ETH/USDT:USDT": 0.8, "DOGE/USDT:USDT": 1.4, "SOL/USDT:USDT": 1.0}


def hot_colour() -> QColor:
    """A probability at or above the threshold: the theme's loss colour (as uPnL's losses)."""
    return sign_colour(-1, QGuiApplication.palette())


def plain(model, row: int) -> bool:
    """A row without a colour of its own (a level's or a stale price's colour wins, as for uPnL's sign)."""
    look = model.row_look(row)
    return look.foreground is None and not look.muted


def portfolio_with_volatilities():
    portfolio = demo_portfolio()
    return dataclasses.replace(portfolio, volatilities=TYPED)


def window_with_volatilities(qtbot):
    """The demo book with TYPED volatilities in a window on its own marks, typed as manual prices."""
    portfolio = portfolio_with_volatilities()
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "demo book", store)
    qtbot.addWidget(window)
    return portfolio, window


def test_the_window_fills_the_columns_from_a_worker_thread(qtbot, qtmodeltester):
    portfolio, window = window_with_volatilities(qtbot)
    model = window.model
    assert all(model.index(r, ODDS_COLUMN).data() == "—" for r in range(model.rowCount()))  # not computed yet
    qtbot.waitUntil(lambda: model.odds is not None, timeout=10_000)
    assert model.odds.process != os.getpid()  # computed in the child process, not on the GUI thread
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
        if plain(model, index.row()):
            assert index.data(Qt.ItemDataRole.ForegroundRole) == (hot_colour() if hot else None)
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


def test_the_figures_are_polled_for_only_while_a_job_is_out(qtbot):
    """An idle window is not woken five times a second for figures nobody computes: the poll runs from a job's
    hand-over to its figures, and a new job starts it again."""
    _, window = window_with_volatilities(qtbot)
    column = window.odds_column
    qtbot.waitUntil(lambda: window.model.odds is not None, timeout=10_000)
    qtbot.waitUntil(lambda: not column._poll.isActive(), timeout=2_000)
    assert not column.worker.busy
    first = window.model.odds
    column._next_at = 0.0  # the next job is due now
    column.submit()
    assert column._poll.isActive() and column.worker.busy
    qtbot.waitUntil(lambda: window.model.odds is not first, timeout=10_000)  # its figures shown: polled for
    qtbot.waitUntil(lambda: not column._poll.isActive(), timeout=2_000)
    window.close()


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


def candles_for(keys, hours: int = 720, seed: int = 9):
    """A month of hourly closes per key ending this hour (a common factor: every pair correlated)."""
    rng = np.random.default_rng(seed)
    common = rng.standard_normal(hours)
    last = int(time.time() // 3600)
    out = {}
    for key in keys:
        z = 0.7 * common + 0.7 * rng.standard_normal(hours)
        out[key] = (np.arange(last - hours + 1, last + 1, dtype=np.int64), 100 * np.exp(np.cumsum(z * 0.01)))
    return out


def test_horizon_threshold_and_model_are_chosen_in_the_menu_and_saved_with_the_book(
    qtbot, qtmodeltester, tmp_path, monkeypatch
):
    portfolio = demo_portfolio()
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(portfolio)
        for key, series in candles_for(portfolio.book.price_keys()).items():
            db.save_candles(key, series, time.time())
    first = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(first)
    model, accounts, odds = first.model, first.accounts_model, first.odds_column
    qtbot.waitUntil(lambda: model.odds is not None and accounts.odds is not None, timeout=15_000)
    assert any(o.probability is not None for o in accounts.odds)  # the candles give the correlations
    week = next(a for a in odds.menu.horizons.actions() if a.data() == 168.0)
    week.trigger()
    assert model.headerData(ODDS_COLUMN, Qt.Orientation.Horizontal) == "P(liq 7d)"
    assert accounts.headerData(ODDS_ACCOUNT_COLUMN, Qt.Orientation.Horizontal) == "P(liq 7d)"
    qtbot.waitUntil(lambda: model.odds is not None and model.odds.hours == 168.0, timeout=15_000)
    risk = first.session.frame.shown
    for p in range(model.total):
        r, sigma = risk.positions[p], model.volatility[p]
        if r.liquidation_price is not None and not r.missing:
            expected = touch_probability(r.mark_price, r.liquidation_price, sigma, horizon_years(168.0))
            assert model.odds.probability[p] == expected
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("abc", True))
    odds.menu.ask_threshold()
    assert odds.choice.threshold == 0.05 and "probability threshold" in warnings[-1]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("0.5%", True))
    odds.menu.ask_threshold()
    assert odds.choice.threshold == 0.005 == model.threshold == accounts.threshold
    hot = [r for r in range(model.rowCount()) if model.odds.probability[model.position_at(r)] >= 0.005]
    hot = [r for r in hot if plain(model, r)]
    assert hot and all(model.index(r, ODDS_COLUMN).data(Qt.ItemDataRole.ForegroundRole) == hot_colour() for r in hot)
    bootstrap = next(a for a in odds.menu.models.actions() if a.data() == "bootstrap")
    bootstrap.trigger()
    assert model.headerData(ODDS_COLUMN, Qt.Orientation.Horizontal) == "P(liq 7d, bootstrap)"
    qtbot.waitUntil(lambda: model.odds is not None and model.odds.model == "bootstrap", timeout=15_000)
    qtmodeltester.check(model, force_py=True)
    qtmodeltester.check(accounts, force_py=True)
    shown = next(r for r in range(model.rowCount()) if model.index(r, ODDS_COLUMN).data() != "—")
    assert "historical bootstrap" in model.index(shown, ODDS_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    first.close()

    second = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(second)
    assert second.odds_column.choice == OddsChoice(168.0, 0.005, "bootstrap")
    assert second.model.headerData(ODDS_COLUMN, Qt.Orientation.Horizontal) == "P(liq 7d, bootstrap)"
    second.close()


def test_a_saved_choice_that_is_not_valid_keeps_the_defaults_field_by_field():
    assert choice_from_setting({"hours": 168, "threshold": 7, "model": "magic"}) == OddsChoice(hours=168.0)
    assert choice_from_setting("garbage") == OddsChoice()
    assert read_threshold_percent(" 2.5 % ") == 0.025
    for bad in ("0", "100", "-1", "x", "nan"):
        with pytest.raises(NotANumber, match="probability threshold"):
            read_threshold_percent(bad)


def test_the_position_chart_shades_the_horizons_likely_range(qtbot):
    from desktop.charts.position_chart import LikelyBand

    portfolio = portfolio_with_volatilities()
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "demo book", store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    model = window.model
    qtbot.waitUntil(lambda: model.odds is not None, timeout=10_000)
    for symbol in ("ETH/USDT:USDT", "BTC/USD:BTC"):  # typed volatility 0.8; none
        position = next(i for i, r in enumerate(model._rows) if r.position.symbol == symbol)
        window.positions.table.selectionModel().setCurrentIndex(
            model.view_index(position, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        window.charts.draw_chart()
        chart, r = window.chart, model._rows[position]
        if symbol in TYPED:
            low, high = likely_range(r.mark_price, TYPED[symbol], 24.0)
            assert chart.band.isVisible() and chart.band.getRegion() == pytest.approx((low, high))
            assert LikelyBand.of(r.mark_price, 0.8, 24.0).words(symbol) in chart.caption.text()
            assert "90% likely in 24h" in chart.caption.text()
        else:
            assert not chart.band.isVisible() and "likely" not in chart.caption.text()
    window.close()


def test_the_risk_ladder_shades_the_horizons_moves_at_the_accounts_volatility(qtbot):
    from desktop.window.chart_views import account_volatility

    portfolio = portfolio_with_volatilities()
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "demo book", store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.ladder_dock.raise_()
    qtbot.waitUntil(lambda: window.ladder_dock.on_screen)
    qtbot.waitUntil(lambda: window.model.odds is not None, timeout=10_000)
    account = window.charts.shown_account()
    risk = window.session.frame.shown
    rows = [i for i, r in enumerate(risk.positions) if r.position.account == account]
    sigma = account_volatility(risk, account, window.model.volatility)
    typed = [TYPED.get(risk.positions[i].position.symbol, math.nan) for i in rows]
    weights = [abs(risk.positions[i].notional) for i in rows]
    assert sigma == pytest.approx(sum(w * v for w, v in zip(weights, typed, strict=True)) / sum(weights), nan_ok=True)
    window.charts.draw_account_views(force=True)
    ladder = window.ladder
    if math.isnan(sigma):
        assert not any(band.isVisible() for band in ladder.spreads) and "No volatility" in ladder.spread_note.text()
    else:
        low, high = likely_range(1.0, sigma, 24.0, 0.9)
        assert ladder.spreads[0].getRegion() == pytest.approx(((low - 1) * 100, (high - 1) * 100))
        assert "90% within" in ladder.spread_note.text() and "50% within" in ladder.spread_note.text()
    ladder.show_spread(0.8, 168.0)
    low, high = likely_range(1.0, 0.8, 168.0, 0.5)
    assert ladder.spreads[1].isVisible() and ladder.spreads[1].getRegion() == pytest.approx(
        ((low - 1) * 100, (high - 1) * 100)
    )
    assert "within 7d" in ladder.spread_note.text()
    window.close()
