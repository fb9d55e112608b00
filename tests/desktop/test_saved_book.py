"""The window and the saved book: a book that failed to load is never overwritten; what was saved comes back."""

from __future__ import annotations

import sqlite3
import stat
import threading
import time

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.app import WindowOptions, build_window, demo_portfolio
from engine.book.portfolio import parse_portfolio
from engine.margin.bundled import load_json
from engine.market.prices import PriceSource
from engine.storage import checksum
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from engine.storage.quarantine import quarantine_folders

KEY = ("binanceusdm", "BTC/USDT:USDT")


def saved_demo(tmp_path):
    path = database_path(str(tmp_path))
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo_portfolio())
    return path


def refuse_by_current_rules(path) -> None:
    """A value today's rules refuse (leverage 2000), saved with a matching checksum: not damage, a failed load."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("UPDATE position SET leverage = 2000 WHERE rowid = (SELECT MIN(rowid) FROM position)")
    checksum.store_checksum(connection)
    connection.execute("COMMIT")
    connection.close()


def file_bytes(path) -> tuple[bytes, bytes]:
    """The saved book's bytes: the main file and its WAL (none and empty alike; a reader may leave an empty one)."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


def open_window(qtbot, tmp_path):
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    return window


def test_after_a_failed_load_no_edit_ever_writes_the_saved_book(qtbot, tmp_path):
    path = saved_demo(tmp_path)
    refuse_by_current_rules(path)
    before = file_bytes(path)
    window = open_window(qtbot, tmp_path)  # no modal dialog: the test would hang on one
    assert "NOT OPENED" in window.windowTitle() and "nothing is saved" in window.windowTitle()
    assert "could not be opened" in window.status.text() and "'leverage' 2000" in window.status.text()
    assert "nothing will be written" in window.status.text()
    assert window.database is None and window.history is None
    assert window.saved_book_bar is not None and not window.saved_book_bar.isHidden()
    # Every way the window saves: a book edit, thresholds, a typed price.
    other = parse_portfolio({**load_json("demo", "book.json"), "positions": []})
    assert window.book_host.apply_portfolio(other, "Position deleted")
    window.thresholds_setting.apply(window.levels.thresholds)
    window.store.set_manual(KEY, 1.0)
    window.book_host.save_manual_prices([KEY])
    window.close()
    assert file_bytes(path) == before


def test_a_lock_held_for_a_few_seconds_then_retry_opens_the_saved_book(qtbot, tmp_path):
    path = saved_demo(tmp_path)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE setting SET value = value")
    released = threading.Timer(6.0, holder.execute, args=("ROLLBACK",))
    released.start()
    try:
        before = file_bytes(path)
        window = open_window(qtbot, tmp_path)
        assert "NOT OPENED" in window.windowTitle() and "locked by another program" in window.status.text()
        assert len(window.portfolio.book.positions) == 9  # a read-only copy is shown
        assert window.book_host.apply_portfolio(demo_portfolio(), "Account edited")
        assert file_bytes(path) == before
    finally:
        released.cancel()
        holder.execute("ROLLBACK") if holder.in_transaction else None
        holder.close()
    assert window.saved_book_bar.retry()
    assert window.database.path == path and window.history is not None
    assert "NOT OPENED" not in window.windowTitle() and "could not be opened" not in window.status.text()
    other = parse_portfolio({**load_json("demo", "book.json"), "positions": []})
    assert window.book_host.apply_portfolio(other, "Position deleted")  # now it saves
    with BookDatabase.open(path) as db:
        assert db.position_count() == 0
    window.close()


def test_move_aside_and_start_empty_keeps_the_old_book(qtbot, tmp_path):
    path = saved_demo(tmp_path)
    refuse_by_current_rules(path)
    main = path.read_bytes()
    window = open_window(qtbot, tmp_path)
    qtbot.mouseClick(window.saved_book_bar.move_button, Qt.MouseButton.LeftButton)
    assert window.database.path == path and not window.portfolio.book.positions
    (folder,) = quarantine_folders(path)
    assert (folder / path.name).read_bytes() == main
    assert "moved to" in window.statusBar().currentMessage()
    window.close()


def test_open_another_saved_book(qtbot, tmp_path, monkeypatch):
    path = saved_demo(tmp_path)
    refuse_by_current_rules(path)
    other = tmp_path / "other" / "book.sqlite3"
    with BookDatabase.open(other) as db:
        db.import_portfolio(demo_portfolio())
    window = open_window(qtbot, tmp_path)
    monkeypatch.setattr("desktop.window.saved_book.QFileDialog.getOpenFileName", lambda *a, **k: (str(other), ""))
    assert window.saved_book_bar.open_another()
    assert window.database.path == other and len(window.portfolio.book.positions) == 9
    window.close()


def test_a_damaged_book_is_moved_aside_with_a_notice_that_does_not_block(qtbot, tmp_path):
    path = saved_demo(tmp_path)
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE position SET contracts = 97")  # behind the checksum's back
    connection.close()
    window = open_window(qtbot, tmp_path)
    assert window.database.path == path and not window.portfolio.book.positions
    assert "was damaged" in window.statusBar().currentMessage()
    boxes = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    assert boxes and "nothing was deleted" in boxes[0].text()
    for box in boxes:
        box.close()
    window.close()


def test_typed_manual_prices_come_back_after_a_restart_and_go_with_back_to_live(qtbot, tmp_path):
    saved_demo(tmp_path)
    window = open_window(qtbot, tmp_path)
    book_price = window.store.quote(KEY).mark
    window.prices_dock.raise_()
    panel = window.prices
    row = panel.model.keys.index(KEY)
    assert panel.model.setData(panel.model.index(row, 2), "12,345.5", Qt.ItemDataRole.EditRole)
    window.close()

    again = open_window(qtbot, tmp_path)
    quote = again.store.quote(KEY)
    assert quote.source is PriceSource.MANUAL and quote.mark == 12_345.5
    again.prices_dock.raise_()
    panel = again.prices
    row = panel.model.keys.index(KEY)
    selection = QItemSelection(panel.model.index(row, 0), panel.model.index(row, 4))
    panel.view.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
    panel.clear_selected_manual()
    again.close()

    third = open_window(qtbot, tmp_path)
    assert third.store.quote(KEY).mark == book_price  # the book's own price, offline: the typed one is gone
    third.close()


def test_alerts_and_marks_stored_with_the_book_come_back(qtbot, tmp_path):
    path = saved_demo(tmp_path)
    now = time.time()
    with BookDatabase.open(path) as db:
        db.add_alert(now - 60, "Binance main: BTC/USDT:USDT long warning", "ok", "warning", 0.09, 61_000.0)
        db.record_history([(f"mark:{KEY[0]}:{KEY[1]}", now - 100 + i, 60_000.0 + i) for i in range(10)])
    window = open_window(qtbot, tmp_path)
    texts = [window.alert_list.item(i).text() for i in range(window.alert_list.count())]
    assert any("Binance main: BTC/USDT:USDT long warning" in t and "61,000" in t for t in texts)
    assert window.alerts_dock.windowTitle() == f"Alerts ({window.alert_list.count()})"
    at, marks = window.session.history.marks[KEY].series()
    assert list(marks[:10]) == [60_000.0 + i for i in range(10)] and at[0] == pytest.approx(now - 100)
    window.close()


def test_the_window_makes_its_data_folder_private(qtbot, tmp_path):
    folder = tmp_path / "fresh"
    window = build_window(WindowOptions(data_dir=str(folder), offline=True))
    qtbot.addWidget(window)
    window.close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_the_data_folder_and_the_log_are_private_when_the_app_starts_on_a_new_folder(tmp_path):
    import logging

    from desktop.app import prepare_data_dir
    from desktop.platform.crash_reporter import CrashReporter

    folder = tmp_path / "new"
    reporter = CrashReporter(prepare_data_dir(folder))
    try:
        logging.getLogger("marginwatch").error("a line")
    finally:
        reporter.uninstall()
        for handler in list(logging.getLogger("marginwatch").handlers):
            if isinstance(handler, logging.FileHandler):
                handler.close()
                logging.getLogger("marginwatch").removeHandler(handler)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "marginwatch.log").stat().st_mode) == 0o600
    assert "a line" in (folder / "marginwatch.log").read_text()
