"""A dock whose content is built the first time it is shown, and which knows whether it is on screen.

The window's charts and the prices table sit in tabbed docks; the ones behind another tab cost start-up
time to build and refresh time to draw although nobody sees them. Qt keeps a tabbed-away dock
`isVisible()`, so whether it is really on screen is told by its tab (visibilityChanged), not by that.

A dock can also be held: shown while held, it builds its content only when released. The window holds its
docks until its first paint, so the tables, their numbers and the status line appear first and a chart
(about 30 ms to build on a fast machine, and as long again to draw) one event later.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDockWidget, QWidget


class LazyDock(QDockWidget):
    shown = Signal()
    """The dock came on screen (its tab was selected, or it was shown): a view should catch up now."""

    def __init__(self, title: str, name: str, build: Callable[[], QWidget], parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.setObjectName(name)
        self._build: Callable[[], QWidget] | None = build
        self._content: QWidget | None = None
        self._on_screen = False
        self._held = False
        placeholder = QWidget()  # until built: the colour a chart's background will have (its palette's Base)
        placeholder.setBackgroundRole(QPalette.ColorRole.Base)
        placeholder.setAutoFillBackground(True)
        self.setWidget(placeholder)
        self.visibilityChanged.connect(self._visibility_changed)

    @property
    def built(self) -> bool:
        return self._content is not None

    @property
    def on_screen(self) -> bool:
        """Shown, not behind another dock's tab, and not held (a held dock's content is not drawn yet)."""
        return self._on_screen and self.isVisible() and not self._held

    def content(self) -> QWidget:
        """The dock's widget, built now if it was not yet."""
        if self._content is None:
            assert self._build is not None
            build, self._build = self._build, None
            self._content = build()
            placeholder = self.widget()
            self.setWidget(self._content)
            placeholder.deleteLater()
        return self._content

    def hold(self) -> None:
        """Coming on screen does not build the content (nor emit `shown`) until release()."""
        self._held = True

    def release(self) -> None:
        """End a hold: build the content now, and say `shown`, if the dock came on screen meanwhile."""
        if not self._held:
            return
        self._held = False
        if self.on_screen:  # came on screen while held
            self.content()
            self.shown.emit()

    def _visibility_changed(self, visible: bool) -> None:
        self._on_screen = visible
        if visible and not self._held:
            self.content()
            self.shown.emit()
