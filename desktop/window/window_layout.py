"""The window's layout remembered per user (QSettings): geometry, docks, the splitter, each table's columns."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView

FRAME_ALLOWANCE_PX = 40
"""Room left for the title bar and borders the window manager adds around the window's own size."""


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


def fit_to_screen(window: QMainWindow, preferred: tuple[int, int] = (1600, 1000)) -> None:
    """Size the window to `preferred` (pixels), or to the screen's available area where that is smaller (with
    room for the window frame), and centre it there: on a 1280x720 screen the status bar stays on screen."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(*preferred)
        return
    available = screen.availableGeometry()
    width = min(preferred[0], available.width() - FRAME_ALLOWANCE_PX)
    height = min(preferred[1], available.height() - FRAME_ALLOWANCE_PX)
    window.resize(width, height)
    window.move(available.x() + (available.width() - width) // 2, available.y() + (available.height() - height) // 2)
