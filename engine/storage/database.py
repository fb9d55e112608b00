"""The user's book in SQLite: accounts, positions, manual prices, settings, alerts and price history.

Safety first: WAL journal with synchronous=FULL (a write reported committed survives a crash or a
power cut); every user action is one transaction, so nothing is ever half-saved; the file is
readable and writable by its owner only. Problems come back as StorageError with a message that
says what happened and what to do: a locked database, a read-only folder, a full disk. A corrupt
file is moved aside (never deleted) and a fresh one started; a file from a newer Margin Watch is
refused without being touched.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.model import Position
from engine.portfolio import Portfolio, parse_portfolio, portfolio_to_dict
from engine.storage.migrations import LATEST, migrate, version_of


class StorageError(Exception):
    """Something the user must know about the saved book; the message says what to do."""


@dataclass(frozen=True)
class OpenNotice:
    """What opening the database had to do that the user should hear about (shown once)."""

    moved_aside: Path | None = None
    message: str = ""


def _translate(error: sqlite3.Error, path: Path) -> StorageError:
    text = str(error).lower()
    if "locked" in text or "busy" in text:
        return StorageError(f"{path} is locked by another program (is Margin Watch open twice?); nothing was saved")
    if "full" in text:
        return StorageError(f"the disk holding {path} is full; nothing was saved: free some space and try again")
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StorageError(
            f"{path.parent} cannot be written to; nothing was saved: choose another folder with "
            f"--data-dir or MARGINWATCH_DATA_DIR"
        )
    if "disk i/o" in text:
        return StorageError(f"the disk holding {path} reported an I/O error; nothing was saved")
    return StorageError(f"{path}: {error}")


def _healthy(path: Path) -> tuple[bool, int]:
    """(integrity ok, schema version) of an existing file, read-only: the file is not modified."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=2.0)) as connection:
            version = version_of(connection)
            ok = connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            return ok, version
    except sqlite3.DatabaseError as e:
        text = str(e).lower()
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return False, 0
        raise _translate(e, path) from e  # locked, unreadable, read-only media: not damage


class BookDatabase:
    def __init__(self, connection: sqlite3.Connection, path: Path, notice: OpenNotice) -> None:
        self._connection = connection
        self.path = path
        self.notice = notice

    # -- opening -----------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path, timeout: float = 2.0) -> BookDatabase:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as e:
            raise StorageError(
                f"cannot create the data folder {path.parent}: {e.strerror or e}; choose another "
                f"with --data-dir or MARGINWATCH_DATA_DIR"
            ) from e
        notice = OpenNotice()
        if path.exists() and path.stat().st_size > 0:
            ok, version = _healthy(path)
            if ok and version > LATEST:
                raise StorageError(
                    f"{path} was saved by a newer Margin Watch (schema {version}; this one knows "
                    f"{LATEST}); it was left untouched: update Margin Watch to open it"
                )
            if not ok:
                try:
                    aside = cls._move_aside(path)
                except OSError as e:
                    raise StorageError(
                        f"the saved book at {path} is damaged and could not be moved aside "
                        f"({e.strerror or e}); it was left as it is: choose another folder with "
                        f"--data-dir or MARGINWATCH_DATA_DIR"
                    ) from e
                notice = OpenNotice(
                    aside,
                    f"The saved book at {path} was damaged and could not be read. It was "
                    f"moved to {aside} (nothing was deleted) and a new, empty book started.",
                )
        try:
            if not path.exists():
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # SQLite gives -wal/-shm this mode too
            os.chmod(path, 0o600)
            connection = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            migrate(connection)
        except OSError as e:
            raise StorageError(
                f"cannot open {path}: {e.strerror or e}; choose another folder with --data-dir or MARGINWATCH_DATA_DIR"
            ) from e
        except sqlite3.Error as e:
            raise _translate(e, path) from e
        return cls(connection, path, notice)

    @staticmethod
    def _move_aside(path: Path) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        shutil.move(path, aside)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                shutil.move(side, aside.with_name(aside.name + suffix))
        return aside

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> BookDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One user action: BEGIN IMMEDIATE ... COMMIT, or nothing at all."""
        connection = self._connection
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise _translate(e, self.path) from e
        try:
            yield connection
            connection.execute("COMMIT")
        except sqlite3.Error as e:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise _translate(e, self.path) from e
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._connection.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise _translate(e, self.path) from e

    # -- the book ----------------------------------------------------------------------------------

    def document(self) -> dict[str, Any]:
        """The saved book as a version-1 portfolio document (manual prices as its 'prices')."""
        accounts = self._read(
            "SELECT id, name, exchange, wallet_balance, currency, position_mode FROM account ORDER BY id"
        )
        names = {row[0]: row[1] for row in accounts}
        positions = self._read(
            "SELECT account_id, symbol, side, contracts, entry_price, margin_mode, leverage, isolated_margin, "
            "hypothetical, note FROM position ORDER BY ordinal, id"
        )
        doc: dict[str, Any] = {
            "version": 1,
            "accounts": [
                {"name": n, "exchange": e, "wallet_balance": w, "currency": c, "position_mode": m}
                for _, n, e, w, c, m in accounts
            ],
            "positions": [],
        }
        for account_id, symbol, side, contracts, entry, mode, leverage, isolated, hypothetical, note in positions:
            item: dict[str, Any] = {
                "account": names[account_id],
                "symbol": symbol,
                "side": side,
                "contracts": contracts,
                "entry_price": entry,
                "margin_mode": mode,
                "leverage": leverage,
            }
            if mode == "isolated":
                item["isolated_margin"] = isolated
            if hypothetical:
                item["hypothetical"] = True
            if note:
                item["note"] = note
            doc["positions"].append(item)
        prices = dict(self._read("SELECT symbol, mark FROM manual_price ORDER BY rowid"))
        if prices:
            doc["prices"] = prices
        markets = {
            key: json.loads(spec) for key, spec in self._read("SELECT key, spec FROM market_override ORDER BY rowid")
        }
        if markets:
            doc["markets"] = markets
        return doc

    def load(self) -> Portfolio:
        """The saved book, validated exactly like a portfolio file."""
        return parse_portfolio(self.document())

    def is_empty(self) -> bool:
        return not self._read("SELECT 1 FROM account LIMIT 1")

    def import_portfolio(self, portfolio: Portfolio, replace: bool = False) -> None:
        """Add a portfolio's accounts, positions, prices and markets, or replace the whole book: all or nothing."""
        incoming = portfolio_to_dict(portfolio)
        with self._transaction() as c:
            if replace:
                for table in ("position", "account", "manual_price", "market_override"):
                    c.execute(f"DELETE FROM {table}")
            else:
                taken = {row[0] for row in c.execute("SELECT name FROM account")}
                clash = [a["name"] for a in incoming["accounts"] if a["name"] in taken]
                if clash:
                    raise StorageError(
                        f"the saved book already has an account named '{clash[0]}'; nothing was "
                        f"imported (use --replace to replace the whole book)"
                    )
            ids = {}
            for a in incoming["accounts"]:
                cursor = c.execute(
                    "INSERT INTO account (name, exchange, wallet_balance, currency, position_mode) VALUES (?,?,?,?,?)",
                    (a["name"], a["exchange"], a["wallet_balance"], a["currency"], a["position_mode"]),
                )
                ids[a["name"]] = cursor.lastrowid
            start = c.execute("SELECT COALESCE(MAX(ordinal), -1) + 1 FROM position").fetchone()[0]
            for offset, position in enumerate(portfolio.book.positions):
                self._insert_position(c, ids[position.account], start + offset, position)
            for symbol, mark in incoming.get("prices", {}).items():
                c.execute("INSERT OR REPLACE INTO manual_price (symbol, mark) VALUES (?, ?)", (symbol, mark))
            for key, spec in incoming.get("markets", {}).items():
                c.execute("INSERT OR REPLACE INTO market_override (key, spec) VALUES (?, ?)", (key, json.dumps(spec)))

    @staticmethod
    def _insert_position(c: sqlite3.Connection, account_id: int, ordinal: int, p: Position) -> int:
        cursor = c.execute(
            "INSERT INTO position (account_id, ordinal, symbol, side, contracts, entry_price, margin_mode, leverage, "
            "isolated_margin, hypothetical, note) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                account_id,
                ordinal,
                p.symbol,
                p.side.value,
                p.contracts,
                p.entry_price,
                p.margin_mode.value,
                p.leverage,
                p.isolated_margin,
                int(p.hypothetical),
                p.note,
            ),
        )
        return int(cursor.lastrowid or 0)

    def add_position(self, position: Position) -> int:
        """Append one position (its account must exist); returns its id."""
        with self._transaction() as c:
            row = c.execute("SELECT id FROM account WHERE name = ?", (position.account,)).fetchone()
            if row is None:
                raise StorageError(f"unknown account '{position.account}'; nothing was saved")
            ordinal = c.execute("SELECT COALESCE(MAX(ordinal), -1) + 1 FROM position").fetchone()[0]
            return self._insert_position(c, row[0], ordinal, position)

    def position_count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM position")[0][0])

    # -- prices, settings, alerts ------------------------------------------------------------------

    def set_manual_price(self, symbol: str, mark: float) -> None:
        if not (isinstance(mark, int | float) and math.isfinite(mark) and mark > 0):
            raise StorageError("a manual price must be a number greater than 0")
        with self._transaction() as c:
            c.execute("INSERT OR REPLACE INTO manual_price (symbol, mark) VALUES (?, ?)", (symbol, float(mark)))

    def clear_manual_price(self, symbol: str) -> None:
        with self._transaction() as c:
            c.execute("DELETE FROM manual_price WHERE symbol = ?", (symbol,))

    def set_setting(self, key: str, value: Any) -> None:
        with self._transaction() as c:
            c.execute("INSERT OR REPLACE INTO setting (key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def setting(self, key: str, default: Any = None) -> Any:
        rows = self._read("SELECT value FROM setting WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    def add_alert(
        self, at: float, subject: str, old: str, new: str, distance: float | None, mark: float | None
    ) -> None:
        with self._transaction() as c:
            c.execute(
                "INSERT INTO alert (at, subject, old_level, new_level, distance, mark) VALUES (?,?,?,?,?,?)",
                (at, subject, old, new, distance, mark),
            )

    def alerts(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = self._read(
            "SELECT at, subject, old_level, new_level, distance, mark FROM alert ORDER BY at DESC, id DESC LIMIT ?",
            (limit,),
        )
        keys = ("at", "subject", "old", "new", "distance", "mark")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    # -- history -----------------------------------------------------------------------------------

    def record_history(self, samples: Sequence[tuple[str, float, float]]) -> None:
        """Append (series, time, value) samples in one transaction (call from a writer thread, not the GUI)."""
        with self._transaction() as c:
            c.executemany("INSERT OR REPLACE INTO history (series, at, value) VALUES (?, ?, ?)", samples)

    def history(self, series: str, since: float = 0.0) -> list[tuple[float, float]]:
        return [
            (at, v)
            for at, v in self._read(
                "SELECT at, value FROM history WHERE series = ? AND at >= ? ORDER BY at", (series, since)
            )
        ]

    def thin_history(
        self, now: float | None = None, policy: Mapping[float, float] | None = None, keep_for: float = 365 * 86_400
    ) -> int:
        """Thin old samples so the file stays small after months: keep one sample per bucket by age.

        policy maps an age (seconds) to the bucket width used beyond it; the default keeps full
        resolution for a day, one sample a minute up to 30 days, one an hour after that, and drops
        samples older than a year. Returns the number of rows removed.
        """
        now = time.time() if now is None else now
        policy = policy or {86_400: 60, 30 * 86_400: 3_600}
        removed = 0
        with self._transaction() as c:
            removed += c.execute("DELETE FROM history WHERE at < ?", (now - keep_for,)).rowcount
            ages = sorted(policy)
            for i, age in enumerate(ages):
                bucket = policy[age]
                older_than = now - age
                newer_than = now - ages[i + 1] if i + 1 < len(ages) else now - keep_for
                # Keep the first sample of each bucket: drop a row when its series has an earlier one in
                # the same bucket (a range seek on the primary key, so months of samples thin quickly).
                removed += c.execute(
                    "DELETE FROM history AS h WHERE h.at < :old AND h.at >= :new AND EXISTS ("
                    "  SELECT 1 FROM history AS k WHERE k.series = h.series"
                    "  AND k.at >= CAST(h.at / :bucket AS INTEGER) * :bucket AND k.at < h.at)",
                    {"old": older_than, "new": newer_than, "bucket": bucket},
                ).rowcount
        return removed
