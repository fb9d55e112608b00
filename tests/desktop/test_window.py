"""The window shows the demo book with the engine's numbers, closest to liquidation first."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.app import MainWindow, demo_portfolio
from desktop.positions_model import COLUMNS, PositionsModel
from engine.report import percent, price
from engine.risk import evaluate_book


def _column(title: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.title == title)


def test_positions_model_passes_qt_model_tester(qtmodeltester):
    portfolio = demo_portfolio()
    model = PositionsModel(evaluate_book(portfolio.book, portfolio.price_map()))
    qtmodeltester.check(model, force_py=True)


def test_demo_window_lists_positions_closest_to_liquidation_first(qtbot):
    portfolio = demo_portfolio()
    window = MainWindow(portfolio, "demo book")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    expected = sorted(risk.positions, key=lambda r: r.distance_to_liquidation)
    view = window.table.model()
    shown = [view.index(row, _column("To liq.")).data() for row in range(view.rowCount())]
    assert shown == [percent(r.distance_to_liquidation) for r in expected]
    liq = [view.index(row, _column("Liq. price")).data() for row in range(view.rowCount())]
    assert liq == [price(r.liquidation_price) for r in expected]
    hypothetical_rows = [
        row for row in range(view.rowCount()) if "hypothetical" in view.index(row, _column("Symbol")).data()
    ]
    assert len(hypothetical_rows) == sum(p.hypothetical for p in portfolio.book.positions)
    assert view.index(hypothetical_rows[0], 0).data(Qt.ItemDataRole.FontRole).italic()
