"""A read-only table model over the engine's position risks: one row per position, text pre-formatted.

Besides the numbers each row carries its risk level (the row's colour) and the source of its price
("live 0.4 s", "manual", "simulated", "STALE 21 s"); a stale price greys and italicises the whole row,
so it cannot pass for a live one.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt

from desktop.tables.cell_painter import RowLook
from desktop.tables.position_columns import (
    COLUMNS,
    DISTANCE_COLUMN,
    LEVEL_BACKGROUND,
    LEVEL_FOREGROUND,
    LIVE_COLUMNS,
    LIVE_SPANS,
    MARK_COLUMN,
    ROE_COLUMN,
    SOURCE_COLUMN,
    STATE_COLUMNS,
    UPNL_COLUMN,
    WHAT_IF_COLUMN,
)
from desktop.tables.text_table_model import LOOK_ROLES, Index, TextTableModel
from engine.margin.live_risk import VectorPositions
from engine.margin.model import Position
from engine.margin.risk import BookRisk, PositionRisk
from engine.monitor.frame import RowState
from engine.monitor.levels import Level

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_EDIT = int(Qt.ItemDataRole.EditRole)
_SORT = int(Qt.ItemDataRole.UserRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_CELL = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren
_EDITABLE_CELL = _CELL | Qt.ItemFlag.ItemIsEditable


def _signs(r: PositionRisk) -> tuple[tuple[int, int], ...]:
    """The uPnL and ROE cells' signs (a gain green, a loss red; zero and unknown figures uncoloured)."""
    return tuple(
        (column, 1 if value > 0 else -1)
        for column, value in ((UPNL_COLUMN, r.unrealized_pnl), (ROE_COLUMN, r.roe))
        if value is not None and value == value and value != 0
    )


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
        tier_note: Callable[[tuple[str, str]], str] | None = None,
    ) -> None:
        self.clock: Callable[[], float] = time.time
        """Wall-clock seconds for the funding countdown (tests set their own)."""
        self._funding_minute = int(self.clock() // 60)
        self.set_mark = set_mark
        self.tier_note = tier_note  # (exchange, symbol) -> its tiers' source and age, for the row's tooltip
        self.threshold_note: Callable[[Position], str] | None = None  # its own thresholds, when not the global ones
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
        self.rows_on_screen: Callable[[], range] | None = None
        """The view rows a view shows now (set by the table): a tick signals only the cells of these rows whose
        text changed; the other rows' live cells in two ranges, above and below them (Qt repaints none)."""
        super().__init__([c.title for c in COLUMNS], [c.numeric for c in COLUMNS], [])
        self._arrange()

    # -- order and filter -------------------------------------------------------------------------

    def _arrange(self, resort: bool = True) -> None:
        """Recompute the sorted order (when asked) and the rows shown under the filter."""
        if resort:
            self._moved_since_sort = False
            keys = self._sort_keys()
            present = [p for p, k in enumerate(keys) if k is not None and k == k]  # k != k: NaN, unknown
            descending = self._sort_order == Qt.SortOrder.DescendingOrder
            present.sort(key=keys.__getitem__, reverse=descending)  # stable: ties keep the book's order
            known = set(present)
            self._sorted = present + [p for p in range(len(keys)) if p not in known]  # no value: last either way
        self._shown = [p for p in self._sorted if self._accepts(p)]
        self._view_row = {p: row for row, p in enumerate(self._shown)}

    def _sort_keys(self) -> list[Any]:
        """The sorted column's key of every position, in book order."""
        column = COLUMNS[self._sort_column]
        if column.state_key is not None:
            now = self.clock()
            return [column.state_key(r, s, now) for r, s in zip(self._rows, self.states, strict=True)]
        if isinstance(self._rows, VectorPositions) and column.vector_key is not None:
            return column.vector_key(self._rows.vectors).tolist()  # the same floats, without the objects
        return [column.sort_key(r) for r in self._rows]

    def order_is_stale(self) -> bool:
        """True when the rows, kept in place while their numbers moved (never re-sorted on a tick), are no
        longer in the order the sort arrow claims."""
        if not self._moved_since_sort:
            return False
        keys = self._sort_keys()
        present = [keys[p] for p in self._sorted if keys[p] is not None and keys[p] == keys[p]]
        if self._sort_order == Qt.SortOrder.DescendingOrder:
            return any(a < b for a, b in itertools.pairwise(present))
        return any(a > b for a, b in itertools.pairwise(present))

    def resort(self) -> None:
        """Sort the rows again by the current column and order (the user's "Re-sort now")."""
        self._rearrange(resort=True)

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

    def closest_row(self) -> int | None:
        """The view row of the shown position closest to liquidation (the smallest distance; a liquidated one
        first), or None when no shown position has a distance."""
        key = COLUMNS[DISTANCE_COLUMN].sort_key
        distances = [(key(self._rows[p]), row) for row, p in enumerate(self._shown)]
        known = [(d, row) for d, row in distances if d is not None and d == d]
        return min(known)[1] if known else None

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
            now = self.clock()
            for c in STATE_COLUMNS:
                cells[c] = COLUMNS[c].state_text(r, owner, state, now)
            self._text[position] = cells
        return cells

    def row_look(self, row: int) -> RowLook:
        """The look of a view row (what the cell painter draws): the level's colours (a stale row keeps them,
        readable, in italic), else muted and italic when its price is stale, italic when the position is
        hypothetical; uPnL and ROE green or red by sign on an uncoloured row."""
        p = self._shown[row]
        look = self._looks.get(p)
        if look is None:
            state, r = self.states[p], self._rows[p]
            foreground = LEVEL_FOREGROUND.get(state.level)  # a tinted row's own text colour, stale or not
            muted = state.stale and foreground is None
            look = self._looks[p] = RowLook(
                self.row_text(p),
                LEVEL_BACKGROUND.get(state.level),
                foreground,
                state.stale or r.position.hypothetical,
                state.level,
                muted,
                () if foreground is not None or muted else _signs(r),
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
        minute = int(self.clock() // 60)  # the countdown moves once a minute, whatever the marks do
        ticked, self._funding_minute = minute != self._funding_minute, minute
        whole: list[int] = []  # the position itself, its level or its staleness changed: every cell
        live: list[int] = []  # only numbers that follow the marks, or the price's age
        for p, (old, new) in enumerate(zip(self.states, new_states, strict=True)):
            if old.level != new.level or old.stale != new.stale or old.what_if != new.what_if or p in reshaped:
                whole.append(p)
            elif moved[p] or old.source != new.source or old.funding is not new.funding or (ticked and new.funding):
                live.append(p)
        self._moved_since_sort = self._moved_since_sort or bool(whole or live)
        on_screen = self.rows_on_screen() if self.rows_on_screen is not None else range(0)
        view_row = self._view_row
        before = {p: (self._text.get(p), self._rows[p]) for p in live if view_row.get(p, -1) in on_screen}
        for p in itertools.chain(whole, live):
            self._text.pop(p, None)
            self._looks.pop(p, None)
        self._rows, self.states = new_rows, new_states
        if reshaped and (self._filter_account or self._filter_words):
            self._rearrange(resort=False)  # an edited position may no longer match the filter (or match it now)
            return
        self.signal_rows(sorted(view_row[p] for p in whole if p in view_row))
        self._signal_off_screen(sorted(view_row[p] for p in live if p in view_row and p not in before), on_screen)
        self._signal_changed_cells(before)

    def _signal_off_screen(self, rows: Sequence[int], on_screen: range) -> None:
        """The live cells of rows off screen (view rows, ascending): one dataChanged per run of live columns for
        those above the rows on screen and one for those below (a thousand rows of ticks were hundreds of signals
        a refresh; a view repaints none of these cells). The row just above the screen is signalled cell by cell:
        a range repaints one row beyond its last (QTableViewPrivate::intersectedRect), here the first row on
        screen."""
        if not rows:
            return
        first = on_screen.start if on_screen else len(self._shown)  # nothing on screen: all of them are "above"
        above = [r for r in rows if r < first]
        below = rows[len(above) :]
        if above and on_screen and above[-1] == first - 1:
            self.signal_cells((first - 1, c) for c in LIVE_COLUMNS)
            above.pop()
        for block in (above, below):
            for left, right in LIVE_SPANS if block else ():
                self.dataChanged.emit(self.createIndex(block[0], left), self.createIndex(block[-1], right))

    def _signal_changed_cells(self, before: dict[int, tuple[list[str] | None, PositionRisk]]) -> None:
        """For rows on screen whose numbers moved: dataChanged for the cells whose text changed (a tick
        moves the mark, the uPnL and the distance; the entry, the notional of an isolated position, its
        liquidation price stay as they read), and for the distance cell whenever the distance moved (its bar
        is drawn from the number). Their text is formatted now instead of at the paint that follows."""
        cells: list[tuple[int, int]] = []
        for p, (old_text, old_row) in before.items():
            row = self._view_row[p]
            if old_text is None:  # never painted: nothing to compare with
                self.signal_rows([row], LIVE_SPANS)
                continue
            text = self.row_text(p)
            cells.extend((row, c) for c in LIVE_COLUMNS if text[c] != old_text[c])
            if text[DISTANCE_COLUMN] == old_text[DISTANCE_COLUMN] and (
                old_row.distance_to_liquidation != self._rows[p].distance_to_liquidation
            ):
                cells.append((row, DISTANCE_COLUMN))
        self.signal_cells(cells)

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
        """What QAbstractTableModel gives (asked for every cell painted: made once, not per call), the Mark
        cell editable where typing a mark is possible."""
        if not index.isValid():
            return _NO_FLAGS
        if self.set_mark is not None and index.column() == MARK_COLUMN:
            return _EDITABLE_CELL
        return _CELL

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
            column = COLUMNS[index.column()]
            if column.state_key is not None:
                return column.state_key(self._rows[p], self.states[p], self.clock())
            return column.sort_key(self._rows[p])
        if role == _EDIT and index.column() == MARK_COLUMN:
            mark = self._rows[p].mark_price
            return f"{mark:g}" if math.isfinite(mark) else ""
        if role == _TOOLTIP:  # a preview's note, else why a figure shows "—"; then the tiers' source and age
            r, what_if = self._rows[p], self.states[p].what_if
            account = self._accounts.get(r.position.account)
            tiers = self.tier_note((account.exchange, r.position.symbol)) if self.tier_note and account else ""
            first = f"{what_if}: a preview's figures and level, not the real book's" if what_if else r.missing
            own = self.threshold_note(r.position) if self.threshold_note else ""
            return "\n".join(line for line in (first, own, tiers) if line) or None
        return None
