"""Fault run for the saved book: kills during writes and random bytes in row data (run by hand, not by pytest).

    .venv/bin/python -m tests.benchmarks.fault_storage [--kills 30] [--trials 200] [--seed 14]

Kills: a child process adds positions one transaction at a time and prints each committed one; it is
SIGKILLed at a random moment mid-stream. Then the book is opened as the window opens it: every
committed position must be there, in order, and the book must open without being moved aside (the
checksum is written in the same transaction as the rows, so a kill never leaves a mismatch).

Damaged rows: a saved book (the demo book with its markets, a typed manual price, thresholds, alerts
and history) gets 1-8 random bytes written over its row data (mostly over bytes that hold values, some
anywhere), then is opened and read as the window does. Each trial ends as one of: moved aside (every
damaged byte kept in the quarantine folder), refused with a one-line message, opened unchanged (the
bytes hit free space or a record's unused part), a record outside the book changed (alerts or history:
not checksummed, shown as read), a SILENT change of the book (must be 0), or a traceback (must be 0).
tests/engine/test_storage_faults.py runs a few of each inside pytest.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

from engine.book.portfolio import PortfolioError, parse_portfolio
from engine.margin.bundled import load_json
from engine.storage.database import BookDatabase, StorageError

ROOT = Path(__file__).resolve().parents[2]
KEY = ("binanceusdm", "BTC/USDT:USDT")


def _state(db: BookDatabase) -> tuple:
    """Everything the window reads from the saved book, the book first."""
    book = (db.document(), db.manual_prices(), db.setting("thresholds"), db.setting("theme"))
    records = (db.alerts(), db.history("equity:Binance main"))
    return book, records


def make_saved_book(path: Path) -> tuple:
    """A saved book with every kind of row; returns its state as read back."""
    with BookDatabase.open(path) as db:
        db.import_portfolio(parse_portfolio(load_json("demo", "book.json")))
        db.save_manual_prices({KEY: 61_234.5})
        db.set_setting("thresholds", {"warning": 0.1, "danger": 0.05})
        db.set_setting("theme", "dark")
        for i in range(5):
            db.add_alert(1_700_000_000 + i, f"Binance main BTC long {i}", "ok", "warning", 0.08, 60_000 + i)
        db.record_history([("equity:Binance main", 1_700_000_000 + i, 10_000 + i) for i in range(50)])
        state = _state(db)
    return state


def damage_trial(base: Path, expected: tuple, folder: Path, rng: random.Random) -> str:
    """Copy base, write random bytes over its data, open and read it as the window does; the outcome's name."""
    path = folder / base.name
    shutil.copyfile(base, path)
    data = bytearray(path.read_bytes())
    valued = [i for i in range(100, len(data)) if data[i]]  # bytes that hold something (not free zeroes)
    start = rng.choice(valued) if rng.random() < 0.85 else rng.randrange(100, len(data))
    for i in range(start, min(len(data), start + rng.randint(1, 8))):
        data[i] = rng.randrange(256)
    path.write_bytes(bytes(data))
    damaged = bytes(data)
    try:
        with BookDatabase.open(path) as db:
            if db.notice.moved_aside is not None:
                kept = db.notice.moved_aside.read_bytes() == damaged
                return "moved aside" if kept and db.is_empty() else "moved aside, bytes NOT kept"
            db.load()
            book, records = _state(db)
    except (StorageError, PortfolioError) as e:
        return "refused, one line" if "\n" not in str(e) and str(e) else "refused, unclear message"
    except Exception:
        return "TRACEBACK"
    if book != expected[0]:
        return "SILENT change of the book"
    return "opened unchanged" if records == expected[1] else "alert/history record changed"


def damage_run(trials: int, seed: int) -> Counter[str]:
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base" / "marginwatch.sqlite3"
        expected = make_saved_book(base)
        for n in range(trials):
            folder = Path(tmp) / f"t{n}"
            folder.mkdir()
            outcomes[damage_trial(base, expected, folder, rng)] += 1
            shutil.rmtree(folder)
    return outcomes


CHILD = textwrap.dedent("""
    import sys
    from engine.margin.model import MarginMode, Position, Side
    from engine.storage.database import BookDatabase
    db = BookDatabase.open(sys.argv[1])
    for i in range(100000):
        db.add_position(Position("a", "BTC/USDT:USDT", Side.LONG, 1 + i, 60000, MarginMode.CROSS, 5, note=str(i)))
        print(i, flush=True)
""")


def kill_run(kills: int, seed: int) -> Counter[str]:
    """SIGKILL a writer mid-stream `kills` times; counts of kills, committed writes lost and bad opens."""
    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(kills):
            path = Path(tmp) / f"k{n}" / "marginwatch.sqlite3"
            with BookDatabase.open(path) as db:
                db.import_portfolio(
                    parse_portfolio(
                        {"accounts": [{"name": "a", "exchange": "binanceusdm", "wallet_balance": 1e9}], "positions": []}
                    )
                )
            child = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
            )
            assert child.stdout is not None
            after, committed = rng.randint(1, 80), -1
            for line in child.stdout:
                committed = int(line)
                if committed >= after:
                    time.sleep(rng.uniform(0, 0.004))  # somewhere inside the next transaction
                    child.send_signal(signal.SIGKILL)
                    break
            child.wait(30)
            counts["kills"] += child.returncode == -signal.SIGKILL
            try:
                with BookDatabase.open(path) as db:
                    notes = [p.note for p in db.load().book.positions]
                    counts["books moved aside after a kill"] += db.notice.moved_aside is not None
            except Exception:
                counts["books not opened after a kill"] += 1
                continue
            want = [str(i) for i in range(committed + 1)]
            counts["committed writes lost"] += sum(1 for a, b in zip(want, notes, strict=False) if a != b)
            counts["committed writes lost"] += max(0, len(want) - len(notes))
            counts["committed writes"] += len(want)
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=30)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    started = time.perf_counter()
    kills = kill_run(args.kills, args.seed)
    damage = damage_run(args.trials, args.seed)
    rows = [
        ("kills during writes (SIGKILL)", kills["kills"]),
        ("committed writes checked", kills["committed writes"]),
        ("committed writes lost", kills["committed writes lost"]),
        ("books moved aside after a kill", kills["books moved aside after a kill"]),
        ("books not opened after a kill", kills["books not opened after a kill"]),
        ("damaged-row trials", sum(damage.values())),
        *((f"  {name}", count) for name, count in sorted(damage.items())),
        ("silent changes of the book", damage["SILENT change of the book"]),
        ("tracebacks", damage["TRACEBACK"]),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'fault':<{width}}  count")
    for name, count in rows:
        print(f"{name:<{width}}  {count:>5}")
    print(f"({time.perf_counter() - started:.1f} s, seed {args.seed})")
    bad = kills["committed writes lost"] + damage["SILENT change of the book"] + damage["TRACEBACK"]
    bad += damage["moved aside, bytes NOT kept"] + damage["refused, unclear message"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
