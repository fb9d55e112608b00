"""History writes happen on the writer's thread; the caller never waits for the disk."""

from __future__ import annotations

import sqlite3
import time

from engine.storage.database import BookDatabase
from engine.storage.writer import BackgroundWriter


def test_queued_samples_reach_the_disk_without_blocking_the_caller(tmp_path):
    path = tmp_path / "book.sqlite3"
    with BookDatabase.open(path) as opened:
        writer = BackgroundWriter(opened)
    start = time.perf_counter()
    for i in range(2_000):
        writer.record([("mark:BTC", 1_000.0 + i, 60_000.0 + i), ("equity:main", 1_000.0 + i, 10_000.0)])
    enqueue_seconds = time.perf_counter() - start
    assert writer.flush(10)
    assert writer.close()
    assert enqueue_seconds < 1.0  # 2,000 calls; the disk work happened elsewhere
    with BookDatabase.open(path) as db:
        assert len(db.history("mark:BTC")) == 2_000
        assert db.history("equity:main")[-1] == (2_999.0, 10_000.0)


def test_a_failing_write_is_reported_and_the_writer_goes_on(tmp_path):
    path = tmp_path / "book.sqlite3"
    with BookDatabase.open(path) as opened:
        writer = BackgroundWriter(opened)
    writer.record([("s", 1.0, 1.0)])
    assert writer.flush(10)
    blocker = sqlite3.connect(path, isolation_level=None, timeout=0.1)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        writer.record([("s", 2.0, 2.0)])
        assert writer.flush(10)
        assert "locked by another program" in writer.last_error
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    writer.record([("s", 3.0, 3.0)])
    assert writer.flush(10)
    assert writer.last_error == ""
    assert writer.close()
    with BookDatabase.open(path) as db:
        assert [at for at, _ in db.history("s")] == [1.0, 3.0]
