"""The thresholds dialog: explains bad combinations, saves good ones, and they come back after a restart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from desktop.app import WindowOptions, build_window, demo_portfolio
from desktop.dialogs.thresholds_dialog import ThresholdsDialog
from engine.monitor.levels import Level, Thresholds
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path


def type_into(qtbot, box, value: float) -> None:
    box.selectAll()
    qtbot.keyClicks(box.lineEdit(), f"{value:g}")
    qtbot.keyClick(box.lineEdit(), Qt.Key.Key_Tab)


def test_a_danger_level_above_the_warning_level_is_explained_and_cannot_be_accepted(qtbot):
    dialog = ThresholdsDialog(Thresholds())
    qtbot.addWidget(dialog)
    type_into(qtbot, dialog.boxes["distance_danger"], 20)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    assert "danger < warning" in dialog.problem.text()
    type_into(qtbot, dialog.boxes["distance_danger"], 8)
    assert ok.isEnabled() and dialog.problem.text() == ""
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.result_thresholds.distance_danger == 0.08


def test_new_thresholds_apply_at_once_and_come_back_after_a_restart(qtbot, tmp_path):
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    first = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(first)
    warned = sum(level is Level.WARNING for level in first.model.levels)
    assert warned > 0
    first.thresholds_setting.apply(Thresholds(distance_warning=0.05, distance_danger=0.02))
    assert all(level is Level.OK for level in first.model.levels)  # nothing is within 5% in the demo
    first.close()

    second = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(second)
    assert second.levels.thresholds.distance_warning == 0.05
    assert all(level is Level.OK for level in second.model.levels)
    second.close()
