"""Keeps the positions table's "P(liq 24h)" column fresh without ever delaying the table.

Every few seconds the latest frame's rows (marks, liquidation prices, distances: arrays the frame already
holds) and each row's volatility go to an OddsWorker, which computes on a thread of its own; a quick tick
on the GUI thread puts a finished result into the model, which signals only the cells that changed. The
volatility is the one typed in the portfolio file's markets entry, else the one of the hourly candles
cached with the saved book (`marginwatch risk --candles` fills that cache), read once per book.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QEvent, QObject, QTimer, Slot
from PySide6.QtWidgets import QWidget

from desktop.tables.odds_model import OddsPositionsModel, rows_token
from engine.book.market_volatility import volatility_for
from engine.margin.live_risk import VectorPositions
from engine.margin.model import Book, PriceKey
from engine.market.candles import CANDLE_DAYS
from engine.market.volatility import realized_volatility
from engine.monitor.odds_worker import OddsJob, OddsWorker
from engine.monitor.session import WatchSession
from engine.storage.database import BookDatabase, StorageError

HORIZON_HOURS = 24.0
EVERY_MS = 5_000
"""A fresh figure every 5 s: the probability over a day moves slowly with the marks."""
POLL_MS = 200


class OddsColumn(QObject):
    """Feeds `model` (the window's OddsPositionsModel) from `session`'s frames; stops with `window`'s close.

    database: the saved book (or None), for its cached candles."""

    def __init__(
        self,
        window: QWidget,
        session: WatchSession,
        model: OddsPositionsModel,
        database: Callable[[], BookDatabase | None] = lambda: None,
    ) -> None:
        super().__init__(window)
        self.session, self.model, self.database = session, model, database
        self.worker = OddsWorker()
        self._book: Book | None = None
        self._volatility = np.empty(0)
        self._submitted_volatility = np.empty(0)
        self._submit = QTimer(self)
        self._submit.setInterval(EVERY_MS)
        self._submit.timeout.connect(self.submit)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._submit.start()
        self._poll.start()
        QTimer.singleShot(0, self.submit)  # the first figures right after start-up, not 5 s later
        window.installEventFilter(self)

    def row_volatility(self) -> np.ndarray:
        """Each shown row's annualised volatility (NaN: unknown), remade when the shown book changes."""
        book = self.session.book
        if book is not self._book:
            self._book = book
            typed = self.session.portfolio.volatilities
            cached = self._cached_candles(book.price_keys())
            by_key = {key: volatility_for(typed, key) or cached.get(key) for key in book.price_keys()}
            rows = [by_key.get(key) for key in self.session.price_key_of_row]
            self._volatility = np.array([np.nan if v is None else v for v in rows], dtype=float)
        return self._volatility

    def _cached_candles(self, keys: list[PriceKey]) -> dict[PriceKey, float]:
        db = self.database()
        if db is None:
            return {}
        since = int(self.session.clock() // 3600) - CANDLE_DAYS * 24
        found = {}
        for key in keys:
            try:
                sigma = realized_volatility(db.candles(key, since))
            except StorageError:  # a cache: without it the column says what is missing
                sigma = None
            if sigma is not None:
                found[key] = sigma
        return found

    @Slot()
    def submit(self) -> None:
        """Hand the latest frame's rows to the worker (nothing when it is still busy with the last ones)."""
        frame = self.session.frame
        if frame is None or self.worker.busy:
            return
        rows = frame.shown.positions
        if isinstance(rows, VectorPositions):
            v = rows.vectors
            mark, liquidation, distance = v.mark_price, v.liquidation_price, v.distance_to_liquidation
        else:
            mark = np.array([r.mark_price for r in rows], dtype=float)
            liquidation = np.array([np.nan if r.liquidation_price is None else r.liquidation_price for r in rows])
            distance = np.array(
                [np.nan if r.distance_to_liquidation is None else r.distance_to_liquidation for r in rows]
            )
        volatility = self.row_volatility()
        if len(volatility) != len(mark):
            return
        self._submitted_volatility = volatility
        token = rows_token(frame.shown)
        self.worker.submit(OddsJob(token, mark, liquidation, distance, volatility, HORIZON_HOURS))

    @Slot()
    def poll(self) -> None:
        result = self.worker.take()
        if result is not None:
            self.model.set_odds(result, self._submitted_volatility)

    def stop(self) -> None:
        """No more jobs; waits for a running one (its thread ends with it)."""
        self._submit.stop()
        self._poll.stop()
        self.worker.join()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Close:
            self.stop()
        return False
