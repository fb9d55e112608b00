"""Dark and light themes (Fusion with a palette), or the platform's own colours ('system').

Dark is the default: the app sits beside exchange tabs that are dark too. The level colours of rows
and bars are tints chosen to read on both.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("dark", "light", "system")
DEFAULT_THEME = "dark"


def _palette(dark: bool) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    if dark:
        colours = {
            role.Window: "#1e2126",
            role.WindowText: "#e6e6e6",
            role.Base: "#16181c",
            role.AlternateBase: "#202329",
            role.Text: "#e6e6e6",
            role.Button: "#2a2e35",
            role.ButtonText: "#e6e6e6",
            role.ToolTipBase: "#2a2e35",
            role.ToolTipText: "#e6e6e6",
            role.Highlight: "#2f6fb2",
            role.HighlightedText: "#ffffff",
            role.Link: "#6fb1ff",
            role.PlaceholderText: "#8a8f98",
            role.BrightText: "#ff6b6b",
        }
    else:
        colours = {
            role.Window: "#f3f4f6",
            role.WindowText: "#1b1d21",
            role.Base: "#ffffff",
            role.AlternateBase: "#f6f7f9",
            role.Text: "#1b1d21",
            role.Button: "#e8eaee",
            role.ButtonText: "#1b1d21",
            role.ToolTipBase: "#ffffe1",
            role.ToolTipText: "#1b1d21",
            role.Highlight: "#3478c6",
            role.HighlightedText: "#ffffff",
            role.Link: "#1a5fb4",
            role.PlaceholderText: "#646972",  # 5.5:1 on white (#8a8f98 was 3.3:1)
            role.BrightText: "#c0392b",
        }
    for r, colour in colours.items():
        p.setColor(r, QColor(colour))
    for r in (role.Text, role.WindowText, role.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, r, QColor("#7a7f88"))
    return p


_APPLIED = "marginwatch_theme"


def apply_theme(app: QApplication, name: str) -> str:
    """Apply 'dark', 'light' or 'system'; returns the name applied (unknown names fall back to dark)."""
    if name not in THEMES:
        name = DEFAULT_THEME
    app.setProperty(_APPLIED, name)
    if name == "system":
        app.setStyle("Fusion")
        app.setPalette(app.style().standardPalette())
        return name
    from desktop.platform.indicator_style import IndicatorStyle

    app.setStyle(IndicatorStyle())  # Fusion, its radio buttons and check boxes visible on the dark window
    app.setPalette(_palette(dark=name == "dark"))
    return name


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def applied_theme(app: QApplication | None) -> str:
    """The theme apply_theme() last applied to the app (the default when none was)."""
    name = app.property(_APPLIED) if app is not None else None
    return name if name in THEMES else DEFAULT_THEME


def remember_theme(settings: QSettings | None, name: str) -> None:
    """The theme the next start applies (nothing without settings)."""
    if settings is not None:
        settings.setValue("view/theme", name)
