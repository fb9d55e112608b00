"""A read-only table model over the engine's position risks: one row per position, text pre-formatted.

Besides the numbers each row carries its risk level (the row's colour) and the source of its price
("live 0.4 s", "manual", "simulated", "STALE 21 s"); a stale price greys and italicises the whole row,
so it cannot pass for a live one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont

from desktop.text_table_model import TextTableModel
from engine.levels import Level
from engine.report import money, percent, price
from engine.risk import BookRisk, PositionRisk


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[PositionRisk, str], str]
    sort_key: Callable[[PositionRisk], Any]
    numeric: bool = True


@dataclass(frozen=True)
class RowState:
    """What a row shows besides the engine's numbers."""

    level: Level = Level.OK
    source: str = "manual"
    stale: bool = False


def _distance_key(r: PositionRisk) -> float:
    return r.distance_to_liquidation if r.distance_to_liquidation is not None else float("inf")


COLUMNS: tuple[Column, ...] = (
    Column("Account", lambda r, c: r.position.account, lambda r: r.position.account, numeric=False),
    Column(
        "Symbol",
        lambda r, c: r.position.symbol + (" ◇ hypothetical" if r.position.hypothetical else ""),
        lambda r: r.position.symbol,
        numeric=False,
    ),
    Column("Side", lambda r, c: r.position.side.value, lambda r: r.position.side.value, numeric=False),
    Column(
        "Margin",
        lambda r, c: f"{r.position.margin_mode.value} {r.position.leverage:g}x",
        lambda r: r.position.leverage,
        numeric=False,
    ),
    Column("Contracts", lambda r, c: f"{r.position.contracts:g}", lambda r: r.position.contracts),
    Column("Entry", lambda r, c: price(r.position.entry_price), lambda r: r.position.entry_price),
    Column("Mark", lambda r, c: price(r.mark_price), lambda r: r.mark_price),
    Column("Source", lambda r, c: "", lambda r: 0, numeric=False),  # filled from RowState
    Column(
        "Liq. price",
        lambda r, c: price(r.liquidation_price),
        lambda r: r.liquidation_price if r.liquidation_price is not None else float("inf"),
    ),
    Column("To liq.", lambda r, c: percent(r.distance_to_liquidation), _distance_key),
    Column("uPnL", lambda r, c: money(r.unrealized_pnl, c), lambda r: r.unrealized_pnl),
    Column("ROE", lambda r, c: percent(r.roe), lambda r: r.roe),
    Column("Maint. margin", lambda r, c: money(r.maintenance_margin, c), lambda r: r.maintenance_margin),
)
DISTANCE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "To liq.")
SOURCE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Source")

# Row colours by level: tinted enough to see across a room, light enough to read the numbers on.
LEVEL_BACKGROUND = {
    Level.WARNING: QColor(255, 224, 130),
    Level.DANGER: QColor(255, 160, 150),
    Level.LIQUIDATED: QColor(200, 40, 40),
}
LEVEL_FOREGROUND = {Level.LIQUIDATED: QColor(255, 255, 255)}
STALE_FOREGROUND = QColor(128, 128, 128)


def _cells(risk: BookRisk, states: Sequence[RowState]) -> list[list[str]]:
    currency = {a.account.name: a.account.currency for a in risk.accounts}
    rows = []
    for r, state in zip(risk.positions, states, strict=True):
        cells = [c.text(r, currency[r.position.account]) for c in COLUMNS]
        cells[SOURCE_COLUMN] = state.source
        rows.append(cells)
    return rows


class PositionsModel(TextTableModel):
    def __init__(self, risk: BookRisk, states: Sequence[RowState] | None = None) -> None:
        self._rows = list(risk.positions)
        self.states = list(states or [RowState()] * len(self._rows))
        super().__init__([c.title for c in COLUMNS], [c.numeric for c in COLUMNS], _cells(risk, self.states))

    @property
    def levels(self) -> list[Level]:
        return [s.level for s in self.states]

    def set_risk(self, risk: BookRisk, states: Sequence[RowState] | None = None) -> None:
        """Show new numbers and states: only the rows whose text, level or staleness changed are signalled."""
        new_states = list(states or [RowState()] * len(risk.positions))
        restyled = frozenset(
            i
            for i, s in enumerate(new_states)
            if i >= len(self.states) or (s.level, s.stale) != (self.states[i].level, self.states[i].stale)
        )
        self._rows = list(risk.positions)
        self.states = new_states
        self.replace_cells(_cells(risk, new_states), restyled)

    def extra_data(self, row: int, column: int, role: int) -> Any:
        state = self.states[row]
        if role == Qt.ItemDataRole.UserRole:
            return COLUMNS[column].sort_key(self._rows[row])
        if role == Qt.ItemDataRole.BackgroundRole:
            return LEVEL_BACKGROUND.get(state.level)
        if role == Qt.ItemDataRole.ForegroundRole:
            return STALE_FOREGROUND if state.stale else LEVEL_FOREGROUND.get(state.level)
        if role == Qt.ItemDataRole.FontRole and (state.stale or self._rows[row].position.hypothetical):
            font = QFont()
            font.setItalic(True)
            return font
        return None
