"""The tick, lot and minimum order of every market from its exchange's public market list, without an API key:
a live feed (real ccxt against the fake Binance on 127.0.0.1, whose exchangeInfo carries Binance's PRICE_FILTER
and LOT_SIZE filters) publishes them, the book takes them where its Binance tiers stay bundled, the saved book
keeps them with their read time (schema step 11; an older book migrates with none), and the file's increments
win over them, as they win over the bundled ones."""

from __future__ import annotations

import dataclasses
import sqlite3
import time

import pytest

from engine.book.increments import round_down_to_lot, round_to_tick
from engine.book.portfolio import parse_portfolio
from engine.margin.listed_increments import Increments, with_listed_increments
from engine.margin.tiers import bundled_market
from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_feed import CcxtFeed
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.prices import PriceStore
from engine.monitor.fetched_tables import FetchedTables, with_fetched
from engine.storage.database import BookDatabase
from engine.storage.migrations import MIGRATIONS, migrate
from engine.storage.stored_tiers import stored_fetched_tables
from tests.engine.test_ccxt_feed import wait_for
from tests.fake_exchange.server import FakeBinance
from tests.portfolio_docs import portfolio_doc, position_doc

EX, BTC, SOL = "binanceusdm", "BTC/USDT:USDT", "SOL/USDT:USDT"
# Binance USDⓈ-M SOLUSDT's exchangeInfo filters: PRICE_FILTER tickSize 0.0100, LOT_SIZE stepSize 1, minQty 1.
SOL_STEPS = (0.01, 1.0, 1.0)
STEP = next(k for k, script in enumerate(MIGRATIONS) if "CREATE TABLE fetched_increments" in script)
"""The index of the step that adds the table (step 11)."""


def sol_book(**markets):
    """A keyless Binance user's book: a SOL long (its tiers bundled, its increments not) beside a BTC one."""
    return portfolio_doc(
        position_doc(SOL, "long", 20, 140, "cross", 5), position_doc(BTC, "long", 0.1, 60_000, "cross", 10), **markets
    )


def steps(market) -> tuple[float, float, float]:
    return market.tick_size, market.lot_size, market.min_contracts


@pytest.fixture(scope="module")
def listed() -> dict:
    """What a keyless feed published after loading the fake Binance's markets (REST; it runs until it has)."""
    with FakeBinance() as fake:
        feed = CcxtFeed(
            EX,
            [SOL, BTC],
            PriceStore(),
            ExchangeSettings(fake.ccxt_config(), Transport.REST),
            poll_interval=0.05,
            backoff=Backoff(initial=0.05, cap=0.2),
        )
        feed.start()
        try:
            wait_for(lambda: feed.increments_version and feed.tiers_version, what="the market list and the tiers")
        finally:
            assert feed.stop(), "feed thread did not end"
        tables = FetchedTables()
        return {
            "at": time.time(),
            "note": feed.tier_note,
            "tiers": tables.new([feed]),
            "increments": tables.new_increments([feed]),
            "again": tables.new_increments([feed]),
        }


def test_a_keyless_feed_publishes_the_increments_the_market_list_gives(listed):
    assert "only with an API key" in listed["note"]  # Binance's tiers need a key: none fetched
    assert listed["tiers"] == {}
    sol = listed["increments"][EX][SOL]
    assert steps(sol) == SOL_STEPS
    assert listed["at"] - 30 < sol.fetched_at <= listed["at"]
    assert steps(listed["increments"][EX][BTC]) == (0.1, 0.001, 0.001)  # tickSize 0.10, stepSize 0.001
    assert listed["again"] == {}  # taken once per read of the list
    # Every contract the exchange lists, not only the feed's symbols: a what-if may open one.
    assert set(listed["increments"][EX]) == {BTC, "ETH/USDT:USDT", SOL, "DOGE/USDT:USDT"}


def test_the_book_rounds_a_non_bundled_symbol_on_the_listed_tick_and_lot(listed):
    before = parse_portfolio(sol_book())
    assert steps(before.book.markets[(EX, SOL)]) == (0.0, 0.0, 0.0)  # bundled tiers, increments unknown
    portfolio, problems = with_fetched(before, listed["tiers"], listed["increments"])
    assert problems == []
    market = portfolio.book.markets[(EX, SOL)]
    assert steps(market) == SOL_STEPS
    assert (market.tiers_from, market.tiers) == ("bundled", before.book.markets[(EX, SOL)].tiers)  # tiers unchanged
    assert round_to_tick(142.3149, market.tick_size) == pytest.approx(142.31)
    assert round_down_to_lot(6.9, market.lot_size) == 6.0
    # A symbol not held yet resolves with them too, as the what-if resolves a new trade's market.
    assert portfolio.market_overrides.increments[(EX, SOL)] == listed["increments"][EX][SOL]


def test_the_files_increments_win_over_the_listed_ones_which_win_over_the_bundled(listed):
    doc = sol_book(markets={f"{EX}:{SOL}": {"tick_size": 0.05}})
    portfolio = parse_portfolio(doc, None, {(EX, s): i for s, i in listed["increments"][EX].items()})
    assert steps(portfolio.book.markets[(EX, SOL)]) == (0.05, 1.0, 1.0)  # the file's tick, the list's lot
    bundled = bundled_market(EX, BTC)
    assert bundled is not None and steps(bundled) == (0.1, 0.001, 0.001)
    moved = Increments(0.2, 0.002, 0.002, time.time())  # Binance changed BTCUSDT's filters since the bundle
    assert steps(with_listed_increments(bundled, moved)) == (0.2, 0.002, 0.002)


def test_a_fetched_table_read_after_the_list_keeps_its_own_increments():
    bundled = bundled_market(EX, BTC)
    assert bundled is not None
    fetched = dataclasses.replace(bundled, tiers_from="fetched", tiers_at=2_000.0, tick_size=0.1, lot_size=0.0)
    older = Increments(0.5, 0.01, 0.01, fetched_at=1_000.0)
    assert steps(with_listed_increments(fetched, older)) == (0.1, 0.01, 0.001)  # only its unknown lot filled in
    newer = dataclasses.replace(older, fetched_at=3_000.0)
    assert steps(with_listed_increments(fetched, newer)) == (0.5, 0.01, 0.01)
    assert with_listed_increments(fetched, Increments()) is fetched  # nothing known: nothing changed


def test_stored_increments_come_back_with_their_read_time_and_an_offline_book_uses_them(tmp_path, listed):
    path = tmp_path / "book.sqlite3"
    with BookDatabase.open(path) as db:
        db.import_portfolio(parse_portfolio(sol_book()))
        db.save_fetched_increments(EX, listed["increments"][EX])
    with BookDatabase.open(path) as db:  # the next start, offline
        assert db.fetched_increments()[(EX, SOL)] == listed["increments"][EX][SOL]
        assert steps(db.load().book.markets[(EX, SOL)]) == SOL_STEPS
        assert db.notice.moved_aside is None  # a cache outside the book's checksum
    markets, increments = stored_fetched_tables(path)  # a window on a portfolio file, `risk`: read-only
    assert markets == {} and steps(increments[(EX, SOL)]) == SOL_STEPS
    with BookDatabase.open(path) as db:  # a newer read replaces the row
        db.save_fetched_increments(EX, {SOL: Increments(0.001, 0.1, 0.1, 5.0)})
        assert db.fetched_increments()[(EX, SOL)] == Increments(0.001, 0.1, 0.1, 5.0)


def test_a_book_saved_before_the_step_migrates_with_no_increments_then_keeps_them(tmp_path, listed):
    path = tmp_path / "book.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)  # a book of the schema before the step
    migrate(connection, target=STEP)
    connection.execute(
        "INSERT INTO account (name, exchange, wallet_balance, currency, position_mode) "
        "VALUES ('main', 'binanceusdm', 10000, 'USDT', 'oneway')"
    )
    connection.execute(
        "INSERT INTO position (account_id, ordinal, symbol, side, contracts, entry_price, margin_mode, leverage) "
        "VALUES (1, 0, 'SOL/USDT:USDT', 'long', 20, 140, 'cross', 5)"
    )
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('book_sha256', 'pending')")
    connection.close()
    assert stored_fetched_tables(path) == ({}, {})  # read-only: migrated in memory, the file untouched
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == STEP
    connection.close()
    with BookDatabase.open(path) as db:
        assert db.notice.moved_aside is None
        assert db.fetched_increments() == {}
        assert steps(db.load().book.markets[(EX, SOL)]) == (0.0, 0.0, 0.0)  # unknown until a feed reads the list
        db.save_fetched_increments(EX, listed["increments"][EX])
    with BookDatabase.open(path) as db:
        assert steps(db.load().book.markets[(EX, SOL)]) == SOL_STEPS


def test_the_step_applies_after_every_older_schema(tmp_path):
    connection = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    migrate(connection, target=STEP)
    assert not connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'fetched_increments'").fetchall()
    migrate(connection)
    columns = [row[1] for row in connection.execute("PRAGMA table_info(fetched_increments)")]
    assert columns == ["exchange", "symbol", "fetched_at", "tick_size", "lot_size", "min_contracts"]
    connection.close()
