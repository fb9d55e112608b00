"""The positions table with its "P(liq 24h)" column: the probability of liquidation of each row, filled in
when a result comes back from the background computation (engine.monitor.odds_worker), coloured past a
threshold, sortable. Until the first result, and for a row without a volatility, the cell shows '—' and its
tooltip says why.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

from desktop.tables.cell_painter import RowLook
from desktop.tables.position_columns import ODDS_COLUMN
from desktop.tables.positions_model import PositionsModel
from engine.margin.live_risk import VectorPositions
from engine.margin.risk import BookRisk, PositionRisk
from engine.monitor.frame import RowState
from engine.monitor.odds_job import BOOTSTRAP, NORMAL, OddsResult, column_title

ODDS_SPAN = [(ODDS_COLUMN, ODDS_COLUMN)]
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
NO_FIGURE_YET = "the probability of liquidation is being computed"
ABOUT = (
    "P(the mark touches the liquidation price within {h} h): a driftless random walk at the symbol's "
    "annualised volatility {v:.0%} (365-day year, other marks held); not a forecast"
)
ABOUT_BOOTSTRAP = (
    "P(the mark's hourly close reaches the liquidation price within {h} h): historical bootstrap of the "
    "symbol's own hourly returns (fat tails as they happened; other marks held); not a forecast"
)
WHY_NONE = {
    NORMAL: "no volatility known for this symbol (the portfolio file's markets 'volatility', or candles: "
    "fetched while the window runs live feeds, or by marginwatch risk --candles)",
    BOOTSTRAP: "no return history for this symbol: the bootstrap needs a day of hourly candles "
    "(fetched while the window runs live feeds, or by marginwatch risk --candles) or stored marks",
}


def odds_title(hours: float, model: str = NORMAL) -> str:
    """The column's title: 'P(liq 24h)', 'P(liq 7d, bootstrap)' (the window says which model is in use)."""
    title = column_title(hours)
    return title if model == NORMAL else f"{title[:-1]}, bootstrap)"


def rows_token(risk: BookRisk) -> object:
    """What identifies a table's rows: the book's positions (the same tuple while the book is unchanged)."""
    rows = risk.positions
    return rows.positions if isinstance(rows, VectorPositions) else tuple(r.position for r in rows)


def probability_text(p: float) -> str:
    """'3.21%', '<0.01%', '0%', '100%' ('—' for NaN: unknown)."""
    if math.isnan(p):
        return "—"
    if p in (0.0, 1.0):
        return f"{p:.0%}"
    return "<0.01%" if p < 5e-5 else f"{p * 100:.2f}%"


class OddsPositionsModel(PositionsModel):
    """PositionsModel whose "P(liq 24h)" column shows the latest OddsResult for its rows (module docstring).

    threshold: a probability at or above it is drawn in the theme's loss colour (row_look); hours and model:
    the horizon and model of the figures shown (set_horizon; a result of another is not shown); volatility:
    per row (book order) the annualised volatility of the latest result (NaN: unknown), for the tooltip."""

    def __init__(
        self,
        risk: BookRisk,
        states: Sequence[RowState] | None = None,
        set_mark: Callable[[PositionRisk, str], str | None] | None = None,
        tier_note: Callable[[tuple[str, str]], str] | None = None,
        threshold: float = 0.05,
    ) -> None:
        self.threshold = threshold
        self.odds: OddsResult | None = None
        self.volatility: np.ndarray | None = None
        self.hours, self.model = 24.0, NORMAL
        self.volatility_note: Callable[[int], str] = lambda _position: ""
        """Where a position's (book order) volatility comes from, one line for the tooltip ('' unsaid)."""
        self._token = rows_token(risk)
        super().__init__(risk, states, set_mark, tier_note)

    def volatility_of(self, position: int) -> float:
        """The annualised volatility the latest figures used for a position (book order); NaN: none yet."""
        return math.nan if self.volatility is None else float(self.volatility[position])

    def set_threshold(self, threshold: float) -> None:
        """Colour the figures at or above a new threshold (a fraction)."""
        self.threshold = threshold
        self._looks.clear()
        self.signal_rows(range(len(self._shown)), ODDS_SPAN)

    def set_horizon(self, hours: float, model: str = NORMAL) -> None:
        """A new horizon or model: the title says it, the figures of the old one go ('—' until the next)."""
        self.hours, self.model, self.odds, self.volatility = hours, model, None, None
        self._headers[ODDS_COLUMN] = odds_title(hours, model)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, ODDS_COLUMN, ODDS_COLUMN)
        self._text.clear()
        self._looks.clear()
        self.signal_rows(range(len(self._shown)), ODDS_SPAN)

    def _probability(self, position: int, odds: OddsResult | None = None) -> float:
        odds = odds or self.odds
        return float(odds.probability[position]) if odds is not None else math.nan

    def _hot(self, position: int, odds: OddsResult | None = None) -> bool:
        p = self._probability(position, odds)
        return not math.isnan(p) and p >= self.threshold

    def set_odds(self, result: OddsResult) -> None:
        """Show a result (ignored when it is for other rows than the table's): only the cells whose text or
        colour changed are signalled (nothing else is formatted again)."""
        if result.token is not self._token and result.token != self._token:
            return
        if result.hours != self.hours or result.model != self.model:  # asked for before the choice changed
            return
        old, self.odds, self.volatility = self.odds, result, result.volatility
        changed = []
        for p in range(self.total):
            before = (probability_text(self._probability(p, old)) if old else "—", self._hot(p, old) if old else False)
            if (probability_text(self._probability(p)), self._hot(p)) != before:
                changed.append(p)
                self._text.pop(p, None)
                self._looks.pop(p, None)
        if self._sort_column == ODDS_COLUMN:
            self._moved_since_sort = True
        self.signal_rows(sorted(self._view_row[p] for p in changed if p in self._view_row), ODDS_SPAN)

    def set_risk(self, risk: BookRisk, states: Sequence[RowState] | None = None) -> None:
        token = rows_token(risk)
        if token is not self._token and token != self._token:  # other rows: the old figures are not theirs
            self._token, self.odds, self.volatility = token, None, None
        super().set_risk(risk, states)

    def row_text(self, position: int) -> list[str]:
        cells = super().row_text(position)
        cells[ODDS_COLUMN] = probability_text(self._probability(position))
        return cells

    def row_look(self, row: int) -> RowLook:
        """The row's look; a figure at or above the threshold in the theme's loss colour (RowLook.signs: where
        the row has no colour of its own, a level or a stale price, whose colour says more)."""
        p = self._shown[row]
        look = self._looks.get(p)  # kept with its figure's colour until the row or the figures change
        if look is not None:
            return look
        look = super().row_look(row)
        if self._hot(p):
            look = self._looks[p] = dataclasses.replace(look, signs=(*look.signs, (ODDS_COLUMN, -1)))
        return look

    def _arrange(self, resort: bool = True) -> None:
        super()._arrange(resort)
        if resort and self._sort_column == ODDS_COLUMN:
            keys = [self._probability(p) for p in range(self.total)]
            known = sorted((p for p in range(self.total) if not math.isnan(keys[p])), key=keys.__getitem__)
            if self._sort_order == Qt.SortOrder.DescendingOrder:
                known.reverse()
            seen = set(known)
            self._sorted = known + [p for p in range(self.total) if p not in seen]  # unknown last either way
            self._shown = [p for p in self._sorted if self._accepts(p)]
            self._view_row = {p: row for row, p in enumerate(self._shown)}

    def data(self, index: Any, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if role == _TOOLTIP and index.isValid() and index.column() == ODDS_COLUMN:
            p = self._shown[index.row()]
            if self.odds is None:
                return NO_FIGURE_YET
            sigma = math.nan if self.volatility is None else float(self.volatility[p])
            note = self.volatility_note(p)
            if math.isnan(self._probability(p)):
                return (self._rows[p].missing or WHY_NONE[self.odds.model]) + (f"\n{note}" if note else "")
            about = ABOUT_BOOTSTRAP if self.odds.model == BOOTSTRAP else ABOUT
            return about.format(h=f"{self.odds.hours:g}", v=sigma) + (f"\n{note}" if note else "")
        return super().data(index, role)
