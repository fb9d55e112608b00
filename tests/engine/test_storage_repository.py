"""The saved book as a repository: one connection, transactions, the checksum kept current without re-reading."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.book.portfolio import parse_portfolio, portfolio_to_dict
from engine.margin.bundled import load_json
from engine.margin.model import MarginMode, Position, Side
from engine.storage import checksum
from engine.storage.database import BookDatabase, StorageError

KEY = ("binanceusdm", "BTC/USDT:USDT")


def demo():
    return parse_portfolio(load_json("demo", "book.json"))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "marginwatch.sqlite3"


def statements(db: BookDatabase) -> list[str]:
    """Every SQL statement db's connection runs from now on (SQLite's own trace)."""
    seen: list[str] = []
    db._connection.set_trace_callback(seen.append)
    return seen


def sound(path: Path) -> bool:
    """The file opens as it is (not moved aside) and its stored checksum is the checksum of its rows."""
    with BookDatabase.open(path) as db:
        return db.notice.moved_aside is None and checksum.stored_checksum(db._connection) == checksum.book_checksum(
            db._connection
        )


def test_a_transaction_that_raises_rolls_back_everything_and_the_book_stays_sound(path):
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo())
        before = db.document()
        with pytest.raises(RuntimeError, match="halfway"), db.transaction() as c:
            c.execute("DELETE FROM position")
            c.execute("INSERT INTO setting (key, value) VALUES ('theme', '\"dark\"')")
            raise RuntimeError("halfway")
        assert db.document() == before and db.setting("theme") is None
        db.set_setting("theme", "light")  # the next write after a rollback keeps the checksum right
    assert sound(path)
    with BookDatabase.open(path) as db:
        assert db.document() == before and db.setting("theme") == "light"


def test_a_failing_statement_inside_a_transaction_is_a_classified_error_and_nothing_is_saved(path):
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo())
        with pytest.raises(StorageError) as raised, db.transaction(changes=("position",)) as c:
            c.execute("DELETE FROM position WHERE rowid = (SELECT MIN(rowid) FROM position)")
            c.execute("UPDATE position SET contracts = -1")  # the CHECK constraint refuses it
        assert type(raised.value) is StorageError and isinstance(raised.value.__cause__, sqlite3.IntegrityError)
        assert len(db.load().book.positions) == len(demo().book.positions)
    assert sound(path)


def test_two_saves_through_one_repository_do_not_open_or_check_the_file_again(path, monkeypatch):
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo())
        opens = []
        monkeypatch.setattr(BookDatabase, "open", classmethod(lambda cls, *a, **k: opens.append(a)))
        seen = statements(db)
        db.import_portfolio(demo(), replace=True)
        db.set_setting("thresholds", {"distance_warning": 0.2})
        assert opens == []
        assert not [s for s in seen if "integrity_check" in s or "sqlite_master" in s or "user_version" in s]


def test_a_setting_or_a_manual_price_saved_does_not_read_the_positions_again(path):
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo())
        seen = statements(db)
        db.set_setting("thresholds", {"distance_warning": 0.2})
        db.save_manual_prices({KEY: 61_000.0})
        assert seen and not [s for s in seen if "FROM position" in s or "FROM account" in s]
    assert sound(path)


def test_every_write_keeps_the_stored_checksum_equal_to_the_checksum_of_the_rows(path):
    """Each write names the book's tables it changes: a wrong name would leave a checksum that moves the book
    aside at the next open. Compared here, after each write, with the checksum read from every row."""
    writes = [
        lambda db: db.import_portfolio(demo()),
        lambda db: db.save_manual_prices({KEY: 61_000.0, ("bybit", "ETH/USDT:USDT"): 3_000.0}),
        lambda db: db.set_setting("thresholds", {"distance_warning": 0.2}),
        lambda db: db.add_position(
            Position("Binance main", "BTC/USDT:USDT", Side.LONG, 1, 60_000, MarginMode.CROSS, 5)
        ),
        lambda db: db.save_manual_prices({KEY: None}),
        lambda db: db.add_alert(1.0, "Binance main: BTC long warning", "ok", "warning", 0.09, 61_000.0),
        lambda db: db.record_history([("equity:Binance main", 1.0, 10_000.0)]),
        lambda db: db.thin_history(now=10.0**9),
        lambda db: db.import_portfolio(demo(), replace=True),
        lambda db: db.set_setting("theme", "dark"),
    ]
    with BookDatabase.open(path) as db:
        for n, write in enumerate(writes):
            write(db)
            stored = checksum.stored_checksum(db._connection)
            assert stored == checksum.book_checksum(db._connection), f"write {n}"
    assert sound(path)


def test_a_book_changed_by_another_program_meanwhile_keeps_a_true_checksum(path):
    """The window keeps its repository open while `marginwatch import` (another connection) changes the book:
    the window's next save must not checksum the rows it remembers instead of the rows on disk."""
    with BookDatabase.open(path) as window:
        window.import_portfolio(demo())
        window.set_setting("theme", "dark")
        with BookDatabase.open(path) as command:
            command.save_manual_prices({KEY: 1_234.0})
        window.set_setting("theme", "light")
        assert checksum.stored_checksum(window._connection) == checksum.book_checksum(window._connection)
    assert sound(path)
    with BookDatabase.open(path) as db:
        assert db.manual_prices() == {KEY: 1_234.0} and db.setting("theme") == "light"


def test_a_read_only_repository_refuses_every_write_with_the_classified_error_and_the_file_is_unchanged(path):
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo())
    before = path.read_bytes()
    with BookDatabase.open(path, read_only=True) as db:
        for write in (
            lambda: db.transaction().__enter__(),
            lambda: db.import_portfolio(demo(), replace=True),
            lambda: db.save_manual_prices({KEY: 61_000.0}),
            lambda: db.set_setting("theme", "dark"),
            lambda: db.add_alert(1.0, "x", "ok", "warning", None, None),
            lambda: db.record_history([("s", 1.0, 1.0)]),
            db.sibling,
        ):
            with pytest.raises(StorageError, match="opened read-only; nothing"):
                write()
        assert len(db.load().book.positions) == len(demo().book.positions)
    assert path.read_bytes() == before


def test_the_book_is_read_back_through_the_one_serializer(path):
    """document() is portfolio_to_dict of the book loaded from the rows: one writer of the document format."""
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo())
        assert db.document() == portfolio_to_dict(db.load()) == portfolio_to_dict(demo())


def test_a_sibling_connection_writes_records_on_its_own_and_leaves_the_book_sound(path):
    with BookDatabase.open(path) as db:
        db.import_portfolio(demo())
        with db.sibling() as writer:
            assert writer._connection is not db._connection
            writer.record_history([("equity:Binance main", 1.0, 10_000.0)])
        db.set_setting("theme", "dark")
        assert db.history("equity:Binance main") == [(1.0, 10_000.0)]
    assert sound(path)
