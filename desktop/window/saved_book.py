"""The saved book in the window: loaded once at start, and never written after it failed to load.

When the saved book cannot be opened or loaded (a damaged file that cannot be moved aside, a value the
current rules refuse, a lock held by another program, a full disk), the window shows it read-only
when a read-only copy can be loaded, else an empty book, and in both cases has no database to write:
every edit stays in the window (as for a portfolio file) and the saved book's bytes are untouched.
The title and the status bar say so, and the status bar offers, without a modal dialog:
Retry, Open another (another database file) and Move aside and start empty (the old files are kept
in a `<name>.damaged-<stamp>/` folder, as a damaged file is).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from engine.book.funding_fields import FileFunding
from engine.book.portfolio import Portfolio, PortfolioError, parse_portfolio
from engine.margin.model import Book, PriceKey
from engine.monitor.chart_history import StoredAccountHistory as StoredHistory

if TYPE_CHECKING:
    from desktop.window.main_window import MainWindow
    from engine.monitor.levels import Thresholds
    from engine.storage.database import BookDatabase


@dataclass
class SavedBook:
    """What the window needs from the saved book; `problem` is non-empty when it must not be written."""

    path: Path
    portfolio: Portfolio
    problem: str = ""
    read_only: bool = False
    """The book shown is a read-only copy of the saved one (else, on a problem, an empty book)."""
    notice: str = ""
    thresholds: Thresholds | None = None
    account_history: dict[str, StoredHistory] = field(default_factory=dict)
    mark_history: dict[PriceKey, list[tuple[float, float]]] = field(default_factory=dict)
    manual_prices: dict[PriceKey, float] = field(default_factory=dict)
    typed_funding: dict[PriceKey, FileFunding] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    database: BookDatabase | None = None
    """The saved book, open (once: each open checks the whole file) for the window to save to; None on a
    problem. Whoever shows the book owns it and closes it (the window: at close)."""

    @property
    def writable(self) -> bool:
        return not self.problem


def empty_portfolio() -> Portfolio:
    return parse_portfolio({"accounts": [], "positions": []})


def load_saved_book(path: Path) -> SavedBook:
    """Open and load the saved book at path; on any failure a read-only copy (or nothing) and the reason."""
    from engine.storage.database import BookDatabase, StorageError

    try:
        db = BookDatabase.open(path)  # once: each open checks the whole file; kept open for the window
    except StorageError as e:
        problem = str(e)
    else:
        try:
            book = _read(db, path, db.load())
            book.notice = db.notice.message
            db.thin_history()
        except (StorageError, PortfolioError) as e:  # PortfolioError: a value the current rules refuse
            db.close()
            problem = str(e)
        else:
            book.database = db
            return book
    try:
        with BookDatabase.open(path, read_only=True) as db:
            book = _read(db, path, db.load())
    except (StorageError, PortfolioError):
        return SavedBook(path, empty_portfolio(), problem)
    book.problem, book.read_only = problem, True
    return book


def _read(db: Any, path: Path, portfolio: Portfolio) -> SavedBook:
    from desktop.dialogs.thresholds_dialog import thresholds_from_setting
    from desktop.window.thresholds_setting import THRESHOLDS_SETTING
    from engine.storage.database import StorageError

    book = SavedBook(path, portfolio)
    book.thresholds = thresholds_from_setting(db.setting(THRESHOLDS_SETTING))
    try:  # records, not the book: a damaged one is skipped
        book.account_history = stored_account_history(db, portfolio.book)
        book.mark_history = stored_mark_history(db, portfolio.book)
        book.alerts = db.alerts(500)
    except StorageError:
        pass
    keys = set(portfolio.book.price_keys())
    book.manual_prices = {key: mark for key, mark in db.manual_prices().items() if key in keys}
    book.typed_funding = db.typed_funding()
    return book


def title_for(book: SavedBook, mode: str) -> str:
    if book.writable:
        return f"saved book · {mode}"
    shown = "read-only copy" if book.read_only else "nothing loaded"
    return f"saved book NOT OPENED ({shown}; nothing is saved) · {mode}"


def problem_note(book: SavedBook) -> str:
    shown = "a read-only copy is shown" if book.read_only else "an empty book is shown"
    return f"The saved book could not be opened ({book.problem}); {shown} and nothing will be written to it"


class SavedBookBar(QWidget):
    """Status-bar buttons of a window whose saved book failed to load: Retry, Open another, Move aside."""

    def __init__(self, window: MainWindow, book: SavedBook, mode: str) -> None:
        super().__init__(window)
        self.window_ = window
        self.path = book.path
        self.mode = mode
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("Saved book not opened:")
        self.label.setToolTip(problem_note(book))
        self.retry_button = QPushButton("Retry")
        self.open_button = QPushButton("Open another…")
        self.move_button = QPushButton("Move aside and start empty")
        self.move_button.setToolTip(f"{book.path} and its journal go to a new .damaged-<time> folder, nothing deleted")
        for widget in (self.label, self.retry_button, self.open_button, self.move_button):
            layout.addWidget(widget)
        self.retry_button.clicked.connect(self.retry)
        self.open_button.clicked.connect(self.open_another)
        self.move_button.clicked.connect(self.move_aside)

    def retry(self) -> bool:
        return self._attach(load_saved_book(self.path))

    def open_another(self) -> bool:
        name, _ = QFileDialog.getOpenFileName(
            self.window_, "Open a saved book", str(self.path.parent), "Margin Watch book (*.sqlite3);;All files (*)"
        )
        return bool(name) and self._attach(load_saved_book(Path(name)))

    def move_aside(self) -> bool:
        from engine.storage.quarantine import move_aside

        try:
            aside = move_aside(self.path) if self.path.exists() else None
        except OSError as e:
            self.window_.say(f"The saved book could not be moved aside ({e.strerror or e}); it is unchanged")
            return False
        attached = self._attach(load_saved_book(self.path))
        if attached and aside is not None:
            self.window_.say(f"The old book was moved to {aside.parent} (nothing deleted); a new, empty book started")
        return attached

    def _attach(self, book: SavedBook) -> bool:
        if not book.writable:
            self.window_.set_storage_note(problem_note(book))
            self.window_.say(f"Still not opened: {book.problem}")
            return False
        attach(self.window_, book, self.mode)
        self.hide()
        self.deleteLater()
        return True


def attach(window: MainWindow, book: SavedBook, mode: str) -> None:
    """Show a saved book that loaded (writable) in a window that had none, and save to it from now on."""
    from engine.storage.writer import BackgroundWriter

    assert book.database is not None  # a writable book is an open one
    window.database = None  # nothing of what follows is a change to save
    window.book_host.apply_portfolio(book.portfolio, "Saved book opened")
    window.session.set_price_alerts(book.portfolio.price_alerts)
    if book.thresholds is not None:
        window.thresholds_setting.apply(book.thresholds)
    restore(window, book)
    window.database = book.database
    window.history = BackgroundWriter(book.database)
    window.set_storage_note("")
    window.source = title_for(book, mode)
    window.setWindowTitle(f"Margin Watch — {window.source}")
    window.say(f"Saved book opened: {book.path}" + (f". {book.notice}" if book.notice else ""))


def restore(window: MainWindow, book: SavedBook) -> None:
    """The manual prices, mark history and alerts stored with the book, back in the window."""
    for key, mark in book.manual_prices.items():
        window.store.set_manual(key, mark)
    if book.manual_prices:  # prices typed before: the status bar must not call them the book's own
        window.sources.prices_typed = True
    window.actions_.funding_rate.restore(book.typed_funding)
    window.seed_mark_history(book.mark_history)
    window.show_stored_alerts(book.alerts)
    window.refresh()


def offer_recovery(window: MainWindow, book: SavedBook, mode: str) -> SavedBookBar | None:
    """Say in the status bar why the saved book is not open, with the buttons to recover; None when it is open."""
    if book.writable:
        return None
    bar = SavedBookBar(window, book, mode)
    window.statusBar().addPermanentWidget(bar)
    window.saved_book_bar = bar
    window.set_storage_note(problem_note(book))
    return bar


def stored_account_history(db: BookDatabase, book: Book, days: float = 1.0) -> dict[str, StoredHistory]:
    """The last `days` of each account's equity and margin ratio in the book's database (read where the
    database is open anyway, at start-up, rather than opening it again)."""
    since = time.time() - days * 86_400
    return {
        a.name: (db.history(f"equity:{a.name}", since), dict(db.history(f"margin_ratio:{a.name}", since)))
        for a in book.accounts
    }


def stored_mark_history(db: BookDatabase, book: Book, days: float = 1.0) -> dict[PriceKey, list[tuple[float, float]]]:
    """The last `days` of each of the book's marks stored with it (time, mark), for the position chart."""
    since = time.time() - days * 86_400
    stored = {key: db.history(f"mark:{key[0]}:{key[1]}", since) for key in book.price_keys()}
    return {key: samples for key, samples in stored.items() if samples}
