"""The saved book under faults: damaged rows, a death mid move-aside, links, folders, read-only files."""

from __future__ import annotations

import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.book.portfolio import parse_portfolio
from engine.margin.bundled import load_json
from engine.storage import checksum
from engine.storage.database import BookDatabase, DamagedBook, StorageError
from engine.storage.errors import translate
from engine.storage.migrations import migrate, version_of
from engine.storage.quarantine import MARKER, quarantine_folders
from tests.benchmarks.fault_storage import damage_run, kill_run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "marginwatch.sqlite3"
    with BookDatabase.open(path) as db:
        db.import_portfolio(parse_portfolio(load_json("demo", "book.json")))
    return path


def write_behind_its_back(path: Path, sql: str) -> None:
    """Change a row as damage would: without the checksum knowing."""
    with sqlite3.connect(path, isolation_level=None) as connection:
        connection.execute(sql)
    connection.close()


def all_bytes(path: Path) -> dict[str, bytes]:
    """The main file and its WAL (the -shm is SQLite's index of the WAL, rebuilt by any reader)."""
    return {
        p.name: p.read_bytes()
        for p in sorted(path.parent.glob(path.name + "*"))
        if p.is_file() and p.name[-4:] != "-shm"
    }


def test_a_changed_value_inside_a_row_is_damage_moved_aside_with_every_byte(saved):
    write_behind_its_back(saved, "UPDATE position SET contracts = 97 WHERE contracts = 0.5")
    before = all_bytes(saved)
    with BookDatabase.open(saved) as db:
        assert db.is_empty()  # never the book with 97 contracts
        aside = db.notice.moved_aside
        assert aside is not None and aside.parent.name.startswith("marginwatch.sqlite3.damaged-")
        assert "do not match the checksum" in db.notice.message and "nothing was deleted" in db.notice.message
    assert {name: (aside.parent / name).read_bytes() for name in before} == before
    assert not (aside.parent / MARKER).exists()


def test_damaged_json_in_a_market_override_is_damage_not_a_traceback(saved):
    write_behind_its_back(saved, "UPDATE market_override SET spec = '{\"tiers\": [' ")
    with sqlite3.connect(saved) as connection:  # even with a matching checksum (damage before a write)
        connection.execute("BEGIN IMMEDIATE")
        checksum.store_checksum(connection)
        connection.execute("COMMIT")
    connection.close()
    with BookDatabase.open(saved) as db:
        assert db.notice.moved_aside is not None and "cannot be decoded" in db.notice.message


def test_a_book_saved_before_checksums_gets_one_on_first_open_and_is_then_guarded(tmp_path):
    path = tmp_path / "marginwatch.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, target=3)
    connection.execute(
        "INSERT INTO account (name, exchange, wallet_balance, currency, position_mode) "
        "VALUES ('old', 'binanceusdm', 1000, 'USDT', 'oneway')"
    )
    connection.execute("INSERT INTO manual_price (symbol, mark) VALUES ('BTC/USDT:USDT', 60000)")
    connection.close()
    with BookDatabase.open(path) as db:
        assert db.notice.moved_aside is None
        assert db.document()["prices"] == {"BTC/USDT:USDT": 60000}
        assert checksum.stored_checksum(db._connection) == checksum.book_checksum(db._connection)
    write_behind_its_back(path, "UPDATE account SET wallet_balance = 1000000")
    with BookDatabase.open(path) as db:
        assert db.notice.moved_aside is not None and db.is_empty()


def test_random_bytes_in_row_data_never_change_the_book_silently_nor_raise():
    outcomes = damage_run(trials=40, seed=3)
    print(dict(outcomes))
    assert outcomes["SILENT change of the book"] == 0
    assert outcomes["TRACEBACK"] == 0
    assert outcomes["moved aside, bytes NOT kept"] == 0 and outcomes["refused, unclear message"] == 0
    assert outcomes["moved aside"] >= 20  # the trials do hit the book


def test_kills_during_writes_lose_no_committed_write_and_never_look_like_damage():
    counts = kill_run(kills=2, seed=5)
    assert counts["kills"] == 2
    assert counts["committed writes lost"] == 0
    assert counts["books moved aside after a kill"] == 0 and counts["books not opened after a kill"] == 0


def test_a_death_between_the_renames_of_a_move_aside_is_finished_on_the_next_open(saved):
    """The writer dies (SIGKILL) right after the first of the three renames: the next open finishes the move
    before anything opens what is left, so no committed WAL page is orphaned or replayed into a new book."""
    # A damaging write left in the WAL by a process that died holding it (so nothing checkpointed it).
    leave_wal = textwrap.dedent(f"""
        import os, signal, sqlite3
        c = sqlite3.connect({str(saved)!r}, isolation_level=None)
        c.execute("PRAGMA wal_autocheckpoint = 0")
        c.execute("UPDATE position SET leverage = 3 WHERE rowid = 1")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    subprocess.run([sys.executable, "-c", leave_wal], timeout=60, check=False)
    assert saved.with_name(saved.name + "-wal").stat().st_size > 0
    before = all_bytes(saved)
    script = textwrap.dedent(f"""
        import os, signal
        from engine.storage.database import BookDatabase
        real = os.rename
        def rename_then_die(a, b):
            real(a, b)
            os.kill(os.getpid(), signal.SIGKILL)
        os.rename = rename_then_die
        BookDatabase.open({str(saved)!r})
    """)
    child = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60, check=False
    )
    assert child.returncode == -signal.SIGKILL
    (folder,) = quarantine_folders(saved)
    assert (folder / MARKER).exists() and saved.exists()  # half done: the main file is still in place
    with BookDatabase.open(saved) as db:
        assert db.is_empty() and db.notice.moved_aside is None
    assert not (folder / MARKER).exists()
    moved = {name: (folder / name).read_bytes() for name in before}
    assert moved == before and len(moved) == 2  # every byte of the main file and its WAL, together
    assert (folder / (saved.name + "-shm")).exists()


def test_a_symbolic_link_at_the_database_place_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere.sqlite3"
    link = tmp_path / "data" / "marginwatch.sqlite3"
    link.parent.mkdir()
    link.symlink_to(elsewhere)
    for read_only in (False, True):
        with pytest.raises(StorageError, match="is a symbolic link"):
            BookDatabase.open(link, read_only=read_only)
    assert not elsewhere.exists()


def test_a_folder_at_the_database_place_is_named_as_such(tmp_path):
    path = tmp_path / "marginwatch.sqlite3"
    path.mkdir()
    for read_only in (False, True):
        with pytest.raises(StorageError, match="is a folder, not a Margin Watch database"):
            BookDatabase.open(path, read_only=read_only)


def test_a_read_only_file_is_explained_never_chmod_ed_and_still_readable(saved):
    saved.chmod(0o400)
    with pytest.raises(StorageError, match=r"is read-only \(its permissions were changed\).*chmod u\+w"):
        BookDatabase.open(saved)
    assert stat.S_IMODE(saved.stat().st_mode) == 0o400
    assert not saved.with_name(saved.name + "-shm").exists()
    with BookDatabase.open(saved, read_only=True) as db:
        assert len(db.load().book.positions) == 9
        with pytest.raises(StorageError, match="opened read-only; nothing was saved"):
            db.set_setting("theme", "dark")
    assert stat.S_IMODE(saved.stat().st_mode) == 0o400


def test_a_read_only_open_of_an_older_schema_migrates_a_copy_and_leaves_the_file(tmp_path):
    path = tmp_path / "marginwatch.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, target=2)
    connection.close()
    before = path.read_bytes()
    with BookDatabase.open(path, read_only=True) as db:
        assert db.is_empty()
    assert path.read_bytes() == before
    with sqlite3.connect(path) as check:
        assert version_of(check) == 2
    check.close()


def test_a_damaged_book_opened_read_only_is_refused_and_left_as_it_is(saved):
    write_behind_its_back(saved, "UPDATE account SET wallet_balance = 1")
    before = all_bytes(saved)
    with pytest.raises(DamagedBook, match=r"damaged.*left as it is"):
        BookDatabase.open(saved, read_only=True)
    assert saved.read_bytes() == before[saved.name] and not quarantine_folders(saved)


def test_errors_are_classified_by_code_not_by_their_text(tmp_path):
    path = tmp_path / "marginwatch.sqlite3"

    def error(code: int, text: str) -> sqlite3.Error:
        e = sqlite3.OperationalError(text)
        e.sqlite_errorcode, e.sqlite_errorname = code, f"CODE_{code}"
        return e

    # The text says one thing, the code another: the code wins.
    assert "is full" in str(translate(error(13, "database is locked"), path))
    assert "locked by another program" in str(translate(error(5, "disk is full"), path))
    assert "locked by another program" in str(translate(error(6 | (1 << 8), "whatever"), path))
    assert isinstance(translate(error(11, "fine"), path), DamagedBook)
    assert "I/O error" in str(translate(error(10 | (3 << 8), "disk is full"), path))  # plenty of space here


def test_an_io_error_on_a_full_disk_says_the_disk_is_full(tmp_path, monkeypatch):
    monkeypatch.setattr("engine.storage.errors.disk_full", lambda path: True)
    e = sqlite3.OperationalError("disk I/O error")
    e.sqlite_errorcode, e.sqlite_errorname = 10 | (3 << 8), "SQLITE_IOERR_WRITE"
    assert "the disk holding" in str(translate(e, tmp_path / "x.sqlite3")) and "is full" in str(
        translate(e, tmp_path / "x.sqlite3")
    )


def test_the_data_folder_the_database_creates_is_private(tmp_path):
    with BookDatabase.open(tmp_path / "new" / "marginwatch.sqlite3"):
        pass
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_a_file_that_cannot_be_read_is_named_as_such(saved, monkeypatch):
    """As root every file is readable, so the permission answer is what the file system would say to a user."""
    real = os.access
    monkeypatch.setattr("engine.storage.errors.os.access", lambda p, mode: False if mode == os.R_OK else real(p, mode))
    e = sqlite3.OperationalError("unable to open database file")
    e.sqlite_errorcode, e.sqlite_errorname = 14, "SQLITE_CANTOPEN"
    assert "cannot be read (its permissions do not allow it)" in str(translate(e, saved))


@pytest.mark.parametrize("column", [b"mXrgin_mode", b"ma\xd1\xde\x93F_mode"])
def test_a_damaged_check_constraint_that_only_writing_parses_is_moved_aside(saved, column):
    """Found by the fault run (seed 2): reads pass, the first write parses the CHECK and fails (with a
    message sqlite3 cannot even decode)."""
    connection = sqlite3.connect(saved, isolation_level=None)
    connection.execute("PRAGMA writable_schema = ON")
    connection.execute(
        "UPDATE sqlite_master SET sql = CAST(replace(CAST(sql AS BLOB), CAST('margin_mode IN' AS BLOB), ?) AS TEXT)"
        " WHERE name = 'position'",
        (column + b" IN",),
    )
    connection.close()
    with BookDatabase.open(saved) as db:
        assert db.notice.moved_aside is not None and db.is_empty()
