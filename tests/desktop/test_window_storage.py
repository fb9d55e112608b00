"""The window saves through the one saved book it opened: no re-open (and no whole-file check) per save."""

from __future__ import annotations

import sqlite3

import pytest
from shiboken6 import Shiboken

from desktop.app import WindowOptions, build_window, demo_portfolio
from engine.book.portfolio import parse_portfolio
from engine.margin.bundled import load_json
from engine.monitor.levels import Thresholds
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path

KEY = ("binanceusdm", "BTC/USDT:USDT")


def test_every_save_from_the_window_goes_through_the_book_it_opened_without_opening_the_file_again(
    qtbot, tmp_path, monkeypatch
):
    path = database_path(str(tmp_path))
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    assert window.history is not None and window.history.flush(5)  # the writer has its connection
    opens = []
    real_open = BookDatabase.open.__func__
    monkeypatch.setattr(
        BookDatabase, "open", classmethod(lambda cls, *a, **k: opens.append(a) or real_open(cls, *a, **k))
    )
    smaller = parse_portfolio(
        {**load_json("demo", "book.json"), "positions": load_json("demo", "book.json")["positions"][:3]}
    )
    assert window.book_host.apply_portfolio(smaller, "Position deleted")
    assert window.book_host.apply_portfolio(demo_portfolio(), "Position added")
    window.thresholds_setting.apply(Thresholds(distance_warning=0.2, distance_danger=0.1))
    window.store.set_manual(KEY, 61_234.5)
    window.book_host.save_manual_prices([KEY])
    assert opens == []  # each of these opened (and checked) the whole file again before
    window.close()
    monkeypatch.undo()
    with BookDatabase.open(path) as db:
        assert db.notice.moved_aside is None
        assert len(db.load().book.positions) == len(demo_portfolio().book.positions)
        assert db.setting("thresholds")["distance_warning"] == 0.2
        assert db.manual_prices() == {KEY: 61_234.5}


def test_the_saved_book_is_closed_with_its_window(qtbot, tmp_path):
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    database = window.database
    assert database is not None
    window.close()
    Shiboken.delete(window)
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        database._connection.execute("SELECT 1")
