"""Schema versions and the forward migrations between them (PRAGMA user_version holds the version).

Each step is one script applied in one transaction. Never edit a released step: add the next one.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: the book, manual prices, settings and alerts.
    """
    CREATE TABLE account (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        exchange TEXT NOT NULL,
        wallet_balance REAL NOT NULL,
        currency TEXT NOT NULL,
        position_mode TEXT NOT NULL CHECK (position_mode IN ('oneway', 'hedge'))
    );
    CREATE TABLE position (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES account(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL CHECK (side IN ('long', 'short')),
        contracts REAL NOT NULL CHECK (contracts > 0),
        entry_price REAL NOT NULL CHECK (entry_price > 0),
        margin_mode TEXT NOT NULL CHECK (margin_mode IN ('isolated', 'cross')),
        leverage REAL NOT NULL CHECK (leverage > 0),
        isolated_margin REAL NOT NULL DEFAULT 0,
        hypothetical INTEGER NOT NULL DEFAULT 0,
        note TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX position_order ON position(ordinal);
    CREATE TABLE manual_price (
        symbol TEXT PRIMARY KEY,
        mark REAL NOT NULL CHECK (mark > 0)
    );
    CREATE TABLE setting (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE alert (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        subject TEXT NOT NULL,
        old_level TEXT NOT NULL,
        new_level TEXT NOT NULL,
        distance REAL,
        mark REAL
    );
    """,
    # 2: market overrides from the portfolio file, kept as the JSON the file had.
    """
    CREATE TABLE market_override (
        key TEXT PRIMARY KEY,
        spec TEXT NOT NULL
    );
    """,
    # 3: a bounded price and equity history for the charts.
    """
    CREATE TABLE history (
        series TEXT NOT NULL,
        at REAL NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (series, at)
    ) WITHOUT ROWID;
    """,
    # 4: manual prices per exchange and symbol (exchange '' holds the portfolio file's 'prices', which
    # apply on every exchange), and the book's checksum, computed by the first open after this step.
    """
    CREATE TABLE manual_price_4 (
        exchange TEXT NOT NULL DEFAULT '',
        symbol TEXT NOT NULL,
        mark REAL NOT NULL CHECK (mark > 0),
        PRIMARY KEY (exchange, symbol)
    );
    INSERT INTO manual_price_4 (exchange, symbol, mark) SELECT '', symbol, mark FROM manual_price ORDER BY rowid;
    DROP TABLE manual_price;
    ALTER TABLE manual_price_4 RENAME TO manual_price;
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO meta (key, value) VALUES ('book_sha256', 'pending');
    """,
    # 5: the account type (Bybit's unified or classic account: different margin rules); every account saved
    # before is a unified one, the default. The book's checksum covers the new column: recomputed on open.
    """
    ALTER TABLE account ADD COLUMN account_type TEXT NOT NULL DEFAULT 'unified'
        CHECK (account_type IN ('unified', 'classic'));
    INSERT OR REPLACE INTO meta (key, value) VALUES ('book_sha256', 'pending');
    """,
    # 6: sync with the exchanges (engine.sync): an account's public wallet address, a position's sync time
    # and the exchange's own liquidation price, and the log of syncs (closed positions kept there).
    """
    ALTER TABLE account ADD COLUMN wallet_address TEXT NOT NULL DEFAULT '';
    ALTER TABLE position ADD COLUMN synced_at REAL;
    ALTER TABLE position ADD COLUMN exchange_liquidation_price REAL CHECK (exchange_liquidation_price > 0);
    CREATE TABLE sync_log (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        account TEXT NOT NULL,
        ok INTEGER NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE INDEX sync_log_account ON sync_log(account, at);
    INSERT OR REPLACE INTO meta (key, value) VALUES ('book_sha256', 'pending');
    """,
    # 7: tier tables fetched from the exchanges, one row per (exchange, symbol): a cache outside the book and
    # its checksum (engine.storage.fetched_markets), used offline with its age.
    """
    CREATE TABLE fetched_market (
        exchange TEXT NOT NULL,
        symbol TEXT NOT NULL,
        fetched_at REAL NOT NULL,
        source TEXT NOT NULL,
        spec TEXT NOT NULL,
        PRIMARY KEY (exchange, symbol)
    );
    """,
    # 8: a position's take-profit and stop-loss prices (quote currency; NULL when not set). The book's checksum
    # covers the new columns: recomputed on open.
    """
    ALTER TABLE position ADD COLUMN take_profit REAL CHECK (take_profit > 0);
    ALTER TABLE position ADD COLUMN stop_loss REAL CHECK (stop_loss > 0);
    INSERT OR REPLACE INTO meta (key, value) VALUES ('book_sha256', 'pending');
    """,
    # 9: hourly candle closes fetched through ccxt for the volatility of the probability of liquidation (a
    # cache, outside the book's checksum): hour = the candle's open time in Unix seconds / 3600.
    """
    CREATE TABLE candle (
        exchange TEXT NOT NULL,
        symbol TEXT NOT NULL,
        hour INTEGER NOT NULL,
        close REAL NOT NULL CHECK (close > 0),
        fetched_at REAL NOT NULL,
        PRIMARY KEY (exchange, symbol, hour)
    ) WITHOUT ROWID;
    """,
    # 10: funding rates typed in the window per exchange and symbol (a fraction per interval; interval_hours NULL:
    # the venue's), part of the book and its checksum like manual prices: recomputed on open.
    """
    CREATE TABLE typed_funding (
        exchange TEXT NOT NULL,
        symbol TEXT NOT NULL,
        rate REAL NOT NULL CHECK (rate > -1 AND rate < 1),
        interval_hours REAL CHECK (interval_hours > 0 AND interval_hours <= 24),
        PRIMARY KEY (exchange, symbol)
    );
    INSERT OR REPLACE INTO meta (key, value) VALUES ('book_sha256', 'pending');
    """,
    # 11: each market's tick, lot and minimum order as its exchange's public market list gave them, with when (a
    # cache outside the book's checksum, engine.storage.fetched_increments; 0: unknown).
    """
    CREATE TABLE fetched_increments (
        exchange TEXT NOT NULL,
        symbol TEXT NOT NULL,
        fetched_at REAL NOT NULL,
        tick_size REAL NOT NULL CHECK (tick_size >= 0),
        lot_size REAL NOT NULL CHECK (lot_size >= 0),
        min_contracts REAL NOT NULL CHECK (min_contracts >= 0),
        PRIMARY KEY (exchange, symbol)
    ) WITHOUT ROWID;
    """,
)

LATEST = len(MIGRATIONS)


def version_of(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA user_version").fetchone()[0])


def migrate(connection: sqlite3.Connection, target: int = LATEST) -> int:
    """Apply every step after the database's version up to target; each step all or nothing."""
    current = version_of(connection)
    for step in range(current, target):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {step + 1}")
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return version_of(connection)
