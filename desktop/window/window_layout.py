"""The window's layout remembered per user (QSettings): geometry, docks, the splitter, each table's columns."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView


def restore_layout(
    settings: QSettings | None, window: QMainWindow, splitter: QSplitter, views: Sequence[QTableView]
) -> bool:
    """Apply the saved layout; True when there was one (the caller then keeps the user's column widths)."""
    if settings is None or settings.value("window/geometry") is None:
        return False
    window.restoreGeometry(settings.value("window/geometry"))
    docks = settings.value("window/docks")
    if docks is not None:
        window.restoreState(docks)
    state = settings.value("window/splitter")
    if state is not None:
        splitter.restoreState(state)
    for view in views:
        state = settings.value(f"columns/{view.objectName()}")
        if state is not None:
            view.horizontalHeader().restoreState(state)
    return True


def save_layout(
    settings: QSettings | None, window: QMainWindow, splitter: QSplitter, views: Sequence[QTableView]
) -> None:
    """Remember the layout for the next start (at close)."""
    if settings is None:
        return
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/docks", window.saveState())
    settings.setValue("window/splitter", splitter.saveState())
    for view in views:
        settings.setValue(f"columns/{view.objectName()}", view.horizontalHeader().saveState())
    settings.sync()
