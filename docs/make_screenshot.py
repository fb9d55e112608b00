"""Regenerate the README's screenshots: `marginwatch --demo` after a few seconds of simulated prices, rendered
offscreen (no display needed) with a throwaway data folder (no user layout is read or written), in both
themes at the two sizes a trader's screen has most often:

    docs/screenshot-dark-1600x1000.png   docs/screenshot-light-1600x1000.png
    docs/screenshot-dark-1280x720.png    docs/screenshot-light-1280x720.png

and docs/screenshot.png (dark, 1600x1000: the README's first picture).

.venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from desktop.app import WindowOptions, build_window
from desktop.platform.theme import apply_theme

SIZES = ((1600, 1000), (1280, 720))
THEMES = ("dark", "light")
SETTLE_S = 4.0
"""Seconds of simulated prices before the picture: the charts have a few seconds of history."""


def shoot(app: QApplication, theme: str, width: int, height: int, target: Path) -> bool:
    """One screenshot of the demo window in this theme and size; False when the file could not be written."""
    apply_theme(app, theme)
    with tempfile.TemporaryDirectory() as folder:
        window = build_window(WindowOptions(demo=True, data_dir=folder))
        window.resize(width, height)
        window.show()
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        saved = window.grab().save(str(target))
        window.close()
        app.processEvents()
    return saved


def main() -> int:
    app = QApplication(sys.argv[:1])
    docs = Path(__file__).parent
    for theme in THEMES:
        for width, height in SIZES:
            target = docs / f"screenshot-{theme}-{width}x{height}.png"
            if not shoot(app, theme, width, height, target):
                print(f"could not write {target}", file=sys.stderr)
                return 1
            print(f"wrote {target}")
    shutil.copyfile(docs / "screenshot-dark-1600x1000.png", docs / "screenshot.png")
    print(f"wrote {docs / 'screenshot.png'} (dark, 1600x1000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
