"""The user's commands on the book: forms, what-if trades, margin moves, deletes, import and export.

Each command opens a dialog on the window's current book and marks; the dialog answers with a new
book (the engine's what-if algebra) or nothing. Only then is the book saved (one transaction, all or
nothing) and shown. A command that fails to save changes nothing on screen and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from engine.book.portfolio import Portfolio, PortfolioError, dumps_portfolio, load_portfolio
from engine.book.private_file import write_private_atomically
from engine.margin.model import Account, Book, MarginMode, Position, PriceKey, Side
from engine.margin.risk import BookRisk
from engine.monitor.levels import Thresholds

# The dialogs and the CSV module are imported by the commands that use them, not at start-up: the
# menus are built with the window, the forms only when the user opens one (~50 ms of imports saved).


class BookHost(Protocol):
    """What the book's commands need of whoever shows the book (the window): the current book, its real
    marks and risk, a way to apply a new book, and the user's selection. Nothing else of the window."""

    @property
    def portfolio(self) -> Portfolio: ...

    offline: bool
    last_import_error: str

    def real_marks(self) -> dict[PriceKey, float]: ...
    def real_risk(self) -> BookRisk: ...
    def apply_portfolio(self, portfolio: Portfolio, what: str) -> bool:
        """Save and show the new book; False (and nothing changed) when it could not be saved."""
        ...

    def set_include_hypothetical(self, include: bool) -> None: ...
    def say(self, text: str) -> None: ...
    def selected_positions(self) -> list[int]:
        """Indexes into portfolio.book.positions of the selected positions, the current one first."""
        ...

    def selected_account(self) -> str | None: ...
    def listed_symbols(self) -> dict[str, list[str]]:
        """Symbols each running feed's exchange lists, by exchange id (once loaded)."""
        ...

    @property
    def thresholds(self) -> Thresholds:
        """The levels' thresholds the tables use (a form's preview names its level by them)."""
        ...


class BookActions(QObject):
    """The book-editing actions, for the window's menus and context menus. host: the BookHost the commands
    read and apply books through; parent: the widget the dialogs open over (the window)."""

    def __init__(self, host: BookHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = host
        self.window = parent
        self.new_position = self._action("&New position…", "Ctrl+N", self.add_position)
        self.edit_position = self._action("&Edit position…", "Ctrl+E", self.change_position)
        self.new_account = self._action("New &account…", "Ctrl+Shift+N", self.add_account)
        self.edit_account = self._action("Edit a&ccount…", "Ctrl+Shift+E", self.change_account)
        self.whatif = self._action("&What-if trade…", "Ctrl+I", self.whatif_trade)  # Ctrl+W closes
        self.margin = self._action("Adjust isolated &margin…", "Ctrl+M", self.adjust_margin)
        self.delete = self._action("&Delete position", QKeySequence.StandardKey.Delete, self.delete_positions)
        self.import_book = self._action("&Import portfolio…", "Ctrl+O", self.import_portfolio)
        self.export_book = self._action("&Export portfolio…", "Ctrl+S", self.export_portfolio)
        self.import_csv = self._action("Import positions from &CSV…", None, self.import_csv_file)
        self.export_csv = self._action("Export positions to C&SV…", None, self.export_csv_file)
        self.hypothetical = self._action("Include &hypothetical positions", "Ctrl+H", self.toggle_hypothetical)
        self.hypothetical.setCheckable(True)
        self.hypothetical.setChecked(True)
        self.delete.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        from desktop.window.sync_now import SyncNow

        self.sync = SyncNow(host, parent)
        """Sync account now (engine.sync): its `action`, and `settings` for the exchanges' ccxt clients."""
        from desktop.window.own_thresholds import OwnThresholds

        self.own_thresholds = OwnThresholds(host, parent)
        """A position's or an account's own thresholds (its position_action and account_action)."""
        from desktop.window.typed_funding import TypedFunding

        self.funding_rate = TypedFunding(host, parent)
        """Funding rate… (a rate typed for the selected position's symbol): its `action`."""

    def _action(self, text: str, shortcut, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda *_: slot())
        return action

    # -- helpers ----------------------------------------------------------------------------------

    def _book(self) -> Book:
        return self.host.portfolio.book

    def _selected_indexes(self) -> list[int]:
        return self.host.selected_positions()

    def _selected_account(self) -> str | None:
        return self.host.selected_account()

    def _thresholds_of(self, p: Position | None) -> Thresholds:
        """The thresholds in force for a position (its own, its account's, else the global ones)."""
        if p is None:
            return self.host.thresholds
        overrides = self.host.portfolio.threshold_overrides.with_base(self.host.thresholds)
        return overrides.for_position(p.account, p.symbol, p.side.value)

    def _commit(self, book: Book, what: str) -> bool:
        portfolio = replace(self.host.portfolio, book=book)
        return self.host.apply_portfolio(portfolio, what)

    # -- commands ---------------------------------------------------------------------------------

    def add_position(self) -> None:
        if not self._book().accounts:
            self.host.say("Add an account first (Edit ▸ New account…).")
            return
        account = self._selected_account()
        template = None
        if account is not None:
            template = Position(account, "", Side.LONG, 1.0, 1.0, MarginMode.CROSS, 10.0)
        self._position_form(template, None)

    def change_position(self) -> None:
        indexes = self._selected_indexes()
        if not indexes:
            self.host.say("Select a position to edit.")
            return
        self._position_form(self._book().positions[indexes[0]], indexes[0])

    def _position_form(self, position: Position | None, index: int | None) -> None:
        from desktop.dialogs.position_form import PositionForm

        dialog = PositionForm(
            self._book(),
            self.host.real_marks(),
            position=position,
            index=index,
            known_symbols=self.host.listed_symbols(),
            online=not self.host.offline,
            market_overrides=self.host.portfolio.market_overrides,
            thresholds=self._thresholds_of(position),
            parent=self.window,
        )
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_book is not None:
            p = dialog.result_position
            what = "position changed" if index is not None else "position added"
            self._commit(dialog.result_book, f"{what}: {_describe(p)}" if p is not None else what)

    def add_account(self) -> None:
        self._account_form(None, None)

    def change_account(self) -> None:
        name = self._selected_account()
        if name is None:
            self.add_account()
            return
        book = self._book()
        index = next(i for i, a in enumerate(book.accounts) if a.name == name)
        self._account_form(book.accounts[index], index)

    def _account_form(self, account: Account | None, index: int | None) -> None:
        from desktop.dialogs.account_form import AccountForm

        dialog = AccountForm(
            self._book(),
            account=account,
            index=index,
            market_overrides=self.host.portfolio.market_overrides,
            parent=self.window,
        )
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_book is not None:
            name = dialog.result_account.name if dialog.result_account is not None else "account"
            self._commit(dialog.result_book, f"account {name} {'changed' if index is not None else 'added'}")

    def whatif_trade(self) -> None:
        indexes = self._selected_indexes()
        if indexes:
            self._trade("what-if trade", index=indexes[0])
            return
        account = self._selected_account()
        if account is None:
            self.host.say("Add an account first: there is nothing to trade on.")
            return
        self._trade("what-if trade", account=account)

    def open_trade_on_account(self, account: str) -> None:
        self._trade("new position", account=account)

    def _trade(self, what: str, index: int | None = None, account: str | None = None) -> None:
        """The what-if dialog on a position (index) or an account; what it did, if accepted, is committed."""
        from desktop.dialogs.whatif_dialog import WhatIfDialog

        dialog = WhatIfDialog(
            self._book(),
            self.host.real_marks(),
            index=index,
            account=account,
            parent=self.window,
            market_overrides=self.host.portfolio.market_overrides,  # a symbol not held resolves as the file would
        )
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_book is not None:
            self._commit(dialog.result_book, dialog.result_description or what)

    def adjust_margin(self) -> None:
        indexes = self._selected_indexes()
        if not indexes:
            self.host.say("Select an isolated position to add or remove margin.")
            return
        position = self._book().positions[indexes[0]]
        if position.margin_mode is not MarginMode.ISOLATED:
            self.host.say(f"{position.symbol} is a cross position: its margin is the account's whole wallet.")
            return
        from desktop.dialogs.margin_dialog import MarginDialog

        dialog = MarginDialog(self._book(), self.host.real_marks(), indexes[0], parent=self.window)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_book is not None:
            self._commit(dialog.result_book, f"isolated margin of {position.symbol} changed")

    def delete_positions(self) -> None:
        indexes = self._selected_indexes()
        if not indexes:
            return
        book = self._book()
        doomed = [book.positions[i] for i in indexes]
        names = "\n".join(_describe(p) for p in doomed[:10]) + ("\n…" if len(doomed) > 10 else "")
        answer = QMessageBox.question(
            self.window,
            "Delete positions",
            f"Delete {len(doomed)} position{'s' if len(doomed) > 1 else ''} from the book?\n\n{names}",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        doomed_indexes = set(indexes)
        keep = tuple(p for i, p in enumerate(book.positions) if i not in doomed_indexes)
        self._commit(Book(book.accounts, keep, book.markets), f"{len(doomed)} position(s) deleted")

    def toggle_hypothetical(self) -> None:
        self.host.set_include_hypothetical(self.hypothetical.isChecked())

    # -- files ------------------------------------------------------------------------------------

    def import_portfolio(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Import portfolio", "", "Portfolio (*.json)")
            if not path:
                return
        try:
            incoming = load_portfolio(path)
        except (PortfolioError, OSError) as e:
            QMessageBox.warning(self.window, "Import portfolio", f"Nothing was imported:\n\n{problems_text(e)}")
            return
        from engine.market.feeds.mark_source import price_method_problem  # the feeds' module: not at start-up

        exchanges = sorted({a.exchange for a in incoming.book.accounts})
        unpriced = "".join(f"\n\n{problem}" for e in exchanges if (problem := price_method_problem(e)))
        answer = QMessageBox.question(
            self.window,
            "Import portfolio",
            f"Replace the whole book with {Path(path).name} "
            f"({len(incoming.book.accounts)} accounts, {len(incoming.book.positions)} positions)?{unpriced}",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.host.apply_portfolio(incoming, f"imported {Path(path).name}")

    def export_portfolio(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export portfolio", "portfolio.json", "Portfolio (*.json)"
            )
            if not path:
                return
        try:
            write_private_atomically(path, dumps_portfolio(self.host.portfolio))  # one step, 0600, as the CLI
        except OSError as e:
            QMessageBox.warning(self.window, "Export portfolio", f"The file was not written:\n\n{e}")
            return
        self.host.say(f"Exported the book to {path}")

    def import_csv_file(self, path: str | None = None) -> None:
        from engine.book.positions_csv import import_positions_csv, read_positions_csv

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Import positions", "", "CSV (*.csv)")
            if not path:
                return
        try:
            portfolio = import_positions_csv(read_positions_csv(path), self.host.portfolio)
        except (PortfolioError, OSError) as e:  # CsvImportError is a PortfolioError: every bad row, by line
            self.host.last_import_error = str(e)
            QMessageBox.warning(self.window, "Import positions", f"Nothing was imported:\n\n{e}")
            return
        added = len(portfolio.book.positions) - len(self.host.portfolio.book.positions)
        self.host.apply_portfolio(portfolio, f"imported {added} positions from {Path(path).name}")

    def export_csv_file(self, path: str | None = None) -> None:
        from engine.book.positions_csv import export_positions_csv

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export positions", "positions.csv", "CSV (*.csv)")
            if not path:
                return
        try:
            export_positions_csv(self._book(), path, self.host.real_risk())
        except OSError as e:
            QMessageBox.warning(self.window, "Export positions", f"The file was not written:\n\n{e}")
            return
        self.host.say(f"Exported {len(self._book().positions)} positions to {path}")


def problems_text(error: Exception, limit: int = 20) -> str:
    """Every problem of a refused file, one per line (a PortfolioError lists them all), at most `limit`."""
    lines = error.lines() if isinstance(error, PortfolioError) else [str(error)]
    more = len(lines) - limit
    return "\n".join(lines[:limit] + ([f"… and {more} more"] if more > 0 else []))


def _describe(p: Position) -> str:
    flag = " (hypothetical)" if p.hypothetical else ""
    return f"{p.account}: {p.side.value} {p.contracts:g} {p.symbol}{flag}"
