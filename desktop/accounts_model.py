"""A read-only table model over the engine's account figures, in each account's settlement currency."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt

from desktop.cell_painter import RowLook
from desktop.positions_model import LEVEL_BACKGROUND, LEVEL_FOREGROUND
from desktop.text_table_model import TextTableModel
from engine.levels import Level
from engine.report import money
from engine.risk import AccountRisk, BookRisk
from engine.rules import profile_for


def _ratio(a: AccountRisk, move: float | None) -> str:
    return "n/a (equity ≤ 0)" if a.margin_ratio is None else f"{a.margin_ratio * 100:.2f}%"


def _move(a: AccountRisk, move: float | None) -> str:
    """The uniform move of all cross marks that liquidates the account: '-23.4% to liquidation'."""
    if move is None:
        return "none"
    return f"{move * 100:+.1f}% to liquidation"


COLUMNS = (
    ("Account", lambda a, m: a.account.name),
    ("Exchange", lambda a, m: profile_for(a.account.exchange).title + (" (estimate)" if a.estimate else "")),
    ("Wallet", lambda a, m: money(a.wallet_balance, a.account.currency)),
    ("uPnL", lambda a, m: money(a.unrealized_pnl, a.account.currency)),
    ("Equity", lambda a, m: money(a.equity, a.account.currency)),
    ("Maint. margin", lambda a, m: money(a.maintenance_margin, a.account.currency)),
    ("Margin ratio", _ratio),
    ("Available", lambda a, m: money(a.available_balance, a.account.currency)),
    ("All cross marks move", _move),
)


RATIO_COLUMN = next(i for i, (title, _) in enumerate(COLUMNS) if title == "Margin ratio")


SEARCHING = "searching…"
"""The move column before the first search has answered (moves=None)."""
MOVE_COLUMN = next(i for i, (title, _) in enumerate(COLUMNS) if title == "All cross marks move")


ACCOUNT_COLUMN = 0


def _cells(
    risk: BookRisk, moves: Mapping[str, float | None] | None, notes: Sequence[str] | None = None
) -> list[list[str]]:
    cells = [[text(a, (moves or {}).get(a.account.name)) for _, text in COLUMNS] for a in risk.accounts]
    if moves is None:
        for row in cells:
            row[MOVE_COLUMN] = SEARCHING
    for row, note in zip(cells, notes or (), strict=False):
        if note:  # a previewed account says so where its name is read
            row[ACCOUNT_COLUMN] = f"{row[ACCOUNT_COLUMN]} ({note})"
    return cells


class AccountsModel(TextTableModel):
    """Rows coloured by the account's margin-ratio level; UserRole of the ratio column is the ratio.

    moves: each account's uniform move to liquidation (None for an account without one); moves=None
    as a whole means not searched yet, shown as "searching…". notes: per account, '' or the what-if
    note of an account whose figures and level come from a preview ('what-if · real: ok'), shown
    after its name and in its tooltip.
    """

    def __init__(
        self,
        risk: BookRisk,
        moves: Mapping[str, float | None] | None = None,
        levels: Sequence[Level] | None = None,
        notes: Sequence[str] | None = None,
    ) -> None:
        self._risk = risk
        self.levels = list(levels or [Level.OK] * len(risk.accounts))
        self.notes = list(notes or [""] * len(risk.accounts))
        cells = _cells(risk, moves, self.notes)
        super().__init__([title for title, _ in COLUMNS], [c >= 2 for c in range(len(COLUMNS))], cells)

    def set_risk(
        self,
        risk: BookRisk,
        moves: Mapping[str, float | None] | None = None,
        levels: Sequence[Level] | None = None,
        notes: Sequence[str] | None = None,
    ) -> None:
        new_levels = list(levels or [Level.OK] * len(risk.accounts))
        restyled = frozenset(
            i for i, level in enumerate(new_levels) if i >= len(self.levels) or level != self.levels[i]
        )
        self._risk, self.levels = risk, new_levels
        self.notes = list(notes or [""] * len(risk.accounts))
        self.replace_cells(_cells(risk, moves, self.notes), restyled)

    def row_look(self, row: int) -> RowLook:
        level = self.levels[row]
        return RowLook(self.row_text(row), LEVEL_BACKGROUND.get(level), LEVEL_FOREGROUND.get(level), level=level)

    def extra_data(self, row: int, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.UserRole and column == RATIO_COLUMN:
            ratio = self._risk.accounts[row].margin_ratio
            return float("nan") if ratio is None else float(ratio)
        if role == Qt.ItemDataRole.ToolTipRole and row < len(self.notes) and self.notes[row]:
            return f"{self.notes[row]}: a preview's figures and level, not the real book's"
        return None
