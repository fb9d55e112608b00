"""Every text the window paints is readable in both themes: at least 4.5:1 against what it is painted on
(WCAG 2.1 AA, contrast ratio from relative luminance), computed from the palettes and the row looks.

Disabled controls are exempt, as WCAG exempts inactive components."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from desktop.platform import text_colours
from desktop.platform.theme import apply_theme
from desktop.tables.position_columns import LEVEL_BACKGROUND, LEVEL_FOREGROUND
from desktop.window import preview_banner, prices_panel
from engine.monitor.levels import Level

AA = 4.5
R = QPalette.ColorRole
PALETTE_PAIRS = [
    (R.Text, R.Base),
    (R.Text, R.AlternateBase),
    (R.WindowText, R.Window),
    (R.ButtonText, R.Button),
    (R.HighlightedText, R.Highlight),
    (R.ToolTipText, R.ToolTipBase),
    (R.PlaceholderText, R.Base),
    (R.Link, R.Base),
    (R.BrightText, R.Window),
]


def luminance(colour: QColor) -> float:
    """WCAG 2.1 relative luminance of an sRGB colour."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.red()) + 0.7152 * channel(colour.green()) + 0.0722 * channel(colour.blue())


def contrast(a: QColor, b: QColor) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_formula_gives_wcags_reference_values():
    assert contrast(QColor("black"), QColor("white")) == pytest.approx(21)
    assert contrast(QColor("#767676"), QColor("white")) == pytest.approx(4.54, abs=0.01)  # WCAG's AA grey


@pytest.fixture(params=["dark", "light"])
def palette(request, qapp):
    before = QApplication.palette()
    apply_theme(qapp, request.param)
    yield QApplication.palette()
    qapp.setPalette(before)


def test_every_palette_text_role_reads_on_its_background(palette):
    low = {
        (text.name, ground.name): round(contrast(palette.color(text), palette.color(ground)), 2)
        for text, ground in PALETTE_PAIRS
        if contrast(palette.color(text), palette.color(ground)) < AA
    }
    assert not low


def test_coloured_text_reads_on_the_tables_and_forms(palette):
    grounds = [palette.color(R.Base), palette.color(R.AlternateBase), palette.color(R.Window)]
    coloured = {
        "gain": text_colours.sign_colour(1, palette),
        "loss": text_colours.sign_colour(-1, palette),
        "stale": text_colours.muted_colour(palette),
        "problem": text_colours.problem_colour(palette),
        "shock": text_colours.shock_colour(palette),
    }
    low = {
        (name, ground.name()): round(contrast(colour, ground), 2)
        for name, colour in coloured.items()
        for ground in grounds
        if contrast(colour, ground) < AA
    }
    assert not low


@pytest.mark.parametrize("level", [Level.WARNING, Level.DANGER, Level.LIQUIDATED])
def test_a_tinted_rows_text_reads_on_its_tint(level):
    """A level's row keeps its own text colour when stale too (italic says stale there): 1.4:1 it was."""
    assert contrast(LEVEL_FOREGROUND[level], LEVEL_BACKGROUND[level]) >= AA


@pytest.mark.parametrize(
    "style", [preview_banner.SHOCK_STYLE, preview_banner.HYPOTHETICAL_STYLE, prices_panel.BANNER_STYLE]
)
def test_the_banners_read(style):
    background = re.search(r"background: ([^;]+);", style).group(1)
    colour = re.search(r"(?<!-)color: ([^;]+);", style).group(1)
    assert contrast(QColor(colour), QColor(background)) >= AA


@pytest.mark.parametrize("kind", ["radio", "check"])
def test_an_unchecked_radio_button_or_check_box_can_be_seen_on_the_dark_window(qtbot, palette, kind):
    """Fusion outlined them in the window colour made darker: all but invisible on the dark theme. Some pixel of
    the indicator must stand out from the window at 3:1 (WCAG's minimum for a control's boundary)."""
    from PySide6.QtWidgets import QCheckBox, QRadioButton

    button = (QRadioButton if kind == "radio" else QCheckBox)()  # no text: only the indicator is drawn
    qtbot.addWidget(button)
    button.resize(120, 24)
    image = button.grab().toImage()
    window = QApplication.palette().color(R.Window)
    best = max(
        contrast(image.pixelColor(x, y), window) for x in range(image.width()) for y in range(image.height())
    )
    assert best >= 3.0
