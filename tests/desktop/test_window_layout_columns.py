"""Remembered column layouts survive a change of columns: a layout saved for other columns is not applied to the
wrong ones (Qt restores a header by column number; the Stop column was added in the middle of the table)."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QMainWindow, QSplitter, QTableView

from desktop.window.window_layout import restore_layout, save_layout


def table(qtbot, titles: list[str]) -> tuple[QMainWindow, QSplitter, QTableView]:
    window = QMainWindow()
    qtbot.addWidget(window)
    splitter = QSplitter()
    window.setCentralWidget(splitter)
    model = QStandardItemModel(1, len(titles), window)
    model.setHorizontalHeaderLabels(titles)
    view = QTableView()
    view.setObjectName("positions")
    view.setModel(model)
    splitter.addWidget(view)
    return window, splitter, view


def test_a_layout_saved_for_other_columns_is_not_applied_to_the_wrong_ones(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "layout.ini"), QSettings.Format.IniFormat)
    before = ["Account", "Entry", "Mode", "Leverage"]
    window, splitter, view = table(qtbot, before)
    view.horizontalHeader().setSectionHidden(2, True)  # the user hid Mode
    view.horizontalHeader().resizeSection(3, 321)
    save_layout(settings, window, splitter, [view])

    window, splitter, same = table(qtbot, before)
    assert restore_layout(settings, window, splitter, [same])
    assert same.horizontalHeader().isSectionHidden(2) and same.horizontalHeader().sectionSize(3) == 321

    window, splitter, added = table(qtbot, ["Account", "Entry", "Stop", "Mode", "Leverage"])
    assert restore_layout(settings, window, splitter, [added])
    assert not added.horizontalHeader().isSectionHidden(2)  # Stop is not hidden in Mode's place
