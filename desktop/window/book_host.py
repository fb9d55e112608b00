"""The window's side of the book's commands (desktop.window.book_actions.BookHost): the current book and its
real marks, applying a new book (saved first, then shown), the user's selection, and marks typed into cells.

A new book is saved before it is shown: when saving fails nothing on screen changes and the user is told
why (the saved book is never left half-written: engine.storage.database, one transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop.tables.position_columns import quoted
from desktop.window.chart_views import ChartViews
from desktop.window.lazy_dock import LazyDock
from desktop.window.positions_view import PositionsView
from desktop.window.price_sources import PriceSources
from desktop.window.view_modes import ViewModes
from engine.book.portfolio import Portfolio
from engine.margin.model import PriceKey
from engine.margin.risk import BookRisk, PositionRisk
from engine.market.prices import PriceStore
from engine.monitor.frame import Frame
from engine.monitor.levels import Thresholds
from engine.monitor.session import WatchSession

if TYPE_CHECKING:  # the saved book's module is imported when a book is saved
    from engine.storage.database import BookDatabase


class WindowBook(QObject):
    """The BookHost the window's commands read and apply books through.

    saved_book(): the open saved book (None: nothing is saved); redraw(): a new frame of every key,
    drawn now; say(text): a passing status-bar message. last_import_error: why the last import failed.
    """

    def __init__(
        self,
        parent: QWidget,
        session: WatchSession,
        store: PriceStore,
        sources: PriceSources,
        modes: ViewModes,
        views: tuple[PositionsView, ChartViews, LazyDock],
        saved_book: Callable[[], BookDatabase | None],
        redraw: Callable[[], None],
        say: Callable[[str], None],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self.session, self.store, self.sources, self.modes = session, store, sources, modes
        self.positions, self.charts, self.prices_dock = views
        self._saved_book, self._redraw, self.say = saved_book, redraw, say
        self.last_import_error = ""

    @property
    def portfolio(self) -> Portfolio:
        return self.session.portfolio

    @property
    def offline(self) -> bool:
        return self.sources.offline

    @property
    def thresholds(self) -> Thresholds:
        return self.session.thresholds

    def _frame(self) -> Frame:
        assert self.session.frame is not None, "the window steps the session once before any command"
        return self.session.frame

    def real_marks(self) -> dict[PriceKey, float]:
        """The marks in use, before any shock preview."""
        return dict(self._frame().real_marks)

    def real_risk(self) -> BookRisk:
        """The book shown (hypothetical positions included while they are) at the real, unshocked marks."""
        frame = self._frame()
        if self.session.shock is None:
            return frame.shown
        return self.session.evaluator.evaluate(frame.real_marks)[0]

    def set_include_hypothetical(self, include: bool) -> None:
        self.modes.set_include_hypothetical(include)

    def apply_portfolio(self, portfolio: Portfolio, what: str) -> bool:
        """Save the new book (when there is a saved book) and show it; False, and nothing changed, on failure."""
        database = self._saved_book()
        if database is not None:
            from engine.storage.database import StorageError

            try:
                database.import_portfolio(portfolio, replace=True)
            except StorageError as e:
                QMessageBox.warning(
                    self._parent, "Margin Watch", f"Nothing was saved, and the book is unchanged:\n\n{e}"
                )
                return False
            self.say(f"{what}: saved")
        else:
            self.say(f"{what} (this window's book is not the saved one: File ▸ Export to keep it)")
        keys_before = set(self.session.book.price_keys())
        self.modes.use_portfolio(portfolio)
        keys = self.session.book.price_keys()
        self.positions.set_accounts([a.name for a in self.session.book.accounts])
        if self.prices_dock.built:
            self.prices_dock.content().set_keys(keys)
        if set(keys) - keys_before and not self.offline:
            self.sources.restart(keys)
        for key, mark in portfolio.price_map().items():  # a new symbol's typed price, until a feed has one
            if self.store.quote(key) is None:
                self.store.set_manual(key, mark)
        self._redraw()
        return True

    def redraw(self) -> None:
        """A new frame of every key, drawn now (a typed funding rate: desktop.window.typed_funding)."""
        self._redraw()

    def type_mark(self, r: PositionRisk, text: str) -> str | None:
        """A mark typed into the positions table: a manual price for that symbol, or the reason it is refused."""
        from desktop.window.prices_panel import PriceRefused, parse_price

        try:
            mark = parse_price(text, r.position.symbol)
        except PriceRefused as e:
            self.say(str(e))
            return str(e)
        key = (self.session.exchange_of[r.position.account], r.position.symbol)
        if problem := self.sources.type_price(key, mark):
            self.say(f"The manual price is used but was not saved: {problem}")
        else:
            typed = quoted(mark, r.position.symbol)
            self.say(f"{r.position.symbol}: manual price {typed} (Prices dock ▸ Back to live)")
        self._redraw()
        return None

    @Slot(list)
    def save_manual_prices(self, keys: Iterable[PriceKey]) -> None:
        """Save (or clear, after Back to live) the store's manual prices of these keys with the book."""
        if problem := self.sources.save_manual(keys):
            self.say(f"The manual price is used but was not saved: {problem}")

    def selected_positions(self) -> list[int]:
        """Indexes into the full book (hypotheticals included) of the selected positions, current first."""
        rows = self.positions.selected_rows()
        current = self.positions.current_row()
        if not rows and current is not None:
            rows = [current]
        shown = self._frame().shown.positions
        positions = [shown[r].position for r in rows if 0 <= r < len(shown)]
        index_of = {id(p): i for i, p in enumerate(self.portfolio.book.positions)}
        return [index_of[id(q)] for q in positions]

    def selected_account(self) -> str | None:
        return self.charts.shown_account()

    def saved_book(self) -> BookDatabase | None:
        """The open saved book, None when nothing is saved (a sync's log goes there: desktop/window/sync_now.py)."""
        return self._saved_book()

    def listed_symbols(self) -> dict[str, list[str]]:
        """Symbols each feed's exchange lists (once the feed has loaded its markets)."""
        listed: dict[str, list[str]] = {}
        for feed in self.sources.feeds:
            symbols = getattr(feed, "listed_symbols", None)
            if symbols:
                listed.setdefault(feed.exchange_id, []).extend(symbols)
        return listed
