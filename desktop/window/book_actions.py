"""The user's commands on the book: forms, what-if trades, margin moves, deletes, import and export.

Each command opens a dialog on the window's current book and marks; the dialog answers with a new
book (the engine's what-if algebra) or nothing. Only then is the book saved (one transaction, all or
nothing) and shown. A command that fails to save changes nothing on screen and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from engine.book.portfolio import PortfolioError, dumps_portfolio, load_portfolio
from engine.margin.model import Account, Book, MarginMode, Position, Side

# The dialogs and the CSV module are imported by the commands that use them, not at start-up: the
# menus are built with the window, the forms only when the user opens one (~50 ms of imports saved).

if TYPE_CHECKING:
    from desktop.window.main_window import MainWindow


class BookActions(QObject):
    """The window's book-editing actions, for its menus and context menus."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.new_position = self._action("&New position…", "Ctrl+N", self.add_position)
        self.edit_position = self._action("&Edit position…", "Ctrl+E", self.change_position)
        self.new_account = self._action("New &account…", "Ctrl+Shift+N", self.add_account)
        self.edit_account = self._action("Edit a&ccount…", "Ctrl+Shift+E", self.change_account)
        self.whatif = self._action("&What-if trade…", "Ctrl+W", self.whatif_trade)
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

    def _action(self, text: str, shortcut, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(lambda *_: slot())
        return action

    # -- helpers ----------------------------------------------------------------------------------

    def _book(self) -> Book:
        return self.window.portfolio.book

    def _selected_indexes(self) -> list[int]:
        """Indexes into the full book (hypotheticals included) of the selected positions, current first."""
        rows = self.window.positions.selected_rows()
        current = self.window.positions.current_row()
        if not rows and current is not None:
            rows = [current]
        positions = [self.window.model._rows[r].position for r in rows if 0 <= r < len(self.window.model._rows)]
        book = self._book().positions
        return [next(i for i, p in enumerate(book) if p is q) for q in positions]

    def _selected_account(self) -> str | None:
        return self.window._shown_account()

    def _commit(self, book: Book, what: str) -> bool:
        portfolio = replace(self.window.portfolio, book=book)
        return self.window.apply_portfolio(portfolio, what)

    # -- commands ---------------------------------------------------------------------------------

    def _known_symbols(self) -> dict[str, list[str]]:
        """Symbols each feed's exchange lists (once the feed has loaded its markets)."""
        listed: dict[str, list[str]] = {}
        for feed in self.window.feeds:
            symbols = getattr(feed, "listed_symbols", None)
            if symbols:
                listed.setdefault(feed.exchange_id, []).extend(symbols)
        return listed

    def add_position(self) -> None:
        if not self._book().accounts:
            self.window.say("Add an account first (Edit ▸ New account…).")
            return
        account = self._selected_account()
        template = None
        if account is not None:
            template = Position(account, "", Side.LONG, 1.0, 1.0, MarginMode.CROSS, 10.0)
        self._position_form(template, None)

    def change_position(self) -> None:
        indexes = self._selected_indexes()
        if not indexes:
            self.window.say("Select a position to edit.")
            return
        self._position_form(self._book().positions[indexes[0]], indexes[0])

    def _position_form(self, position: Position | None, index: int | None) -> None:
        from desktop.dialogs.position_form import PositionForm

        dialog = PositionForm(
            self._book(),
            self.window.real_marks(),
            position=position,
            index=index,
            known_symbols=self._known_symbols(),
            online=not self.window.offline,
            market_overrides=self.window.portfolio.market_overrides,
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
            market_overrides=self.window.portfolio.market_overrides,
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
            self.window.say("Add an account first: there is nothing to trade on.")
            return
        self._trade("what-if trade", account=account)

    def open_trade_on_account(self, account: str) -> None:
        self._trade("new position", account=account)

    def _trade(self, what: str, index: int | None = None, account: str | None = None) -> None:
        """The what-if dialog on a position (index) or an account; what it did, if accepted, is committed."""
        from desktop.dialogs.whatif_dialog import WhatIfDialog

        dialog = WhatIfDialog(
            self._book(),
            self.window.real_marks(),
            index=index,
            account=account,
            parent=self.window,
            market_overrides=self.window.portfolio.market_overrides,  # a symbol not held resolves as the file would
        )
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_book is not None:
            self._commit(dialog.result_book, dialog.result_description or what)

    def adjust_margin(self) -> None:
        indexes = self._selected_indexes()
        if not indexes:
            self.window.say("Select an isolated position to add or remove margin.")
            return
        position = self._book().positions[indexes[0]]
        if position.margin_mode is not MarginMode.ISOLATED:
            self.window.say(f"{position.symbol} is a cross position: its margin is the account's whole wallet.")
            return
        from desktop.dialogs.margin_dialog import MarginDialog

        dialog = MarginDialog(self._book(), self.window.real_marks(), indexes[0], parent=self.window)
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
        self.window.set_include_hypothetical(self.hypothetical.isChecked())

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
        answer = QMessageBox.question(
            self.window,
            "Import portfolio",
            f"Replace the whole book with {Path(path).name} "
            f"({len(incoming.book.accounts)} accounts, {len(incoming.book.positions)} positions)?",
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.window.apply_portfolio(incoming, f"imported {Path(path).name}")

    def export_portfolio(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.window, "Export portfolio", "portfolio.json", "Portfolio (*.json)"
            )
            if not path:
                return
        try:
            Path(path).write_text(dumps_portfolio(self.window.portfolio), encoding="utf-8")
        except OSError as e:
            QMessageBox.warning(self.window, "Export portfolio", f"The file was not written:\n\n{e}")
            return
        self.window.say(f"Exported the book to {path}")

    def import_csv_file(self, path: str | None = None) -> None:
        from engine.book.positions_csv import import_positions_csv, read_positions_csv

        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Import positions", "", "CSV (*.csv)")
            if not path:
                return
        try:
            portfolio = import_positions_csv(read_positions_csv(path), self.window.portfolio)
        except (PortfolioError, OSError) as e:  # CsvImportError is a PortfolioError: every bad row, by line
            self.window.last_import_error = str(e)
            QMessageBox.warning(self.window, "Import positions", f"Nothing was imported:\n\n{e}")
            return
        added = len(portfolio.book.positions) - len(self.window.portfolio.book.positions)
        self.window.apply_portfolio(portfolio, f"imported {added} positions from {Path(path).name}")

    def export_csv_file(self, path: str | None = None) -> None:
        from engine.book.positions_csv import export_positions_csv

        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export positions", "positions.csv", "CSV (*.csv)")
            if not path:
                return
        try:
            export_positions_csv(self._book(), path, self.window.real_risk())
        except OSError as e:
            QMessageBox.warning(self.window, "Export positions", f"The file was not written:\n\n{e}")
            return
        self.window.say(f"Exported {len(self._book().positions)} positions to {path}")


def problems_text(error: Exception, limit: int = 20) -> str:
    """Every problem of a refused file, one per line (a PortfolioError lists them all), at most `limit`."""
    lines = error.lines() if isinstance(error, PortfolioError) else [str(error)]
    more = len(lines) - limit
    return "\n".join(lines[:limit] + ([f"… and {more} more"] if more > 0 else []))


def _describe(p: Position) -> str:
    flag = " (hypothetical)" if p.hypothetical else ""
    return f"{p.account}: {p.side.value} {p.contracts:g} {p.symbol}{flag}"
