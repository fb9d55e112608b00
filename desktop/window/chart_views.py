"""The selection's charts (position chart, account history, risk ladder) and the accounts' moves to
liquidation, drawn from the watch session's frames.

Work that is not the tables' own runs between frames, half a refresh interval after a refresh, never in
the refresh's own frame (the two together made the longest pauses of the GUI thread): the position
chart once per refresh, the move search every LADDER_EVERY_S seconds, the ladder at most as often and
never in the refresh that searched. Charts hidden behind another tab are not drawn; they catch up
when shown.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QTableView

from desktop.tables.accounts_model import AccountsModel
from desktop.tables.odds_model import OddsPositionsModel
from desktop.window.funding_notes import FundingNotes
from desktop.window.lazy_dock import LazyDock
from desktop.window.positions_view import PositionsView
from engine.monitor.frame import Frame
from engine.monitor.session import WatchSession

if TYPE_CHECKING:
    from engine.margin.model import PriceKey
    from engine.margin.risk import BookRisk

LADDER_EVERY_S = 2.0
"""The accounts' moves are searched, and the ladder redrawn, at most this often (seconds)."""

Moves = dict[str, float | None]


def _single_shot(parent: QObject, slot: Callable[[], None]) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.timeout.connect(slot)
    return timer


def account_volatility(risk: BookRisk, account: str, volatility: np.ndarray | None) -> float:
    """The notional-weighted mean of the annualised volatilities of an account's positions (book order, NaN:
    unknown; the latest probability figures'); NaN when one of them is unknown or none is known yet."""
    if volatility is None:
        return math.nan
    rows = [(abs(r.notional), volatility[i]) for i, r in enumerate(risk.positions) if r.position.account == account]
    weight = sum(n for n, _ in rows)
    return sum(n * v for n, v in rows) / weight if rows and weight > 0 else math.nan


class ChartViews(QObject):
    """Draws the charts of the selected position and account; keeps the accounts' moves searched.

    interval_ms: the refresh interval now (work is started half of it after a refresh)."""

    def __init__(
        self,
        session: WatchSession,
        positions: PositionsView,
        model: OddsPositionsModel,
        accounts: QTableView,
        accounts_model: AccountsModel,
        docks: tuple[LazyDock, LazyDock, LazyDock],
        interval_ms: Callable[[], int],
        frame: Frame,
    ) -> None:
        super().__init__(accounts)
        self.session, self.positions, self.model = session, positions, model
        self.accounts, self.accounts_model = accounts, accounts_model
        self.chart_dock, self.account_chart_dock, self.ladder_dock = docks
        self.interval_ms = interval_ms
        self.frame = frame
        self.moves_cache: tuple[tuple[str, ...], float, Moves] | None = None
        self.notes = FundingNotes(session)
        self._moves_fresh = False
        self._account_drawn: tuple[int, float] = (-1, 0.0)
        self._ladder_drawn = 0.0
        self._moves_timer = _single_shot(self, self._update_moves)
        self._chart_timer = _single_shot(self, self.draw_chart)
        self.chart_dock.shown.connect(self.draw_chart)
        for dock in (self.ladder_dock, self.account_chart_dock):
            dock.shown.connect(lambda: self.draw_account_views(force=True))
        positions.table.selectionModel().currentRowChanged.connect(lambda *_: self.draw_chart())
        positions.filter_changed.connect(self.draw_chart)
        accounts.selectionModel().currentRowChanged.connect(lambda *_: self.draw_account_views(force=True))

    def _between_frames_ms(self) -> int:
        """Half a refresh interval: work started this long after a refresh runs once its frame is painted."""
        return self.interval_ms() // 2

    # -- the accounts' moves ------------------------------------------------------------------------------

    def forget_moves(self) -> None:
        """The book or a preview changed: moves found before are not the new marks' moves."""
        self.moves_cache = None

    def moves(self, frame: Frame) -> Moves | None:
        """Per shown account, the uniform move of its cross marks that liquidates it (None before the first
        search: 'searching…'). Searched at once only when the shown accounts change; else at most every
        LADDER_EVERY_S seconds, between two frames."""
        self.frame = frame
        self._moves_fresh = False
        names = tuple(a.account.name for a in frame.shown.accounts)
        cached = self.moves_cache
        if cached is None or cached[0] != names:
            self._moves_fresh = True
            return self._search(frame.marks)
        if time.monotonic() - cached[1] >= LADDER_EVERY_S and not self._moves_timer.isActive():
            self._moves_timer.start(self._between_frames_ms())
        return cached[2]

    def search_first(self) -> bool:
        """The first search, once the window has appeared (about 20 ms on 1,000 positions, which would
        otherwise delay the first picture); False when a refresh has searched meanwhile."""
        if self.moves_cache is not None:
            return False
        self._show_moves(self._search(self.frame.marks))
        return True

    @Slot()
    def _update_moves(self) -> None:
        if self.moves_cache is None:  # the book changed meanwhile: the next refresh searches
            return
        self._show_moves(self._search(self.frame.marks))

    def _search(self, marks: Mapping[PriceKey, float]) -> Moves:
        moves = self.session.moves(marks)
        self.moves_cache = (tuple(a.account.name for a in self.frame.shown.accounts), time.monotonic(), moves)
        return moves

    def _show_moves(self, moves: Moves) -> None:
        m = self.accounts_model
        m.set_risk(self.frame.shown, moves, m.levels, m.notes)

    # -- charts ----------------------------------------------------------------------------------------------

    def draw_chart_soon(self) -> None:
        """Redraw the position chart between frames."""
        if not self._chart_timer.isActive():
            self._chart_timer.start(self._between_frames_ms())

    @Slot()
    def draw_chart(self) -> None:
        """The selected position (else the one closest to liquidation, the table's first row)."""
        position = self.positions.current_row()  # the position's index in the book
        rows = self.model._rows
        if position is None or not 0 <= position < len(rows) or not self.chart_dock.on_screen:
            return
        r = rows[position]
        key = (self.session.exchange_of[r.position.account], r.position.symbol)
        history = self.session.history.marks.get(key)
        if history is not None:
            what_if = self.model.states[position].what_if
            from desktop.charts.position_chart import LikelyBand  # loaded with the chart

            band = LikelyBand.of(r.mark_price, self.model.volatility_of(position), self.model.hours)
            own = self.session.overrides.for_position(r.position.account, r.position.symbol, r.position.side.value)
            chart = self.chart_dock.content()
            chart.show_position(r, history, own, key, what_if, band)
            chart.show_price_alerts([rule for rule in self.session.price_alerts.rules if rule.key == key])
            chart.show_funding(self.notes.position(self.frame, r, key))
            self.chart_dock.setWindowTitle(f"Position: {r.position.symbol.split(':')[0]} {r.position.side.value}")

    def shown_account(self) -> str | None:
        """The selected account (else the first)."""
        shown = [a.account.name for a in self.frame.shown.accounts]
        if not shown:
            return None
        row = self.accounts.currentIndex().row()
        return shown[row] if 0 <= row < len(shown) else shown[0]

    def draw_account_views(self, force: bool = False) -> None:
        """Account history (on each new sample) and risk ladder (at most every LADDER_EVERY_S) of the selected
        account; the ladder is not drawn in the refresh that searched the moves."""
        account = self.shown_account()
        if account is None:
            return
        session, frame = self.session, self.frame
        history = session.history
        if account in history.equity and self.account_chart_dock.on_screen:
            samples = history.equity[account].count, history.account_sampled
            if force or samples != self._account_drawn:
                currency = session.book.account(account).currency
                self.account_chart_dock.content().show_account(
                    account,
                    currency,
                    history.equity[account],
                    history.ratio[account],
                    session.overrides.for_account(account),
                )
                self._account_drawn = samples
        self.account_chart_dock.setWindowTitle(f"Account history: {account}")
        preview = " (what-if)" if account in session.scope.accounts else ""  # drawn from the shown figures
        self.ladder_dock.setWindowTitle(f"Risk ladder: {account}{preview}")
        if not self.ladder_dock.on_screen or (
            not force and (time.monotonic() - self._ladder_drawn < LADDER_EVERY_S or self._moves_fresh)
        ):
            return
        self._ladder_drawn = time.monotonic()
        if frame.shown.account(account).missing:  # no ladder on a made-up price
            self.ladder_dock.setWindowTitle(f"Risk ladder: {account} (waiting for prices)")
            return
        move = self.moves_cache[2].get(account) if self.moves_cache is not None else ...  # ...: the ladder searches
        ladder = self.ladder_dock.content()
        ladder.show_account(session.book, frame.marks, account, frame.shown, session.layout, cross_move=move)
        ladder.show_spread(account_volatility(frame.shown, account, self.model.volatility), self.model.hours)
        ladder.show_funding(self.notes.account(frame, account))
