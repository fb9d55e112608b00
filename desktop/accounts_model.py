"""A read-only table model over the engine's account figures, in each account's settlement currency."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from engine.report import money
from engine.risk import AccountRisk, BookRisk
from engine.rules import profile_for

Index = QModelIndex | QPersistentModelIndex


def _ratio(a: AccountRisk) -> str:
    return "n/a (equity ≤ 0)" if a.margin_ratio is None else f"{a.margin_ratio * 100:.2f}%"


COLUMNS = (
    ("Account", lambda a: a.account.name),
    ("Exchange", lambda a: profile_for(a.account.exchange).title + (" (estimate)" if a.estimate else "")),
    ("Wallet", lambda a: money(a.wallet_balance, a.account.currency)),
    ("uPnL", lambda a: money(a.unrealized_pnl, a.account.currency)),
    ("Equity", lambda a: money(a.equity, a.account.currency)),
    ("Maint. margin", lambda a: money(a.maintenance_margin, a.account.currency)),
    ("Margin ratio", _ratio),
    ("Available", lambda a: money(a.available_balance, a.account.currency)),
)


class AccountsModel(QAbstractTableModel):
    def __init__(self, risk: BookRisk) -> None:
        super().__init__()
        self._cells = [[text(a) for _, text in COLUMNS] for a in risk.accounts]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._cells)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cells[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignLeft if index.column() < 2 else Qt.AlignmentFlag.AlignRight
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][0]
        return None
