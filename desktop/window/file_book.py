"""A window opened on a portfolio file (`marginwatch --book FILE`) keeps no saved book: its edits would be
lost on quit without a word. On close, when the accounts or positions differ from the file's, the window
asks: save them back to the file, discard them, or stay open."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from engine.book.portfolio import Portfolio, dumps_portfolio
from engine.book.private_file import write_private_atomically


class Choice(StrEnum):
    SAVE = "save"
    DISCARD = "discard"
    CANCEL = "cancel"


def ask_with_a_box(parent: QWidget, path: Path) -> Choice:
    """The question as a message box: Save, Discard or Cancel (Escape: Cancel)."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent,
        "Margin Watch",
        f"The book was changed since it was opened from {path.name}.\n\nSave the changes to {path}?",
        buttons.Save | buttons.Discard | buttons.Cancel,
        buttons.Save,
    )
    return {buttons.Save: Choice.SAVE, buttons.Discard: Choice.DISCARD}.get(answer, Choice.CANCEL)


class FileBook(QObject):
    """Watches the window's close for unsaved edits of its file (a child of the window: it lives as long).

    window: has `portfolio` (the book shown) and `say(text)`; path: the file it was opened from; ask: how the
    question is put (a message box; tests answer it themselves)."""

    def __init__(self, window: Any, path: str | Path, ask: Callable[[QWidget, Path], Choice] = ask_with_a_box) -> None:
        super().__init__(window)
        self.window, self.path, self.ask = window, Path(path), ask
        self.saved = self._contents(window.portfolio)
        window.installEventFilter(self)

    @staticmethod
    def _contents(portfolio: Portfolio) -> tuple:
        """What the user edits (accounts, positions, price alerts): fetched tier tables are not edits."""
        return portfolio.book.accounts, portfolio.book.positions, portfolio.price_alerts

    def changed(self) -> bool:
        return self._contents(self.window.portfolio) != self.saved

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.window and event.type() == QEvent.Type.Close and self.changed():
            choice = self.ask(self.window, self.path)
            if choice is Choice.CANCEL or (choice is Choice.SAVE and not self.save()):
                event.ignore()
                return True  # the window stays open, its edits with it
        return super().eventFilter(watched, event)

    def save(self) -> bool:
        """Write the book back to its file (in one step, 0600); False, said in the status bar, when it cannot."""
        try:
            write_private_atomically(self.path, dumps_portfolio(self.window.portfolio))
        except OSError as e:
            self.window.say(f"The book was not saved to {self.path}: {e}")
            return False
        self.saved = self._contents(self.window.portfolio)
        return True
