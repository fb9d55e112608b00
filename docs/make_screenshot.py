"""Regenerate docs/screenshot.png: the window on the demo book, rendered offscreen (no display needed).

.venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from desktop.app import MainWindow, demo_portfolio

WIDTH, HEIGHT = 1600, 760


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = MainWindow(demo_portfolio(), "demo book")
    window.resize(WIDTH, HEIGHT)
    window.show()
    app.processEvents()
    target = Path(__file__).with_name("screenshot.png")
    if not window.grab().save(str(target)):
        print(f"could not write {target}", file=sys.stderr)
        return 1
    print(f"wrote {target} ({WIDTH}x{HEIGHT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
