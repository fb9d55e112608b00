"""Render the application icon's PNGs from its SVGs: `.venv/bin/python packaging/render_icons.py`.

The PNGs are committed (resources/icons/marginwatch-<size>.png) so that neither an install nor a frozen
build needs an SVG renderer; run this again after editing an SVG. Sizes up to SMALL_UP_TO come from
marginwatch-small.svg, a simplified drawing snapped to a 16 px grid, the others from marginwatch.svg.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256, 512)
SMALL_UP_TO = 32


def render(svg: Path, size: int, target: Path) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    if not image.save(str(target), "PNG"):
        raise SystemExit(f"render_icons: cannot write {target}")


def main() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])  # QPainter on a QImage needs one for fonts and plugins
    for size in SIZES:
        svg = ICONS / ("marginwatch-small.svg" if size <= SMALL_UP_TO else "marginwatch.svg")
        target = ICONS / f"marginwatch-{size}.png"
        render(svg, size, target)
        print(f"{target.relative_to(ICONS.parents[1])}  {size}x{size}  {target.stat().st_size:,} bytes")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
