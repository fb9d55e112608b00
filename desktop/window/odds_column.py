"""Keeps the "P(liq 24h)" columns of the positions and accounts tables fresh without ever delaying them.

Every few seconds the latest frame's rows (marks, liquidation prices, distances: arrays the frame already
holds), its book and marks and the book's volatility inputs go to an OddsWorker, which computes in a child
process (engine.monitor.odds_process; a thread if that cannot start) the positions' closed form and the
cross accounts' Monte Carlo; a quick tick on the GUI thread
puts a finished result into the models, which signal only the cells that changed. The volatility is the one
typed in the portfolio file's markets entry, else the one of the hourly candles cached with the saved book
(desktop.window.candle_updates fills that cache in the background while the window runs live feeds, as
`marginwatch risk --candles` does; a window without a saved book keeps them in memory), else its stored mark
history; the cache is read once per book and again when new candles arrive (use_candles; on the GUI thread:
SQLite connections belong to their thread), the estimates are the worker's. The column's tooltip says where
each row's volatility came from, and when its candles were fetched.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QMenu, QWidget

from desktop.tables.accounts_model import AccountsModel
from desktop.tables.odds_model import OddsPositionsModel, rows_token
from desktop.window.odds_setting import ODDS_SETTING, OddsChoice, OddsMenu, choice_from_setting
from engine.book.market_volatility import volatility_for
from engine.margin.live_risk import VectorPositions
from engine.margin.model import Book, PriceKey
from engine.monitor.odds_worker import OddsJob, OddsWorker, VolatilityInputs
from engine.monitor.session import WatchSession

if TYPE_CHECKING:  # storage and the candle cache are imported when a saved book is open (start-up without one)
    from engine.market.volatility import Series
    from engine.storage.database import BookDatabase

EVERY_MS = 5_000
"""A fresh figure every 5 s: the probability over a day moves slowly with the marks."""
POLL_MS = 200
MAX_DUTY = 0.25
"""A job starts at most so often that the worker is busy a quarter of the time (a big book's Monte Carlo
takes seconds; the machine has other work): the next one waits 1 / MAX_DUTY times the last one's time."""


FIRST_WITHOUT_PAINT_MS = 1_000
"""When the first job is submitted if the window has not been painted by then."""


class OddsColumn(QObject):
    """Feeds `model` (the window's OddsPositionsModel) and `accounts` (its AccountsModel, optional) from
    `session`'s frames; stops with `window`'s close. database: the saved book (or None), for its cached
    candles and mark history."""

    def __init__(
        self,
        window: QWidget,
        session: WatchSession,
        model: OddsPositionsModel,
        database: Callable[[], BookDatabase | None] = lambda: None,
        accounts: AccountsModel | None = None,
        menu: QMenu | None = None,
    ) -> None:
        super().__init__(window)
        self.session, self.model, self.database, self.accounts = session, model, database, accounts
        self.choice = self._saved_choice()
        self.menu = OddsMenu(window, menu, self.choice, database) if menu is not None else None
        if self.menu is not None:
            self.menu.changed.connect(self.set_choice)
        self._show_choice(self.choice)
        self.worker = OddsWorker(in_process=False)  # its own process: no lock shared with the GUI thread
        self._book: Book | None = None
        self._inputs = VolatilityInputs()
        self.fetched: dict[PriceKey, Series] = {}
        """Candles fetched while the window runs and not stored (no saved book): used as the cached ones."""
        self.fetched_at: dict[PriceKey, float] = {}
        """When each key's candles were fetched (Unix s), for the tooltip; read from the cache with them."""
        self.candle_problems: dict[PriceKey, str] = {}
        """Why a key's candles could not be fetched (the last try), for the tooltip."""
        self._notes: dict[PriceKey, str] = {}
        model.volatility_note = self.volatility_note
        self._submitted_at = self._next_at = 0.0
        self._submit = QTimer(self)
        self._submit.setInterval(EVERY_MS)
        self._submit.timeout.connect(self.submit)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._submit.start()  # the poll runs only while a job is out (submit starts it, poll stops it)
        # The first figures right after the window's first paint, not 5 s later; not before it: the first job
        # starts the child process and sends it the book (0.3 s on 1,000 positions that the first paint waited).
        self._painted = False
        QTimer.singleShot(FIRST_WITHOUT_PAINT_MS, self.submit)  # a window never shown (tests, a hidden start)
        window.installEventFilter(self)

    def _saved_choice(self) -> OddsChoice:
        db = self.database()
        if db is None:
            return OddsChoice()
        from engine.storage.database import StorageError

        try:
            return choice_from_setting(db.setting(ODDS_SETTING))
        except StorageError:
            return OddsChoice()

    def _show_choice(self, choice: OddsChoice, horizon: bool = True) -> None:
        """The threshold, and (horizon True) the horizon and model, into both tables."""
        for model in filter(None, (self.model, self.accounts)):
            model.set_threshold(choice.threshold)
            if horizon:
                model.set_horizon(choice.hours, choice.model)

    @Slot(object)
    def set_choice(self, choice: OddsChoice) -> None:
        """Use a new horizon, threshold or model: a new horizon or model is computed right away."""
        old, self.choice = self.choice, choice
        horizon = (old.hours, old.model) != (choice.hours, choice.model)
        self._show_choice(choice, horizon)
        if horizon:
            self._next_at = 0.0
            QTimer.singleShot(0, self.submit)

    def volatility_inputs(self) -> VolatilityInputs:
        """The shown book's typed volatilities and its cached candles and mark history (read once per book)."""
        book = self.session.book
        if book is not self._book:
            self._book = book
            keys = book.price_keys()
            typed = {k: v for k in keys if (v := volatility_for(self.session.portfolio.volatilities, k)) is not None}
            candles, history = self._cached_history(keys)
            candles |= {k: s for k, s in self.fetched.items() if k in set(keys)}
            self._inputs = VolatilityInputs(typed, candles, history)
            self._notes = {k: self._source_of(k, typed, candles, history) for k in keys}
        return self._inputs

    def use_candles(self, fetched: Mapping[PriceKey, Series], fetched_at: float, stored: bool) -> None:
        """New candles (stored: already in the saved book's cache; else kept here): the volatility inputs are
        read again and a figure computed from them at once."""
        if not stored:
            self.fetched.update(fetched)
        self.fetched_at.update(dict.fromkeys(fetched, fetched_at))
        for key in fetched:
            self.candle_problems.pop(key, None)
        self._book = None  # read again at the next submit
        self._next_at = 0.0
        QTimer.singleShot(0, self.submit)

    def volatility_note(self, position: int) -> str:
        """Where the volatility of this row (book order) comes from: 'volatility: …' ('' when unknown)."""
        keys = self.session.price_key_of_row
        return self._notes.get(keys[position], "") if 0 <= position < len(keys) else ""

    def _source_of(self, key: PriceKey, typed: Mapping, candles: Mapping, history: Mapping) -> str:
        why = f" (latest fetch failed: {self.candle_problems[key]})" if key in self.candle_problems else ""
        if key in typed:
            return "volatility: typed in the portfolio file"
        if key in candles:
            at = self.fetched_at.get(key)
            when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(at)) if at is not None else "earlier"
            return f"volatility: hourly candles (ccxt fetch_ohlcv) fetched {when}{why}"
        if key in history:
            return f"volatility: the stored mark history (no candles){why}"
        return f"volatility: none known{why}"

    def _cached_history(self, keys: list) -> tuple[dict, dict]:
        db = self.database()
        if db is None:
            return {}, {}
        from desktop.risk_odds import stored_history
        from engine.storage.database import StorageError

        try:
            self.fetched_at.update(db.candles_fetched_at(keys))
            return stored_history(db, keys, {})
        except StorageError:  # a cache: without it the columns say what is missing
            return {}, {}

    @Slot()
    def submit(self) -> None:
        """Hand the latest frame's rows to the worker (nothing when it is still busy with the last ones)."""
        frame = self.session.frame
        if frame is None or self.worker.busy or time.monotonic() < self._next_at:
            return
        rows = frame.shown.positions
        if isinstance(rows, VectorPositions):
            v = rows.vectors
            mark, liquidation, distance = v.mark_price, v.liquidation_price, v.distance_to_liquidation
        else:
            mark = np.array([np.nan if r.mark_price is None else r.mark_price for r in rows], dtype=float)
            liquidation = np.array([np.nan if r.liquidation_price is None else r.liquidation_price for r in rows])
            distance = np.array(
                [np.nan if r.distance_to_liquidation is None else r.distance_to_liquidation for r in rows]
            )
        inputs, book = self.volatility_inputs(), self.session.book
        if len(book.positions) != len(mark):
            return
        token = rows_token(frame.shown)
        keys = self.session.price_key_of_row
        accepted = self.worker.submit(
            OddsJob(
                token, book, dict(frame.marks), keys, mark, liquidation, distance, inputs, self.choice.hours,
                model=self.choice.model,
            )
        )  # fmt: skip
        self._submitted_at = time.monotonic()
        if accepted and not self._poll.isActive():
            self._poll.start()

    @Slot()
    def poll(self) -> None:
        """Show the job's figures once they are in; the poll stops when no job is out (an idle window is not
        woken five times a second for nothing: tests/benchmarks/bench_idle.py)."""
        was_busy = self.worker.busy  # asked first: a job that ends meanwhile has its figures taken below
        result = self.worker.take()
        if (result is not None or not was_busy) and not self.worker.busy:
            self._poll.stop()
        if result is None:
            return
        self._next_at = self._submitted_at + result.seconds / MAX_DUTY
        if (result.hours, result.model) != (self.choice.hours, self.choice.model):
            self._next_at = 0.0  # asked for before the choice changed: ask again now
            QTimer.singleShot(0, self.submit)
            return
        self.model.set_odds(result)
        if self.accounts is not None and result.accounts:
            self.accounts.set_odds(result.accounts, result.account_names)

    def stop(self) -> None:
        """No more jobs; waits for a running one (its thread ends with it)."""
        self._submit.stop()
        self._poll.stop()
        self.worker.join()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.stop()
        elif event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.submit)  # in an event after the paint
        return False
