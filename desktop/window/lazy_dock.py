"""A dock whose content is built the first time it is shown, and which knows whether it is on screen.

The window's charts and the prices table sit in tabbed docks; the ones behind another tab cost start-up
time to build and refresh time to draw although nobody sees them. Qt keeps a tabbed-away dock
`isVisible()`, so whether it is really on screen is told by its tab (visibilityChanged), not by that.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
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
        placeholder = QWidget()
        placeholder.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setWidget(placeholder)
        self.visibilityChanged.connect(self._visibility_changed)

    @property
    def built(self) -> bool:
        return self._content is not None

    @property
    def on_screen(self) -> bool:
        """Shown, and not behind another dock's tab."""
        return self._on_screen and self.isVisible()

    def content(self) -> QWidget:
        """The dock's widget, built now if it was not yet."""
        if self._content is None:
            assert self._build is not None
            build, self._build = self._build, None
            self._content = build()
            self.setWidget(self._content)
        return self._content

    def _visibility_changed(self, visible: bool) -> None:
        self._on_screen = visible
        if visible:
            self.content()
            self.shown.emit()
