"""The window's price alerts: Alerts ▸ Price alerts…, and "Alert me at a price…" on a position row and on a
prices-dock row (the dialog pre-filled with that symbol). What the dialog accepts goes to the session (which
raises the alerts through the window's usual pipeline: the Alerts dock, the tray, the channels) and is saved
with the book (the setting engine.book.price_alert_rules.PRICE_ALERTS_SETTING); a file window keeps them in the
book it saves back to its file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox

from engine.book.price_alert_rules import PriceAlert
from engine.margin.model import PriceKey

if TYPE_CHECKING:  # the dialog's module is imported when it is first opened
    from desktop.dialogs.price_alerts_dialog import PriceAlertsDialog


class PriceAlertsSetting(QObject):
    """Built by the window (desktop.window.main_window.MainWindow) once its menus, tables and docks exist: reads
    its session, book_host, table, prices_dock, _saved_book, _redraw and say."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window_ = window
        bar = window.menuBar()
        self.menu = QMenu("&Alerts", bar)
        bar.insertMenu(bar.actions()[-1], self.menu)  # before Help
        self.edit_action = self.menu.addAction("&Price alerts…")
        self.edit_action.triggered.connect(lambda: self.edit())
        self.position_action = QAction("Alert me at a &price…", window.table)
        self.position_action.triggered.connect(self.edit_for_position)
        window.table.addAction(self.position_action)
        self.prices_action: QAction | None = None
        window.prices_dock.shown.connect(self.add_to_prices)

    @Slot()
    def add_to_prices(self) -> None:
        """The prices dock's row action (added once, when the dock is first built and shown)."""
        if self.prices_action is None:
            view = self.window_.prices.view
            self.prices_action = QAction("Alert me at a &price…", view)
            self.prices_action.triggered.connect(lambda: self.edit(self.window_.prices.selected_key()))
            view.addAction(self.prices_action)

    @Slot()
    def edit_for_position(self) -> None:
        """The dialog on the selected position's symbol (a word in the status bar when none is selected)."""
        selected = self.window_.book_host.selected_positions()
        if not selected:
            self.window_.say("Select a position first to set a price alert on its symbol")
            return
        book = self.window_.session.portfolio.book
        p = book.positions[selected[0]]
        self.edit((book.account(p.account).exchange, p.symbol))

    def dialog(self, prefill: PriceKey | None = None) -> PriceAlertsDialog:
        """The dialog on the session's rules, the book's price keys and the real marks now."""
        from desktop.dialogs.price_alerts_dialog import PriceAlertsDialog

        session = self.window_.session
        marks = session.frame.real_marks if session.frame is not None else {}
        keys = session.portfolio.book.price_keys()
        return PriceAlertsDialog(session.price_alerts.rules, keys, marks, self.window_, prefill)

    def edit(self, prefill: PriceKey | None = None) -> None:
        """Alerts ▸ Price alerts…: what the dialog accepts is applied (and saved)."""
        dialog = self.dialog(prefill)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_rules is not None:
            self.apply(dialog.result_rules)

    def apply(self, rules: Sequence[PriceAlert]) -> bool:
        """Save the rules with the book (when there is a saved book) and use them now; when saving fails nothing
        changes and the user is told why (False)."""
        database = self.window_._saved_book()
        if database is not None:
            from engine.storage.database import StorageError

            try:
                database.set_price_alerts(rules)
            except StorageError as e:
                QMessageBox.warning(self.window_, "Margin Watch", f"The price alerts were not saved:\n\n{e}")
                return False
        self.window_.session.set_price_alerts(rules)
        self.window_._redraw()
        count = f"{len(rules)} price alert" + ("" if len(rules) == 1 else "s")
        self.window_.say(f"{count}: saved with the book" if database is not None else f"{count} in this window")
        return True
