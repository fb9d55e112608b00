"""The risk thresholds in force: edited in their dialog, saved with the book, applied to every level at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from desktop.tables.delegates import RatioGaugeDelegate
from engine.monitor.levels import Thresholds
from engine.monitor.session import WatchSession

if TYPE_CHECKING:  # the saved book's module is imported when a book is saved
    from engine.storage.database import BookDatabase

THRESHOLDS_SETTING = "thresholds"
"""The saved book's setting that holds the thresholds (desktop.dialogs.thresholds_dialog's format)."""


class ThresholdsSetting(QObject):
    """Edits and applies the thresholds. saved_book(): the open saved book (None: nothing is saved);
    redraw(): a new frame of every key, drawn now."""

    def __init__(
        self,
        parent: QWidget,
        session: WatchSession,
        gauge: RatioGaugeDelegate,
        saved_book: Callable[[], BookDatabase | None],
        redraw: Callable[[], None],
    ) -> None:
        super().__init__(parent)
        self._parent, self.session, self.gauge = parent, session, gauge
        self._saved_book, self._redraw = saved_book, redraw

    @Slot()
    def edit(self) -> None:
        """The thresholds dialog; what it accepts is applied (and saved)."""
        from desktop.dialogs.thresholds_dialog import ThresholdsDialog  # imported when first opened (start-up time)

        dialog = ThresholdsDialog(self.session.thresholds, self._parent)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.result_thresholds is not None:
            self.apply(dialog.result_thresholds)

    def apply(self, thresholds: Thresholds) -> None:
        """Use new thresholds now and save them with the book (when there is a saved book); when saving fails
        nothing changes and the user is told why."""
        database = self._saved_book()
        if database is not None:
            from desktop.dialogs.thresholds_dialog import thresholds_to_setting
            from engine.storage.database import StorageError

            try:
                database.set_setting(THRESHOLDS_SETTING, thresholds_to_setting(thresholds))
            except StorageError as e:
                QMessageBox.warning(self._parent, "Margin Watch", f"The thresholds were not saved:\n\n{e}")
                return
        self.session.set_thresholds(thresholds)
        self.gauge.thresholds = thresholds
        self._redraw()  # every row under the new thresholds at once
