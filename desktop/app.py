"""The desktop window: positions of a book with their distance to liquidation, closest first."""

from __future__ import annotations

import sys

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import QApplication, QHeaderView, QLabel, QMainWindow, QSplitter, QTableView

from desktop.accounts_model import AccountsModel
from desktop.positions_model import DISTANCE_COLUMN, PositionsModel
from engine.bundled import resource
from engine.portfolio import Portfolio, load_portfolio, loads_portfolio
from engine.risk import evaluate_book


def demo_portfolio() -> Portfolio:
    return loads_portfolio(resource("demo", "book.json").read_text(encoding="utf-8"))


class MainWindow(QMainWindow):
    def __init__(self, portfolio: Portfolio, source: str) -> None:
        super().__init__()
        self.setWindowTitle(f"Margin Watch — {source}")
        risk = evaluate_book(portfolio.book, portfolio.price_map())
        self.model = PositionsModel(risk)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(self.model)
        proxy.setSortRole(Qt.ItemDataRole.UserRole)
        self.table = QTableView()
        self.table.setModel(proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DISTANCE_COLUMN, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.accounts_model = AccountsModel(risk)
        self.accounts = QTableView()
        self.accounts.setModel(self.accounts_model)
        self.accounts.verticalHeader().setVisible(False)
        for view in (self.accounts, self.table):
            view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.accounts)
        splitter.addWidget(self.table)
        splitter.setSizes([180, 520])
        self.setCentralWidget(splitter)
        self.statusBar().addWidget(QLabel("Prices: the marks written in the file (static, not live)."))
        self.resize(1600, 760)


def run_app(demo: bool = False, book_file: str | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Margin Watch")
    if book_file and not demo:
        portfolio, source = load_portfolio(book_file), book_file
    else:
        portfolio, source = demo_portfolio(), "demo book"
    window = MainWindow(portfolio, source)
    window.show()
    return app.exec()
