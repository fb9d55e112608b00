"""A read-only table model over the engine's position risks: one row per position, text pre-formatted.

Besides the numbers each row carries its risk level (the row's colour) and the source of its price
("live 0.4 s", "manual", "simulated", "STALE 21 s"); a stale price greys and italicises the whole row,
so it cannot pass for a live one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from desktop.tables.cell_painter import RowLook
from desktop.tables.text_table_model import LOOK_ROLES, Index, TextTableModel
from engine.book.formats import money, percent, quoted_price
from engine.margin.live_risk import VectorPositions
from engine.margin.model import Account, MarginMode, quote_currency_of
from engine.margin.risk import BookRisk, PositionRisk
from engine.margin.vectorised import VectorRisk
from engine.monitor.levels import Level


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[PositionRisk, Account], str]
    sort_key: Callable[[PositionRisk], Any]
    numeric: bool = True
    live: bool = False
    """Its text follows the marks (or the price's age); the other columns change only with the position."""
    vector_key: Callable[[VectorRisk], np.ndarray] | None = None
    """The same sort keys for all rows at once, from the vectorised result (no PositionRisk per row)."""


class RowState(NamedTuple):
    """What a row shows besides the engine's numbers (a tuple: made for every row on every refresh)."""

    level: Level = Level.OK
    source: str = "manual"
    stale: bool = False
    what_if: str = ""
    """Set when the row's figures and level come from a preview (a hypothetical position, an account
    holding one, a price shock): '◇ hypothetical · what-if', 'what-if · real: ok'. Shown in the What-if
    column and the row's tooltip, so a previewed colour never passes for the real one."""


def _distance_key(r: PositionRisk) -> float:
    return r.distance_to_liquidation if r.distance_to_liquidation is not None else float("inf")


def quoted(value: float | None, symbol: str) -> str:
    """A price with the symbol's quote currency: '61,000.50 USDT' (engine.book.formats.quoted_price)."""
    return quoted_price(value, quote_currency_of(symbol))


def _unknown_or(r: PositionRisk, text: str) -> str:
    """'—' for a figure the row's missing mark (or an overflow) hides; the tooltip gives the reason."""
    return "—" if r.missing else text


def ratio_text(ratio: float | None) -> str:
    return "none" if ratio is None else f"{ratio * 100:.2f}%"


def position_ratio_text(r: PositionRisk) -> str:
    """The ratio that liquidates this position at 100%: its own (isolated) or its account's cross ratio."""
    if r.missing:
        return "—"
    if r.margin_ratio is None:
        return "gone" if r.distance_to_liquidation is not None and r.distance_to_liquidation <= 0 else "none"
    return ratio_text(r.margin_ratio)


def margin(r: PositionRisk) -> float:
    """The collateral of the position: its isolated margin, else the initial margin at the mark."""
    p = r.position
    return p.isolated_margin if p.margin_mode is MarginMode.ISOLATED else r.initial_margin


COLUMNS: tuple[Column, ...] = (
    Column("Account", lambda r, a: r.position.account, lambda r: r.position.account, numeric=False),
    Column("Exchange", lambda r, a: a.exchange, lambda r: r.position.account, numeric=False),
    Column("Symbol", lambda r, a: r.position.symbol, lambda r: r.position.symbol, numeric=False),
    Column("Side", lambda r, a: r.position.side.value, lambda r: r.position.side.value, numeric=False),
    Column("Contracts", lambda r, a: f"{r.position.contracts:g}", lambda r: r.position.contracts),
    Column("Entry", lambda r, a: quoted(r.position.entry_price, r.position.symbol), lambda r: r.position.entry_price),
    Column(
        "Mark",
        lambda r, a: quoted(r.mark_price, r.position.symbol),
        lambda r: r.mark_price,
        live=True,
        vector_key=lambda v: v.mark_price,
    ),
    Column("Source", lambda r, a: "", lambda r: 0, numeric=False, live=True),  # filled from RowState
    Column(
        "Liq. price",
        lambda r, a: _unknown_or(r, quoted(r.liquidation_price, r.position.symbol)),
        lambda r: r.liquidation_price if r.liquidation_price is not None else float("inf"),
        live=True,
        vector_key=lambda v: np.where(np.isnan(v.liquidation_price), np.inf, v.liquidation_price),
    ),
    Column(
        "To liq.",
        lambda r, a: _unknown_or(r, percent(r.distance_to_liquidation)),
        _distance_key,
        live=True,
        vector_key=lambda v: np.where(np.isnan(v.liquidation_price), np.inf, v.distance_to_liquidation),
    ),
    Column(  # filled from RowState.what_if
        "What-if",
        lambda r, a: "◇ hypothetical" if r.position.hypothetical else "",
        lambda r: r.position.hypothetical,
        numeric=False,
        live=True,
    ),
    Column(
        "Margin ratio",
        lambda r, a: position_ratio_text(r),
        lambda r: r.margin_ratio if r.margin_ratio is not None else float("inf"),
        live=True,
        vector_key=lambda v: np.where(np.isnan(v.position_margin_ratio), np.inf, v.position_margin_ratio),
    ),
    Column("Mode", lambda r, a: r.position.margin_mode.value, lambda r: r.position.margin_mode.value, numeric=False),
    Column("Leverage", lambda r, a: f"{r.position.leverage:g}×", lambda r: r.position.leverage),
    Column("Margin", lambda r, a: money(margin(r), a.currency), margin, live=True),
    Column(
        "Maint. margin",
        lambda r, a: money(r.maintenance_margin, a.currency),
        lambda r: r.maintenance_margin,
        live=True,
    ),
    Column("uPnL", lambda r, a: money(r.unrealized_pnl, a.currency), lambda r: r.unrealized_pnl, live=True),
    Column("ROE", lambda r, a: percent(r.roe), lambda r: r.roe, live=True),
    Column("P(liq 24h)", lambda r, a: "", lambda r: 0, live=True),  # filled by desktop.tables.odds_model
)
DISTANCE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "To liq.")
MARK_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Mark")
SOURCE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Source")
WHAT_IF_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "What-if")


def _spans(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """Runs of True as (first, last) indices."""
    spans: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if flag and spans and spans[-1][1] == i - 1:
            spans[-1] = (spans[-1][0], i)
        elif flag:
            spans.append((i, i))
    return spans


LIVE_SPANS = _spans([c.live for c in COLUMNS])
"""The live columns as ranges: a tick repaints these cells of a row, not the whole row."""

# Row colours by level: tinted enough to see across a room, light enough to read the numbers on.
LEVEL_BACKGROUND = {
    Level.WARNING: QColor(255, 224, 130),
    Level.DANGER: QColor(255, 160, 150),
    Level.LIQUIDATED: QColor(200, 40, 40),
}
# Text on a tinted row is dark whatever the theme (light text on a yellow row cannot be read).
LEVEL_FOREGROUND = {
    Level.WARNING: QColor(20, 20, 20),
    Level.DANGER: QColor(20, 20, 20),
    Level.LIQUIDATED: QColor(255, 255, 255),
}
STALE_FOREGROUND = QColor(128, 128, 128)


_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_EDIT = int(Qt.ItemDataRole.EditRole)
_SORT = int(Qt.ItemDataRole.UserRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)


class PositionsModel(TextTableModel):
    """Positions in the order and under the filter the table shows them.

    The model sorts and filters itself (no proxy model in between): painting a row then costs one
    Python call per role instead of three, and sorting 1,000 rows is one Python sort instead of 20,000
    data() calls. Rows are addressed two ways: a *position* is its index in the book (`_rows`,
    `states`, `row_text`, `levels` are in book order), a *view row* is where the table shows it
    (`position_at`, `view_row_of`, `view_index` translate).

    Cells are formatted when a view asks for them (only the rows on screen are), then cached until the
    row's numbers or state change: a refresh compares numbers, it does not format 17,000 strings.
    The order changes only when the user sorts (never on a tick), the rows shown only when the filter
    changes.
    """

    def __init__(
        self,
        risk: BookRisk,
        states: Sequence[RowState] | None = None,
        set_mark: Callable[[PositionRisk, str], str | None] | None = None,
    ) -> None:
        self.set_mark = set_mark
        """Typing into a Mark cell calls this with the row and the text; it returns why it refused, or None."""
        self._rows = risk.positions
        self.states = list(states or [RowState()] * len(self._rows))
        self._accounts = {a.account.name: a.account for a in risk.accounts}
        self._text: dict[int, list[str]] = {}
        self._looks: dict[int, RowLook] = {}
        self._sort_column = DISTANCE_COLUMN
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._filter_account = ""
        self._filter_words: list[str] = []
        self._sorted: list[int] = []
        self._moved_since_sort = True
        self._shown: list[int] = []
        self._view_row: dict[int, int] = {}
        super().__init__([c.title for c in COLUMNS], [c.numeric for c in COLUMNS], [])
        self._arrange()

    # -- order and filter -------------------------------------------------------------------------

    def _arrange(self, resort: bool = True) -> None:
        """Recompute the sorted order (when asked) and the rows shown under the filter."""
        if resort:
            self._moved_since_sort = False
            column = COLUMNS[self._sort_column]
            if isinstance(self._rows, VectorPositions) and column.vector_key is not None:
                keys = column.vector_key(self._rows.vectors).tolist()  # the same floats, without the objects
            else:
                keys = [column.sort_key(r) for r in self._rows]
            present = [p for p, k in enumerate(keys) if k is not None and k == k]  # k != k: NaN, unknown
            descending = self._sort_order == Qt.SortOrder.DescendingOrder
            present.sort(key=keys.__getitem__, reverse=descending)  # stable: ties keep the book's order
            known = set(present)
            self._sorted = present + [p for p in range(len(keys)) if p not in known]  # no value: last either way
        self._shown = [p for p in self._sorted if self._accepts(p)]
        self._view_row = {p: row for row, p in enumerate(self._shown)}

    def _accepts(self, p: int) -> bool:
        if self._filter_account and self._rows[p].position.account != self._filter_account:
            return False
        if not self._filter_words:
            return True
        joined = "\t".join(self.row_text(p)).lower()
        return all(word in joined for word in self._filter_words)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort the shown rows by a column (a header click); selection and current row follow their rows."""
        if not 0 <= column < len(COLUMNS):
            return
        if (column, order) == (self._sort_column, self._sort_order) and not self._moved_since_sort:
            return  # the view announcing the order the rows are already in (no number moved since)
        self._sort_column, self._sort_order = column, order
        self._rearrange(resort=True)

    def set_filter(self, account: str, words: Sequence[str]) -> None:
        """Show the positions of one account ('' for all) whose cells contain every word (lower case)."""
        lowered = [w.lower() for w in words]
        if (account, lowered) == (self._filter_account, self._filter_words):
            return  # the same filter: the same rows
        self._filter_account, self._filter_words = account, lowered
        self._rearrange(resort=False)

    def _rearrange(self, resort: bool) -> None:
        """Sort (when asked) and filter afresh as one layout change: the selection and the current row
        follow their positions, and a row the filter hides leaves the selection."""
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        positions = [self._shown[i.row()] for i in persistent]
        self._arrange(resort)
        self.changePersistentIndexList(
            persistent, [self.view_index(p, i.column()) for p, i in zip(positions, persistent, strict=True)]
        )
        self.layoutChanged.emit()

    def position_at(self, view_row: int) -> int:
        """The position (book index) shown in this view row."""
        return self._shown[view_row]

    def view_row_of(self, position: int) -> int | None:
        """Where the table shows this position (None when the filter hides it)."""
        return self._view_row.get(position)

    def view_index(self, position: int, column: int) -> QModelIndex:
        row = self._view_row.get(position)
        return QModelIndex() if row is None else self.index(row, column)

    @property
    def total(self) -> int:
        """Positions in the model, shown or not."""
        return len(self._rows)

    # -- content ----------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt API)
        return 0 if parent.isValid() else len(self._shown)

    @property
    def levels(self) -> list[Level]:
        return [s.level for s in self.states]

    def row_text(self, position: int) -> list[str]:
        cells = self._text.get(position)
        if cells is None:
            r = self._rows[position]
            owner = self._accounts[r.position.account]
            cells = [c.text(r, owner) for c in COLUMNS]
            state = self.states[position]
            cells[SOURCE_COLUMN] = state.source
            if state.what_if:
                cells[WHAT_IF_COLUMN] = state.what_if
            self._text[position] = cells
        return cells

    def row_look(self, row: int) -> RowLook:
        """The look of a view row (what the cell painter draws): the level's colours, grey and italic
        when its price is stale, italic when the position is hypothetical."""
        p = self._shown[row]
        look = self._looks.get(p)
        if look is None:
            state = self.states[p]
            look = self._looks[p] = RowLook(
                self.row_text(p),
                LEVEL_BACKGROUND.get(state.level),
                STALE_FOREGROUND if state.stale else LEVEL_FOREGROUND.get(state.level),
                state.stale or self._rows[p].position.hypothetical,
                state.level,
            )
        return look

    def set_risk(self, risk: BookRisk, states: Sequence[RowState] | None = None) -> None:
        """Show new numbers and states: only the rows whose numbers, source, level or staleness changed
        are signalled; a change in the number of rows resets the model (sorted and filtered afresh)."""
        new_rows = risk.positions
        new_states = list(states or [RowState()] * len(new_rows))
        accounts = {a.account.name: a.account for a in risk.accounts}
        if len(new_rows) != len(self._rows) or accounts != self._accounts:
            self.beginResetModel()
            self._rows, self.states, self._accounts = new_rows, new_states, accounts
            self._text.clear()
            self._looks.clear()
            self._arrange()
            self.endResetModel()
            return
        moved, reshaped = self._changes(new_rows)
        whole: list[int] = []  # the position itself, its level or its staleness changed: every cell
        live: list[int] = []  # only numbers that follow the marks, or the price's age
        for p, (old, new) in enumerate(zip(self.states, new_states, strict=True)):
            if old.level != new.level or old.stale != new.stale or old.what_if != new.what_if or p in reshaped:
                whole.append(p)
            elif moved[p] or old.source != new.source:
                live.append(p)
        self._moved_since_sort = self._moved_since_sort or bool(whole or live)
        for p in itertools.chain(whole, live):
            self._text.pop(p, None)
            self._looks.pop(p, None)
        self._rows, self.states = new_rows, new_states
        if reshaped and (self._filter_account or self._filter_words):
            self._rearrange(resort=False)  # an edited position may no longer match the filter (or match it now)
            return
        view_row = self._view_row
        self.signal_rows(sorted(view_row[p] for p in whole if p in view_row))
        self.signal_rows(sorted(view_row[p] for p in live if p in view_row), LIVE_SPANS)

    def _changes(self, new_rows: Sequence[PositionRisk]) -> tuple[Sequence[bool], set[int]]:
        """Per position, whether its numbers moved; and the positions that were themselves edited.

        From the arrays when both results are the vectorised engine's over the same positions (no
        PositionRisk is made for the rows off screen), else one comparison per row."""
        if isinstance(new_rows, VectorPositions) and (moved := new_rows.moved_since(self._rows)) is not None:
            return moved.tolist(), set()
        moved = [old != new for old, new in zip(self._rows, new_rows, strict=True)]
        reshaped = {p for p, m in enumerate(moved) if m and self._rows[p].position != new_rows[p].position}
        return moved, reshaped

    def flags(self, index: Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if self.set_mark is not None and index.isValid() and index.column() == MARK_COLUMN:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        """A typed mark becomes a manual price for the symbol (every row on it follows on the next refresh)."""
        if role != Qt.ItemDataRole.EditRole or self.set_mark is None or index.column() != MARK_COLUMN:
            return False
        return self.set_mark(self._rows[self._shown[index.row()]], str(value)) is None

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        """Called for every role of every cell painted: the common roles first, without detours."""
        if not index.isValid():
            return None
        p = self._shown[index.row()]
        if role == _DISPLAY:
            return self.row_text(p)[index.column()]
        if role == _ALIGNMENT:
            return self.alignments[index.column()]
        if role in LOOK_ROLES:
            return self.look_data(index.row(), index.column(), role)
        if role == _SORT:
            return COLUMNS[index.column()].sort_key(self._rows[p])
        if role == _EDIT and index.column() == MARK_COLUMN:
            mark = self._rows[p].mark_price
            return f"{mark:g}" if math.isfinite(mark) else ""
        if role == _TOOLTIP:
            if self.states[p].what_if:
                return f"{self.states[p].what_if}: a preview's figures and level, not the real book's"
            return self._rows[p].missing or None  # why a figure shows "—"
        return None
