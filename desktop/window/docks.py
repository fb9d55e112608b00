"""The window's docks: the alerts list and the prices table at the bottom, the position chart, account
history and risk ladder on the right. The charts and the prices table are built when their tab first
comes to the front (desktop.window.lazy_dock), and not before the window's first paint: they are held until the
window calls release_held() after it, and the charts' modules, pyqtgraph with them, are imported then, once the
tables are on screen."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from desktop.window.alert_list import AlertList
from desktop.window.lazy_dock import LazyDock


def _position_chart() -> QWidget:
    from desktop.charts.position_chart import PositionChart

    return PositionChart()


def _risk_ladder() -> QWidget:
    from desktop.charts.risk_ladder import RiskLadder

    return RiskLadder()


def _account_chart() -> QWidget:
    from desktop.charts.account_chart import AccountChart

    return AccountChart()


class WindowDocks:
    """The docks, added to the window in their default places; build_prices makes the prices panel. The lazy ones
    are held (built when on screen only after release_held(), which the window calls after its first paint)."""

    def __init__(self, window: QMainWindow, alert_list: AlertList, build_prices: Callable[[], QWidget]) -> None:
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.alerts = QDockWidget("Alerts", window)
        self.alerts.setObjectName("alerts")
        self.alerts.setWidget(alert_list)
        alert_list.rows_changed.connect(lambda rows: self.alerts.setWindowTitle(f"Alerts ({rows})"))
        window.addDockWidget(bottom, self.alerts)
        self.ladder = self._lazy(window, "Risk ladder", "risk-ladder", _risk_ladder, right)
        window.resizeDocks([self.ladder], [460], Qt.Orientation.Horizontal)
        self.chart = self._lazy(window, "Position", "position-chart", _position_chart, right)
        self.account_chart = self._lazy(window, "Account history", "account-chart", _account_chart, right)
        self.prices = self._lazy(window, "Prices", "prices", build_prices, bottom)
        window.tabifyDockWidget(self.alerts, self.prices)
        self.alerts.raise_()
        window.tabifyDockWidget(self.ladder, self.chart)
        window.tabifyDockWidget(self.chart, self.account_chart)
        self.chart.raise_()
        window.resizeDocks([self.alerts], [110], Qt.Orientation.Vertical)  # the tables come first
        self.hold_until_painted()

    @staticmethod
    def _lazy(
        window: QMainWindow, title: str, name: str, build: Callable[[], QWidget], area: Qt.DockWidgetArea
    ) -> LazyDock:
        dock = LazyDock(title, name, build, window)
        window.addDockWidget(area, dock)
        return dock

    def lazy(self) -> tuple[LazyDock, ...]:
        """The docks built when first on screen."""
        return (self.chart, self.account_chart, self.ladder, self.prices)

    def hold_until_painted(self) -> None:
        """The docks build nothing until release_held(): the window's first paint shows the tables sooner (the
        position chart's module, pyqtgraph and the chart's build were about a fifth of the window's start-up)."""
        for dock in self.lazy():
            dock.hold()

    def release_held(self) -> None:
        """Build, and draw, the held docks now on screen."""
        for dock in self.lazy():
            dock.release()

    def in_menu_order(self) -> tuple[QDockWidget, ...]:
        """The docks in the order of their View-menu shortcuts (Ctrl+1…5)."""
        return (self.chart, self.account_chart, self.ladder, self.alerts, self.prices)
