"""A position's and an account's own thresholds from the tables' context menus: applied at once, said in the
row's tooltip and the alert, saved with the book, and removed again with one button."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt

from desktop.app import WindowOptions, build_window, demo_portfolio
from engine.book.thresholds import Thresholds
from engine.monitor.levels import Level
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.desktop.test_book_editing import saved_window, select_position, with_dialog

__all__ = ["saved_window"]  # the fixture, used by name


def _ok_row(window) -> tuple[int, float]:
    """The book index and distance of a position in ok whose distance a warning below 100% can reach."""
    rows = window.model._rows
    candidates = [
        (i, r.distance_to_liquidation)
        for i, r in enumerate(rows)
        if window.model.levels[i] is Level.OK and r.distance_to_liquidation is not None
        if 0.15 < r.distance_to_liquidation < 0.9 and not r.position.hypothetical
    ]
    return candidates[0]


def _tooltip(window, p: int) -> str:
    return window.model.data(window.model.view_index(p, 0), Qt.ItemDataRole.ToolTipRole) or ""


def test_a_positions_own_warning_colours_its_row_alerts_once_is_saved_and_can_be_removed(
    qtbot, saved_window, qtmodeltester
):
    window, db_file = saved_window
    p, distance = _ok_row(window)
    position = window.model._rows[p].position
    select_position(window, position.symbol, position.side.value)
    warning = math.ceil(distance * 100) + 1  # percent: just past the position's distance

    def set_warning(dialog):
        assert dialog.boxes["distance_warning"].value() == 15  # pre-filled with the thresholds in force
        assert not dialog.fall_back.isEnabled()  # nothing of its own to remove yet
        dialog.boxes["distance_warning"].setValue(warning)
        dialog.accept()

    alerts_before = window.alert_list.count()
    with_dialog(qtbot, set_warning)
    window.actions_.own_thresholds.position_action.trigger()
    window.refresh()
    assert window.model.levels[p] is Level.WARNING
    assert f"this position's own thresholds: distance warning {warning}%" in _tooltip(window, p)
    new = [window.alert_list.item(i).text() for i in range(window.alert_list.count() - alerts_before)]
    said = [text for text in new if f"{position.symbol} {position.side.value}" in text]
    assert len(said) == 1 and f"warning (position threshold {warning}%)" in said[0]
    qtmodeltester.check(window.model)
    with BookDatabase.open(db_file) as db:
        own = db.load().threshold_overrides.positions[(position.account, position.symbol, position.side.value)]
    assert own.distance_warning == warning / 100

    def remove(dialog):
        assert dialog.boxes["distance_warning"].value() == warning and dialog.fall_back.isEnabled()
        dialog.fall_back.click()

    with_dialog(qtbot, remove)
    window.actions_.own_thresholds.position_action.trigger()
    window.refresh()
    assert window.model.levels[p] is Level.OK and "own thresholds" not in _tooltip(window, p)
    with BookDatabase.open(db_file) as db:
        assert not db.load().threshold_overrides


def test_an_accounts_own_thresholds_come_back_after_a_restart_and_say_so_in_its_tooltip(qtbot, tmp_path, qtmodeltester):
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    name = window.actions_.own_thresholds.host.selected_account()

    def set_ratio(dialog):
        assert dialog.fall_back.text() == "Use the global thresholds"
        dialog.boxes["ratio_warning"].setValue(1)
        dialog.boxes["ratio_danger"].setValue(2)
        dialog.accept()

    with_dialog(qtbot, set_ratio)
    window.actions_.own_thresholds.account_action.trigger()
    window.close()

    again = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(again)
    model = again.tables.accounts_model
    row = [a.account.name for a in again.session.frame.shown.accounts].index(name)
    tooltip = model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole) or ""
    assert "this account's own thresholds" in tooltip and "margin ratio warning 1%, danger 2%" in tooltip
    assert again.session.overrides.for_account(name) == Thresholds(ratio_warning=0.01, ratio_danger=0.02)
    assert model.levels[row] >= Level.WARNING  # any margin in use is past 1%
    qtmodeltester.check(model)
    again.close()
