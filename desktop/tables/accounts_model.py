"""A read-only table model over the engine's account figures, in each account's settlement currency."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt

from desktop.tables.cell_painter import RowLook
from desktop.tables.odds_model import odds_title
from desktop.tables.position_columns import LEVEL_BACKGROUND, LEVEL_FOREGROUND
from desktop.tables.text_table_model import TextTableModel
from engine.book.formats import money
from engine.margin.liquidation_odds import Odds
from engine.margin.risk import AccountRisk, BookRisk
from engine.margin.rules import profile_of
from engine.monitor.levels import Level
from engine.monitor.odds_job import probability_text
from engine.monitor.report import account_ratio_text


def _ratio(a: AccountRisk, move: float | None) -> str:
    """The cross margin ratio, or why there is none ('no cross position', 'liquidated …', 'n/a …')."""
    return account_ratio_text(a).replace("<=", "≤")


def _cross(value: float, a: AccountRisk) -> str:
    return money(value, a.account.currency) if a.has_cross else "none"


def _move(a: AccountRisk, move: float | None) -> str:
    """The uniform move of all cross marks that liquidates the account: '-23.4% to liquidation'."""
    if move is None:
        return "—" if a.missing and a.has_cross else "none"
    return f"{move * 100:+.1f}% to liquidation"


COLUMNS = (
    ("Account", lambda a, m: a.account.name),
    ("Exchange", lambda a, m: profile_of(a.account).title),  # the generic profile's says "generic estimate"
    ("Wallet", lambda a, m: money(a.wallet_balance, a.account.currency)),
    ("uPnL", lambda a, m: money(a.unrealized_pnl, a.account.currency)),
    ("Equity", lambda a, m: money(a.equity, a.account.currency)),
    ("Cross balance", lambda a, m: _cross(a.cross_margin_balance, a)),
    ("Cross maint.", lambda a, m: _cross(a.cross_maintenance_margin, a)),
    ("Margin ratio", _ratio),
    ("Available", lambda a, m: money(a.available_balance, a.account.currency)),
    ("All cross marks move", _move),
    ("P(liq 24h)", lambda a, m: "—"),  # filled from AccountsModel.odds (desktop.window.odds_column)
)


RATIO_TOOLTIP = (
    "Cross margin ratio: the cross positions' maintenance margin / the cross margin balance (wallet less the "
    "isolated margins, plus the cross uPnL). The cross account is liquidated at 100%. Isolated positions have "
    "their own ratio (positions table)."
)
RATIO_COLUMN = next(i for i, (title, _) in enumerate(COLUMNS) if title == "Margin ratio")


SEARCHING = "searching…"
"""The move column before the first search has answered (moves=None)."""
MOVE_COLUMN = next(i for i, (title, _) in enumerate(COLUMNS) if title == "All cross marks move")


ODDS_COLUMN = next(i for i, (title, _) in enumerate(COLUMNS) if title == "P(liq 24h)")
ODDS_TOOLTIP = (
    "P(the cross account reaches its liquidation within {h} h): {model}; ± one standard error. Not a forecast."
)


ACCOUNT_COLUMN = 0


def _cells(
    risk: BookRisk,
    moves: Mapping[str, float | None] | None,
    notes: Sequence[str] | None = None,
    odds: Sequence[Odds] | None = None,
) -> list[list[str]]:
    cells = [[text(a, (moves or {}).get(a.account.name)) for _, text in COLUMNS] for a in risk.accounts]
    for row, o in zip(cells, odds or (), strict=False):
        row[ODDS_COLUMN] = probability_text(o)
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
    after its name and in its tooltip. odds: per account the latest probability of liquidation (set_odds;
    None until the first one), its cell '—' without one and the reason in its tooltip.
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
        self.odds: list[Odds] | None = None
        self.threshold_note: Callable[[str], str] | None = None
        """An account's name -> which thresholds its level follows ('' for the global ones), for its tooltip."""
        self.odds_hours, self.odds_model, self.threshold = 24.0, "normal", 0.05
        self._moves = moves
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
        new_notes = list(notes or [""] * len(risk.accounts))

        names = [a.account.name for a in risk.accounts]
        odds = self.odds if self.odds is not None and names == [a.account.name for a in self._risk.accounts] else None

        def swap() -> None:  # inside the reset when the number of accounts changes
            self._risk, self.levels, self.notes, self.odds = risk, new_levels, new_notes, odds

        self._moves = moves
        old, old_cells, cells = self._risk.accounts, self._cells, _cells(risk, moves, new_notes, odds)
        self.replace_cells(cells, restyled, swap)
        if len(old) == len(cells):  # else the model was reset
            self.signal_cells(  # the gauge is drawn from the ratio: it can move a pixel while its text reads the same
                (row, RATIO_COLUMN)
                for row, a in enumerate(risk.accounts)
                if row not in restyled
                and a.margin_ratio != old[row].margin_ratio
                and cells[row][RATIO_COLUMN] == old_cells[row][RATIO_COLUMN]
            )

    def set_odds(self, odds: Sequence[Odds], names: Sequence[str]) -> None:
        """Show the probabilities of these accounts (names: theirs, in order) at the horizon set; ignored unless
        they are the table's accounts (a result computed for a book since edited)."""
        if list(names) != [a.account.name for a in self._risk.accounts] or len(odds) != len(names):
            return
        self.odds = list(odds)
        self.replace_cells(_cells(self._risk, self._moves, self.notes, self.odds), frozenset(range(len(odds))))

    def set_horizon(self, hours: float, model: str) -> None:
        """A new horizon or model: its title, and '—' until its first figures."""
        self.odds_hours, self.odds_model, self.odds = hours, model, None
        self._headers[ODDS_COLUMN] = odds_title(hours, model)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, ODDS_COLUMN, ODDS_COLUMN)
        self.replace_cells(_cells(self._risk, self._moves, self.notes))

    def set_threshold(self, threshold: float) -> None:
        """Draw the figures at or above `threshold` (a fraction) red."""
        self.threshold = threshold
        self.signal_rows(range(len(self._risk.accounts)))

    def row_look(self, row: int) -> RowLook:
        level = self.levels[row]
        p = self.odds[row].probability if self.odds is not None and row < len(self.odds) else None
        hot = ((ODDS_COLUMN, -1),) if p is not None and p >= self.threshold else ()  # the theme's loss colour
        return RowLook(
            self.row_text(row), LEVEL_BACKGROUND.get(level), LEVEL_FOREGROUND.get(level), level=level,
            signs=hot,
        )  # fmt: skip

    def extra_data(self, row: int, column: int, role: int) -> Any:
        a = self._risk.accounts[row]
        if role == Qt.ItemDataRole.UserRole and column == RATIO_COLUMN:
            if a.liquidated:  # the gauge is full however the ratio reads (or when the balance is gone)
                return max(1.0, a.margin_ratio or 1.0)
            return float("nan") if a.margin_ratio is None else float(a.margin_ratio)
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == ODDS_COLUMN:  # a previewed account's figure is the preview's too
                note = self.notes[row] if row < len(self.notes) else ""
                return f"{note}: " * bool(note) + self._odds_tooltip(row)
            if row < len(self.notes) and self.notes[row]:
                return f"{self.notes[row]}: a preview's figures and level, not the real book's"
            own = self.threshold_note(a.account.name) if self.threshold_note else ""
            if a.missing:
                return "\n".join(filter(None, (a.missing, own)))
            if column == RATIO_COLUMN:
                return "\n".join(filter(None, (RATIO_TOOLTIP, own)))
            return own or None
        return None

    def _odds_tooltip(self, row: int) -> str:
        if self.odds is None:
            return "the probability of liquidation is being computed"
        o = self.odds[row]
        if o.probability is None:
            return o.reason
        return ODDS_TOOLTIP.format(h=f"{self.odds_hours:g}", model=o.model)
