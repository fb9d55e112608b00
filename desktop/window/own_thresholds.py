"""A position's or an account's own risk thresholds, from the tables' context menus.

"Thresholds for this position…" / "Thresholds for this account…" open the thresholds dialog pre-filled with the
thresholds in force for it (engine.book.thresholds: its own, else its account's, else the global ones). OK sets
its own; "Use the account's thresholds" / "Use the global thresholds" removes them. The change is a new book
(the portfolio's threshold_overrides) applied like any edit: saved with the book (one transaction) and drawn
at once; a book that could not be saved is left as it was.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QWidget

from engine.book.portfolio import Portfolio
from engine.book.thresholds import ThresholdOverrides, Thresholds

if TYPE_CHECKING:  # the dialog is imported when first opened (start-up time)
    from desktop.dialogs.thresholds_dialog import ThresholdsDialog


class ThresholdsHost(Protocol):
    """What the actions need of the window (a part of desktop.window.book_actions.BookHost)."""

    @property
    def portfolio(self) -> Portfolio: ...
    @property
    def thresholds(self) -> Thresholds: ...
    def apply_portfolio(self, portfolio: Portfolio, what: str) -> bool: ...
    def say(self, text: str) -> None: ...
    def selected_positions(self) -> list[int]: ...
    def selected_account(self) -> str | None: ...


class OwnThresholds(QObject):
    """The two context-menu actions (position_action, account_action) and what they do. host: the window's
    BookHost (its portfolio, selection, global thresholds and apply_portfolio); parent: the dialogs' parent."""

    def __init__(self, host: ThresholdsHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.host, self.window = host, parent
        self.position_action = QAction("&Thresholds for this position…", parent)
        self.position_action.triggered.connect(lambda *_: self.edit_position())
        self.account_action = QAction("&Thresholds for this account…", parent)
        self.account_action.triggered.connect(lambda *_: self.edit_account())
        self.last_dialog: ThresholdsDialog | None = None
        """The dialog opened last (tests answer it)."""

    def _overrides(self) -> ThresholdOverrides:
        return self.host.portfolio.threshold_overrides.with_base(self.host.thresholds)

    @Slot()
    def edit_position(self) -> bool:
        """The selected position's thresholds; True when a change was applied."""
        indexes = self.host.selected_positions()
        if not indexes:
            self.host.say("Select a position first.")
            return False
        p = self.host.portfolio.book.positions[indexes[0]]
        ref = (p.account, p.symbol, p.side.value)
        o = self._overrides()
        fall_back = "Use the account's thresholds" if p.account in o.accounts else "Use the global thresholds"
        name = f"{p.account} {p.symbol} {p.side.value}"
        answer = self._ask(o.for_position(*ref), f"Thresholds for {name}", fall_back, ref in o.positions)
        if answer is None:
            return False
        changed = self.host.portfolio.threshold_overrides.with_position(ref, answer or None)
        return self._apply(changed, f"thresholds of {name} " + ("set" if answer else "removed"))

    @Slot()
    def edit_account(self) -> bool:
        """The selected account's thresholds; True when a change was applied."""
        name = self.host.selected_account()
        if name is None:
            self.host.say("Select an account first.")
            return False
        o = self._overrides()
        answer = self._ask(
            o.for_account(name), f"Thresholds for account {name}", "Use the global thresholds", name in o.accounts
        )
        if answer is None:
            return False
        changed = self.host.portfolio.threshold_overrides.with_account(name, answer or None)
        return self._apply(changed, f"thresholds of account {name} " + ("set" if answer else "removed"))

    def _ask(self, current: Thresholds, title: str, fall_back: str, own: bool) -> Thresholds | bool | None:
        """The dialog's answer: new thresholds, False to remove the override, None for no change (cancel)."""
        from desktop.dialogs.thresholds_dialog import ThresholdsDialog

        dialog = ThresholdsDialog(current, self.window, title, fall_back)
        assert dialog.fall_back is not None
        dialog.fall_back.setEnabled(own)  # nothing of its own to remove
        self.last_dialog = dialog
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        if dialog.cleared:
            return False
        return dialog.result_thresholds

    def _apply(self, overrides: ThresholdOverrides, what: str) -> bool:
        portfolio = self.host.portfolio
        if overrides == portfolio.threshold_overrides:
            return False
        return self.host.apply_portfolio(replace(portfolio, threshold_overrides=overrides), what)
