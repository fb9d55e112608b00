"""The funding projection in the window: the position chart says a position's funding per day and, isolated,
its liquidation price in 7 days at today's rate and mark (and which way it moved); cross, its account's days
until funding alone reaches the warning level. The risk ladder says the account's funding per day and its
days to warning. Expected figures are worked out here from the book, not read back from the window."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QItemSelectionModel

from desktop.window.main_window import MainWindow
from engine.book.funding_fields import FileFunding
from engine.book.portfolio import parse_portfolio
from engine.margin.risk import evaluate_book
from engine.market.prices import PriceStore
from tests.portfolio_docs import portfolio_doc, position_doc

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
MARKS = {BTC: 61_000.0, ETH: 3_000.0}


def book():
    doc = portfolio_doc(
        position_doc(BTC, "long", 0.5, 60_000, "cross", 10),
        position_doc(ETH, "long", 2, 3_000, "isolated", 10, isolated_margin=600),
        wallet_balance=10_000,
        prices=MARKS,
        markets={BTC: {"funding_rate": 0.0001}, ETH: {"funding_rate": 0.0002}},
    )
    return parse_portfolio(doc)


def open_window(qtbot, portfolio):
    store = PriceStore()
    for key, mark in portfolio.price_map().items():
        store.set_manual(key, mark)
    window = MainWindow(portfolio, "funding book", store)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def select(window, symbol):
    row = next(i for i, r in enumerate(window.model._rows) if r.position.symbol == symbol)
    window.table.selectionModel().setCurrentIndex(
        window.model.view_index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
    )


def test_the_position_chart_and_the_ladder_say_the_funding_projection(qtbot):
    portfolio = book()
    window = open_window(qtbot, portfolio)
    keys = {k[1]: m for k, m in portfolio.price_map().items()}
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    account = risk.accounts[0]
    btc_per_day = -0.5 * 61_000 * 0.0001 * 3  # a long pays: 3 fundings a day at 8 h
    eth_per_day = -2 * 3_000 * 0.0002 * 3
    at_warning = account.cross_maintenance_margin / 0.70  # the default warning ratio
    days = (account.cross_margin_balance - at_warning) / -btc_per_day
    assert keys == MARKS and days > 0

    chart = window.chart
    window.chart_dock.raise_()
    qtbot.waitUntil(lambda: window.chart_dock.on_screen)
    select(window, BTC)
    window.charts.draw_chart()
    assert chart.funding.text() == (
        f"Funding 0.0100%/8h · file: {btc_per_day:,.2f} USDT/day (paid); main's cross margin at its warning level "
        f"(70% margin ratio) by funding alone in {days:,.1f} days."
    )

    eth = portfolio.book.positions[1]
    later = dataclasses.replace(eth, isolated_margin=600 + 7 * eth_per_day)
    moved = evaluate_book(dataclasses.replace(portfolio.book, positions=(later,)), portfolio.price_map())
    liq_now = risk.positions[1].liquidation_price
    liq_later = moved.positions[0].liquidation_price
    assert liq_later > liq_now  # a long paying funding: its liquidation price rises toward the mark
    select(window, ETH)
    window.charts.draw_chart()
    assert chart.funding.text() == (
        f"Funding 0.0200%/8h · file: {eth_per_day:,.2f} USDT/day (paid); liquidation price in 7 days at today's "
        f"rate and mark: {liq_later:,.2f} USDT ({liq_later - liq_now:+,.2f} USDT, toward the mark)."
    )

    window.ladder_dock.raise_()
    qtbot.waitUntil(lambda: window.ladder_dock.on_screen)
    window.charts.draw_account_views(force=True)
    assert window.ladder.funding.text() == (
        f"Funding of main: {btc_per_day + eth_per_day:,.2f} USDT/day (paid); cross positions {btc_per_day:,.2f} "
        f"USDT/day (paid); cross margin at its warning level (70% margin ratio) by funding alone in {days:,.1f} days."
    )


def test_without_a_rate_the_window_says_so_and_a_received_rate_never_reaches_warning(qtbot):
    doc = portfolio_doc(position_doc(BTC, "short", 0.5, 60_000, "cross", 10), prices=MARKS)
    window = open_window(qtbot, parse_portfolio(doc))
    window.ladder_dock.raise_()
    qtbot.waitUntil(lambda: window.ladder_dock.on_screen)
    window.charts.draw_account_views(force=True)
    assert window.ladder.funding.text() == (
        f"Funding of main: no funding rate (none from the exchange, typed or in the file) for {BTC}; "
        "the cross projection needs every rate."
    )
    window.actions_.funding_rate.set_rate(("binanceusdm", BTC), FileFunding(0.0001, None))
    window.charts.draw_account_views(force=True)
    assert window.ladder.funding.text().endswith(
        "cross margin never at its warning level (70% margin ratio) by funding alone: funding is received or "
        "zero: it never brings the account to warning."
    )
    assert "+9.15 USDT/day (received)" in window.ladder.funding.text()


def test_the_projection_is_to_the_accounts_own_warning_ratio(qtbot):
    doc = portfolio_doc(
        position_doc(BTC, "long", 0.5, 60_000, "cross", 10),
        wallet_balance=10_000,
        prices=MARKS,
        markets={BTC: {"funding_rate": 0.0001}},
    )
    doc["accounts"][0]["thresholds"] = {"ratio_warning": 0.5, "ratio_danger": 0.8}  # the account's own
    portfolio = parse_portfolio(doc)
    window = open_window(qtbot, portfolio)
    account = evaluate_book(portfolio.book, portfolio.price_map()).accounts[0]
    btc_per_day = -0.5 * 61_000 * 0.0001 * 3
    days = (account.cross_margin_balance - account.cross_maintenance_margin / 0.50) / -btc_per_day
    window.chart_dock.raise_()
    qtbot.waitUntil(lambda: window.chart_dock.on_screen)
    select(window, BTC)
    window.charts.draw_chart()
    assert window.chart.funding.text().endswith(
        f"main's cross margin at its warning level (50% margin ratio) by funding alone in {days:,.1f} days."
    )
    window.ladder_dock.raise_()
    qtbot.waitUntil(lambda: window.ladder_dock.on_screen)
    window.charts.draw_account_views(force=True)
    assert "(50% margin ratio)" in window.ladder.funding.text()
