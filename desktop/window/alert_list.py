"""The Alerts dock's list: one row per alert group, newest on top, a repeat updating its group's row.

A repeated crossing (engine.monitor.alerts: the same subject rising to the same level within the rate-limit
window) is not a new row: its group's row is rewritten ("danger → liquidated ×4 in 7 s") and moved to
the top, so a price swinging around a level makes one row that stays readable, not a stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Protocol

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QSystemTrayIcon, QWidget

from desktop.tables.position_columns import LEVEL_BACKGROUND
from engine.book.formats import price
from engine.monitor.alerts import Alert
from engine.monitor.levels import Level


def alert_text(alert: Alert) -> str:
    """'22:04:51  Binance main DOGE/USDT:USDT long: danger → liquidated ×4 in 7 s, -0.20% to liquidation, mark 0.13'."""
    return f"{time.strftime('%H:%M:%S', time.localtime(alert.at))}  {alert.line()}"


class AlertList(QListWidget):
    """The alerts shown, one per group (Alert.group); `alerts` holds each row's latest alert, oldest first.
    rows_changed(count) says how many rows the list shows after new rows (the dock's title shows it): once per
    add, once per raise_ (the first frame's levels already crossed add a row each)."""

    rows_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)  # one line each: laid out without measuring every alert
        self.alerts: list[Alert] = []
        self._rows: dict[tuple[Hashable, Level], tuple[int, QListWidgetItem]] = {}

    def add(self, alert: Alert) -> bool:
        """Show an alert on top; True when it is a new row, False when it updated its group's row."""
        if not self._show(alert):
            return False
        self.rows_changed.emit(self.count())
        return True

    def _show(self, alert: Alert) -> bool:
        grouped = self._rows.get(alert.group) if alert.repeat else None
        if grouped is not None:
            index, item = grouped
            self.alerts[index] = alert
            self.takeItem(self.row(item))
            item.setText(alert_text(alert))
            self.insertItem(0, item)
            return False
        self.alerts.append(alert)
        item = QListWidgetItem(alert_text(alert))
        item.setBackground(LEVEL_BACKGROUND.get(alert.new, QColor(0, 0, 0, 0)))
        if alert.new in LEVEL_BACKGROUND:
            item.setForeground(QColor(255, 255, 255) if alert.new is Level.LIQUIDATED else QColor(0, 0, 0))
        self.insertItem(0, item)
        self._rows[alert.group] = (len(self.alerts) - 1, item)
        return True

    def selected_alert(self) -> Alert | None:
        """The alert of the selected row (None: no row, or a stored alert of an earlier session)."""
        item = self.currentItem()
        return next((self.alerts[i] for i, row in self._rows.values() if row is item), None)

    def add_stored(self, stored: Sequence[Mapping[str, Any]]) -> None:
        """List alerts stored with the book (newest first, as BookDatabase.alerts gives them) below this
        session's rows, with their date: history, never sounded or stored again."""
        for row in stored:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(row["at"]))
            mark = "" if row["mark"] is None else f", mark {price(row['mark'])}"
            self.addItem(QListWidgetItem(f"{stamp}  {row['subject']}{mark}"))
        if stored:
            self.rows_changed.emit(self.count())

    def raise_(
        self,
        alerts: Sequence[Alert],
        history: AlertRecorder | None,
        tray: QSystemTrayIcon | None,
        muted: Callable[[Alert, float], bool] | None = None,
    ) -> bool:
        """Show a frame's alerts; each new one (not a repeat counted into its group) is also stored with the
        book (history) and shown as a desktop notification (tray) unless muted(alert, its time) says the trader
        acknowledged or snoozed its position (the window's notifications' rule: they are listed and stored all
        the same). True when any was new. (The sound is the window's notifications': desktop.window.sound_setting.)"""
        fresh = False
        for alert in alerts:
            if not self._show(alert):
                continue
            fresh = True
            if history is not None:
                history.record_alert(alert)
            if tray is not None and not (muted is not None and muted(alert, alert.at)):
                tray.showMessage("Margin Watch", alert.describe(), QSystemTrayIcon.MessageIcon.Warning, 10_000)
        if fresh:
            self.rows_changed.emit(self.count())
        return fresh


def tray_icon(window: QWidget) -> QSystemTrayIcon | None:
    """The window's tray icon for desktop notifications, shown; None where the platform has no tray (checked at run
    time)."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        return None
    tray = QSystemTrayIcon(window.windowIcon(), window)
    tray.setToolTip("Margin Watch")
    tray.show()
    return tray


class AlertRecorder(Protocol):
    """Where alerts are stored with the book (engine.storage.writer.BackgroundWriter)."""

    def record_alert(self, alert: Alert) -> None: ...
