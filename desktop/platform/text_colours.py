"""Text colours that are readable on the theme they are shown in: at least 4.5:1 against the base (WCAG AA),
for the dark and the light palette alike (tests/desktop/test_contrast.py computes every pair).

One colour cannot do it for both themes (a red readable on white is too dark on the dark base), so each
colour is chosen from the palette it is painted on.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette

GAIN_ON_LIGHT, GAIN_ON_DARK = QColor(0, 110, 40), QColor(110, 220, 130)
LOSS_ON_LIGHT, LOSS_ON_DARK = QColor(180, 20, 20), QColor(255, 135, 125)
MUTED_ON_LIGHT, MUTED_ON_DARK = QColor(100, 104, 112), QColor(150, 155, 163)
SHOCK_ON_LIGHT, SHOCK_ON_DARK = QColor(160, 80, 0), QColor(240, 150, 60)
"""A gain, a loss (and a problem: a refused field, a liquidation marker), muted text (a stale row, a note) and
a shocked price."""


def dark_base(palette: QPalette) -> bool:
    """Whether text is painted on a dark base in this palette."""
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


def sign_colour(sign: int, palette: QPalette) -> QColor:
    """The text colour of a signed figure on this palette's base: green for a gain (sign > 0), red for a loss."""
    dark = dark_base(palette)
    if sign > 0:
        return GAIN_ON_DARK if dark else GAIN_ON_LIGHT
    return LOSS_ON_DARK if dark else LOSS_ON_LIGHT


def muted_colour(palette: QPalette) -> QColor:
    """Grey text that is still readable: a stale row, a note under a field."""
    return MUTED_ON_DARK if dark_base(palette) else MUTED_ON_LIGHT


def shock_colour(palette: QPalette) -> QColor:
    """A shocked price and its source in the prices dock: the shock banner's orange, readable."""
    return SHOCK_ON_DARK if dark_base(palette) else SHOCK_ON_LIGHT


def problem_colour(palette: QPalette) -> QColor:
    """The colour of what went wrong: a refused field's message, a liquidation marker's label."""
    return LOSS_ON_DARK if dark_base(palette) else LOSS_ON_LIGHT


def problem_style() -> str:
    """A style sheet for a problem's label, in the application's current palette (made when the label is)."""
    return f"color: {problem_colour(QGuiApplication.palette()).name()}"


def note_style() -> str:
    """A style sheet for a note's label (muted, readable), in the application's current palette."""
    return f"color: {muted_colour(QGuiApplication.palette()).name()}"
