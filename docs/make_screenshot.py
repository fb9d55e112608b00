"""Regenerate docs/screenshot.png: `marginwatch --demo` after a second of simulated prices, rendered
offscreen (no display needed), with a throwaway data folder so no user layout is read or written.

.venv/bin/python docs/make_screenshot.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from desktop.app import WindowOptions, build_window
from desktop.platform.theme import DEFAULT_THEME, apply_theme

WIDTH, HEIGHT = 1600, 1000


def main() -> int:
    app = QApplication(sys.argv[:1])
    apply_theme(app, os.environ.get("MARGINWATCH_THEME", DEFAULT_THEME))
    with tempfile.TemporaryDirectory() as folder:
        window = build_window(WindowOptions(demo=True, data_dir=folder))
        window.resize(WIDTH, HEIGHT)
        window.show()
        deadline = time.monotonic() + 4.0  # a few seconds of simulated prices on the charts
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.02)
        target = Path(__file__).with_name("screenshot.png")
        saved = window.grab().save(str(target))
        window.close()
    if not saved:
        print(f"could not write {target}", file=sys.stderr)
        return 1
    print(f"wrote {target} ({WIDTH}x{HEIGHT})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
