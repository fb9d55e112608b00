"""The book on disk: lossless, crash-safe, and clear about every fault."""

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

from engine.book.portfolio import dumps_portfolio, parse_portfolio
from engine.margin.bundled import load_json
from engine.margin.model import MarginMode, Position, Side
from engine.storage.database import BookDatabase, StorageError
from engine.storage.migrations import LATEST, MIGRATIONS, migrate, version_of

ROOT = Path(__file__).resolve().parents[2]


def demo_portfolio():
    doc = load_json("demo", "book.json")
    doc["positions"][0]["note"] = "überwacht — 監視 🚀"
    doc["positions"][1]["entry_price"] = 0.1 + 0.2
    return parse_portfolio(doc)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "marginwatch.sqlite3"


def test_round_trip_file_database_file_is_lossless(db_path):
    original = demo_portfolio()
    with BookDatabase.open(db_path) as db:
        db.import_portfolio(original)
    with BookDatabase.open(db_path) as db:
        restored = db.load()
    assert restored.book == original.book
    assert restored.prices == original.prices
    assert dumps_portfolio(restored) == dumps_portfolio(original)
    assert restored.book.positions[1].entry_price == 0.1 + 0.2
    assert restored.book.positions[0].note == "überwacht — 監視 🚀"


def test_the_file_is_private_to_its_owner(db_path):
    with BookDatabase.open(db_path) as db:
        db.set_setting("theme", "dark")
        for path in (db_path, db_path.with_name(db_path.name + "-wal")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_import_without_replace_refuses_a_clashing_account_and_changes_nothing(db_path):
    with BookDatabase.open(db_path) as db:
        db.import_portfolio(demo_portfolio())
        before = db.document()
        with pytest.raises(StorageError, match="already has an account named 'Binance main'"):
            db.import_portfolio(demo_portfolio())
        assert db.document() == before
        db.import_portfolio(demo_portfolio(), replace=True)
        assert db.document() == before


def test_a_full_disk_saves_nothing_and_keeps_what_was_saved(db_path):
    with BookDatabase.open(db_path) as db:
        db.import_portfolio(demo_portfolio())
        before = db.document()
        pages = db._connection.execute("PRAGMA page_count").fetchone()[0]
        db._connection.execute(f"PRAGMA max_page_count = {pages + 1}")  # SQLite's own "disk is full"
        big = parse_portfolio(
            {
                **before,
                "accounts": [dict(a, name=a["name"] + " 2", wallet_balance=1e9) for a in before["accounts"]],
                "positions": [dict(p, account=p["account"] + " 2", note="x" * 2000) for p in before["positions"]] * 20,
            }
        )
        with pytest.raises(StorageError, match="is full; nothing was saved"):
            db.import_portfolio(big)
        assert db.document() == before
    with BookDatabase.open(db_path) as db:
        assert db.document() == before


def test_a_locked_database_is_reported_not_raised(db_path):
    with BookDatabase.open(db_path, timeout=0.2) as db:
        other = sqlite3.connect(db_path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StorageError, match="locked by another program"):
                db.save_manual_prices({("binanceusdm", "BTC/USDT:USDT"): 60_000})
        finally:
            other.execute("ROLLBACK")
            other.close()
        db.save_manual_prices({("binanceusdm", "BTC/USDT:USDT"): 60_000})


def test_a_corrupt_file_is_moved_aside_and_reported(db_path):
    with BookDatabase.open(db_path) as db:
        db.import_portfolio(demo_portfolio())
    db_path.write_bytes(b"this is not a database" * 100)
    with BookDatabase.open(db_path) as db:
        assert db.is_empty()
        aside = db.notice.moved_aside
        assert aside is not None and aside.exists() and aside.parent.name.startswith("marginwatch.sqlite3.damaged-")
        assert aside.read_bytes().startswith(b"this is not a database")
        assert str(aside.parent) in db.notice.message and "nothing was deleted" in db.notice.message


def test_a_newer_schema_is_refused_without_touching_the_file(db_path):
    with BookDatabase.open(db_path) as db:
        db.import_portfolio(demo_portfolio())
    with sqlite3.connect(db_path) as connection:
        connection.execute(f"PRAGMA user_version = {LATEST + 1}")
    connection.close()
    for side in ("-wal", "-shm"):
        db_path.with_name(db_path.name + side).unlink(missing_ok=True)
    before = (db_path.read_bytes(), db_path.stat().st_mtime_ns)
    with pytest.raises(StorageError, match=f"newer Margin Watch \\(schema {LATEST + 1}.*left untouched"):
        BookDatabase.open(db_path)
    assert (db_path.read_bytes(), db_path.stat().st_mtime_ns) == before


@pytest.mark.parametrize("version", range(LATEST))
def test_a_database_of_every_earlier_version_migrates_and_keeps_its_data(db_path, version):
    db_path.parent.mkdir(parents=True)
    connection = sqlite3.connect(db_path, isolation_level=None)
    migrate(connection, target=version)
    if version >= 1:
        connection.execute(
            "INSERT INTO account (name, exchange, wallet_balance, currency, position_mode) "
            "VALUES ('old', 'binanceusdm', 1234.5, 'USDT', 'oneway')"
        )
        connection.execute(
            "INSERT INTO position (account_id, ordinal, symbol, side, contracts, entry_price, "
            "margin_mode, leverage) VALUES (1, 0, 'BTC/USDT:USDT', 'long', 0.1, 60000, 'cross', 5)"
        )
    connection.close()
    with BookDatabase.open(db_path) as db:
        assert version_of(db._connection) == LATEST == len(MIGRATIONS)
        if version >= 1:
            book = db.load().book
            assert book.accounts[0].wallet_balance == 1234.5
            assert book.positions[0].contracts == 0.1


def test_history_is_thinned_by_age_so_the_file_stays_small(db_path):
    day = 86_400
    now = 1_000 * day
    samples = [("equity:main", now - age, float(age)) for age in range(0, 40 * day, 10)]
    with BookDatabase.open(db_path) as db:
        db.record_history(samples)
        removed = db.thin_history(now)
        kept = db.history("equity:main")
    assert removed == len(samples) - len(kept)
    assert len(kept) < 0.15 * len(samples)
    recent = [at for at, _ in kept if at > now - day]
    assert len(recent) == day // 10  # full resolution for the last day
    month = [at for at, _ in kept if now - 30 * day < at <= now - day]
    assert len(month) <= 29 * 24 * 60 + 2  # one a minute
    older = [at for at, _ in kept if at <= now - 30 * day]
    assert len(older) <= 10 * 24 + 2  # one an hour


def run_confined(script: str, folder: Path, mount: str) -> subprocess.CompletedProcess[str]:
    """Run a Python script with `folder` read-only (mount="ro") or on a 512 KB tmpfs (mount="tiny": an empty book
    at the latest schema takes about 235 KB of WAL).

    As root, permissions do not stop writes, so the script runs in a private mount namespace with a
    real read-only bind mount or a real tiny filesystem; otherwise chmod makes the folder read-only.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if os.geteuid() == 0:
        setup = (
            f"mount --bind -o ro '{folder}' '{folder}'"
            if mount == "ro"
            else f"mount -t tmpfs -o size=512k tmpfs '{folder}'"
        )
        shell = f'{setup} && exec "$0" -c "$1"'
        return subprocess.run(
            ["unshare", "-m", "sh", "-c", shell, sys.executable, script],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env=env,
            check=False,
        )
    if mount != "ro":
        pytest.skip("a tiny filesystem needs root (mount namespace); the page-limit test covers a full disk")
    folder.chmod(0o555)
    try:
        return subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=ROOT, env=env, check=False
        )
    finally:
        folder.chmod(0o755)


def test_a_read_only_folder_gives_a_clear_error_and_loses_nothing(tmp_path):
    folder = tmp_path / "ro"
    with BookDatabase.open(folder / "marginwatch.sqlite3") as db:
        db.import_portfolio(demo_portfolio())
        saved = db.document()
    for side in ("-wal", "-shm"):
        (folder / f"marginwatch.sqlite3{side}").unlink(missing_ok=True)
    script = textwrap.dedent(f"""
        import sys
        from engine.storage.database import BookDatabase, StorageError
        try:
            db = BookDatabase.open({str(folder / "marginwatch.sqlite3")!r})
            db.save_manual_prices({{("binanceusdm", "BTC/USDT:USDT"): 1.0}})
        except StorageError as e:
            print("STORAGE:", e)
            sys.exit(3)
        print("WROTE")
    """)
    result = run_confined(script, folder, "ro")
    assert result.returncode == 3, result.stdout + result.stderr
    assert "STORAGE:" in result.stdout and "--data-dir" in result.stdout and "Traceback" not in result.stderr
    with BookDatabase.open(folder / "marginwatch.sqlite3") as db:
        assert db.document() == saved


def test_a_really_full_disk_saves_nothing_and_keeps_what_was_saved(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    script = textwrap.dedent(f"""
        from engine.margin.bundled import load_json
        from engine.book.portfolio import parse_portfolio
        from engine.storage.database import BookDatabase, StorageError
        path = {str(folder / "marginwatch.sqlite3")!r}
        db = BookDatabase.open(path)
        db.import_portfolio(parse_portfolio(load_json("demo", "book.json")))
        before = db.document()
        accounts = [dict(a, name=a["name"] + " 2", wallet_balance=1e9) for a in before["accounts"]]
        positions = [dict(p, account=p["account"] + " 2", note="x" * 5000) for p in before["positions"]] * 40
        try:
            db.import_portfolio(parse_portfolio(dict(before, accounts=accounts, positions=positions)))
        except StorageError as e:
            print("STORAGE:", e)
        db.close()
        print("KEPT:", BookDatabase.open(path).document() == before)
    """)
    result = run_confined(script, folder, "tiny")
    assert "STORAGE:" in result.stdout and "is full; nothing was saved" in result.stdout, result.stdout + result.stderr
    assert "KEPT: True" in result.stdout


def test_sigkill_during_a_stream_of_writes_keeps_every_committed_write(tmp_path):
    path = tmp_path / "crash.sqlite3"
    with BookDatabase.open(path) as db:
        db.import_portfolio(
            parse_portfolio(
                {"accounts": [{"name": "a", "exchange": "binanceusdm", "wallet_balance": 1e9}], "positions": []}
            )
        )
    script = textwrap.dedent(f"""
        import sys
        from engine.margin.model import MarginMode, Position, Side
        from engine.storage.database import BookDatabase
        db = BookDatabase.open({str(path)!r})
        for i in range(1000):
            db.add_position(Position("a", "BTC/USDT:USDT", Side.LONG, 1 + i, 60000, MarginMode.CROSS, 5, note=str(i)))
            print(i, flush=True)
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    committed = -1
    assert child.stdout is not None
    for line in child.stdout:
        committed = int(line)
        if committed >= 300:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(30)
    assert child.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with BookDatabase.open(path) as db:
        notes = [p.note for p in db.load().book.positions]
    assert len(notes) >= committed + 1
    assert notes[: committed + 1] == [str(i) for i in range(committed + 1)]


def test_adding_a_position_to_an_unknown_account_saves_nothing(db_path):
    with BookDatabase.open(db_path) as db:
        with pytest.raises(StorageError, match="unknown account 'ghost'"):
            db.add_position(Position("ghost", "BTC/USDT:USDT", Side.LONG, 1, 1, MarginMode.CROSS, 1))
        assert db.position_count() == 0
