"""The window paints its tables first; the charts (and pyqtgraph) are loaded and drawn in an event after that
first paint, so the numbers a trader opens the app for appear sooner."""

from __future__ import annotations

import os
import subprocess
import sys

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from tests.desktop.test_window import demo_on_manual_prices


def test_importing_and_building_the_window_load_neither_pyqtgraph_nor_a_chart():
    code = (
        "import sys\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from desktop.app import MainWindow, demo_portfolio\n"
        "loaded = lambda: sorted(m for m in sys.modules if m.startswith(('pyqtgraph', 'desktop.charts.')))\n"
        "print(loaded())\n"
        "window = MainWindow(demo_portfolio(), 'demo book')\n"
        "print(loaded())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    assert done.stdout.split("\n")[:2] == ["[]", "[]"]


def test_the_first_paint_shows_the_tables_and_the_chart_follows_drawn_on_the_selected_position(qtbot):
    _, _, window = demo_on_manual_prices(qtbot)
    seen: dict[str, bool] = {}

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if (
                "chart built" not in seen
                and event.type() == QEvent.Type.Paint
                and isinstance(obj, QWidget)
                and obj.window() is window
            ):
                seen["chart built"] = window.chart_dock.built
                seen["table painted"] = window.table.isVisible()
            return False

    watcher = FirstPaint()
    QApplication.instance().installEventFilter(watcher)
    try:
        window.show()
        assert not window.chart_dock.on_screen  # held until the first paint
        qtbot.waitUntil(lambda: window.chart_dock.on_screen)
    finally:
        QApplication.instance().removeEventFilter(watcher)
    assert seen == {"chart built": False, "table painted": True}
    first = window.model._rows[window.model.position_at(0)]
    assert window.chart.shown is not None and window.chart.shown[1] == first.position.symbol
    assert window.chart_dock.windowTitle().startswith(f"Position: {first.position.symbol.split(':')[0]}")
    assert not window.ladder_dock.built and not window.prices_dock.built  # behind other tabs: still not built
