"""The application icon, from the PNGs bundled in marginwatch_resources/icons/.

Only the PNGs go into the QIcon, not the SVG: the 16 and 32 px ones are drawn from a simplified,
pixel-snapped picture (packaging/render_icons.py) that an SVG icon engine would replace with a blurry
rendering of the full one, and an SVG-backed QIcon reports no availableSizes(), which X11 and Windows
use to pick the window and taskbar icons. Qt scales the nearest larger PNG for any other size.
"""

from __future__ import annotations

from importlib.resources.abc import Traversable
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QPixmap

from engine.margin.bundled import resource

ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)
"""Pixel sizes of the bundled PNGs."""


def icon_file(size: int) -> Traversable:
    """The bundled PNG of the icon at `size` px (one of ICON_SIZES)."""
    return resource("icons", f"marginwatch-{size}.png")


def app_icon() -> QIcon:
    """Margin Watch's icon at every bundled size. Needs a QGuiApplication (QPixmap does).

    A PNG that is a plain file is read when the icon is first drawn at its size (decoding all seven,
    up to 512 px, took ~10 ms of every start); one inside an archive is decoded now, from its bytes.
    """
    icon = QIcon()
    for size in ICON_SIZES:
        source = icon_file(size)
        if isinstance(source, Path):
            if not source.is_file():
                raise RuntimeError(f"the bundled icon marginwatch-{size}.png is missing")
            icon.addFile(str(source), QSize(size, size))
            continue
        pixmap = QPixmap()
        if not pixmap.loadFromData(source.read_bytes(), "PNG"):
            raise RuntimeError(f"the bundled icon marginwatch-{size}.png cannot be read")
        icon.addPixmap(pixmap)
    return icon
