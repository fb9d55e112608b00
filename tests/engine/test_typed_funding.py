"""Funding rates typed in the window: read and bounded as the file's are, ranked against the exchange's and the
file's in the FundingBook, saved with the book (and a file's funding rates kept by every door that rebuilds it)."""

from __future__ import annotations

import sqlite3

import pytest

from engine.book.funding_fields import FileFunding
from engine.book.portfolio import parse_portfolio
from engine.book.positions_csv import import_positions_csv
from engine.book.typed_funding import FundingRefused, read_typed_rate, typed_rate
from engine.funding.rates import FundingBook, FundingRate, RateSource
from engine.monitor.fetched_tables import with_fetched
from engine.monitor.session import WatchSession
from engine.storage.checksum import book_checksum, verify
from engine.storage.database import BookDatabase, StorageError
from engine.storage.migrations import LATEST, migrate
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = "BTC/USDT:USDT"
KEY = ("binanceusdm", BTC)


@pytest.mark.parametrize(
    ("rate", "hours", "expected"),
    [
        ("0.01", "", FileFunding(0.0001, None)),
        ("-0.025 %", "4", FileFunding(-0.00025, 4.0)),
        ("0.0100%", "1h", FileFunding(0.0001, 1.0)),
        ("99.99", "24", FileFunding(0.9999, 24.0)),
    ],
)
def test_a_typed_rate_is_a_percent_per_interval(rate, hours, expected):
    got = read_typed_rate(rate, hours)
    assert got.rate == pytest.approx(expected.rate) and got.interval_hours == expected.interval_hours


@pytest.mark.parametrize(
    ("rate", "hours", "field", "words"),
    [
        ("", "", "rate", "enter a funding rate"),
        ("0,01", "", "rate", "use a dot for decimals"),
        ("100", "", "rate", "between -100% and 100%"),
        ("-100", "", "rate", "between -100% and 100%"),
        ("0.01", "0", "interval", "from 1 minute (0.0167) to 24 hours"),
        ("0.01", "1e-320", "interval", "from 1 minute (0.0167) to 24 hours"),
        ("0.01", "48", "interval", "not 48"),
        ("0.01", "eight", "interval", "'eight' is not a number"),
    ],
)
def test_a_bad_typed_rate_is_refused_naming_its_field(rate, hours, field, words):
    with pytest.raises(FundingRefused) as refused:
        read_typed_rate(rate, hours)
    assert refused.value.field == field and words in str(refused.value)


def _rate(value: float, source: RateSource, fetched_at: float = 0.0) -> FundingRate:
    return FundingRate("binanceusdm", BTC, value, 8.0, None, fetched_at, source)


def test_typed_wins_over_the_file_a_fresh_exchange_rate_over_both_and_removing_typed_brings_back_the_file():
    book = FundingBook([_rate(0.0001, RateSource.FILE)])
    typed = typed_rate(KEY, FileFunding(0.0003, None), now=10.0)
    assert typed.source is RateSource.TYPED and typed.interval_hours == 8  # Binance's interval
    assert book.publish([typed]) == 1 and book.get(KEY) == typed
    assert book.publish([_rate(0.0002, RateSource.FILE)]) == 0  # the book's file rates published again
    assert book.get(KEY) == typed
    assert book.withdraw(KEY, RateSource.TYPED).rate == 0.0002 and book.get(KEY).source is RateSource.FILE
    assert book.withdraw(KEY, RateSource.FILE) is None and book.get(KEY) is None
    live = _rate(0.0005, RateSource.EXCHANGE, fetched_at=20.0)
    book.publish([live])
    assert book.publish([typed_rate(KEY, FileFunding(0.0009, None), now=30.0)], now=30.0) == 0
    assert book.get(KEY) == live and book.held(KEY, RateSource.TYPED).rate == 0.0009
    version = book.version
    assert book.withdraw(KEY, RateSource.TYPED) == live and book.version == version  # nothing shown changed


def test_the_session_shows_a_typed_rate_over_the_files_after_a_new_book():
    portfolio = parse_portfolio(
        portfolio_doc(position_doc(), prices={BTC: 61_000}, markets={BTC: {"funding_rate": 1e-4}})
    )
    session = WatchSession(portfolio, clock=lambda: 1_000.0)
    session.funding.publish([typed_rate(KEY, FileFunding(-0.0002, 4.0), 1_000.0)])
    session.use_portfolio(portfolio)  # an edit: the file's rates are published again
    row = session.step({}).rows[0]
    assert row.funding is not None and (row.funding.rate, row.funding.interval_hours) == (-0.0002, 4.0)
    assert row.funding.source is RateSource.TYPED


def test_typed_rates_are_saved_with_the_book_removed_and_covered_by_its_checksum(tmp_path):
    path = tmp_path / "book.db"
    with BookDatabase.open(path) as db:
        db.save_typed_funding({KEY: FileFunding(0.0001, None), ("okx", BTC): FileFunding(-0.0003, 4.0)})
        with pytest.raises(StorageError):
            db.save_typed_funding({KEY: None, ("okx", BTC): FileFunding(1.5, None)})  # nothing saved
    with BookDatabase.open(path) as db:
        assert db.typed_funding() == {KEY: FileFunding(0.0001, None), ("okx", BTC): FileFunding(-0.0003, 4.0)}
        db.save_typed_funding({KEY: None})
        assert db.typed_funding() == {("okx", BTC): FileFunding(-0.0003, 4.0)}
    connection = sqlite3.connect(path, isolation_level=None)
    assert verify(connection) is True
    connection.execute("UPDATE typed_funding SET rate = 0.0009")
    assert verify(connection) is False  # a changed rate is damage the next open sees
    connection.close()


def test_a_book_from_before_typed_funding_verifies_then_migrates(tmp_path):
    path = tmp_path / "old.db"
    connection = sqlite3.connect(path, isolation_level=None)
    migrate(connection, target=LATEST - 1)
    connection.execute("INSERT INTO setting (key, value) VALUES ('theme', '\"dark\"')")
    connection.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('book_sha256', ?)", (book_checksum(connection),)
    )
    assert verify(connection) is True  # the table it lacks is not hashed
    connection.close()
    with BookDatabase.open(path) as db:
        assert db.setting("theme") == "dark" and db.typed_funding() == {}
        db.save_typed_funding({KEY: FileFunding(0.0001, 8.0)})
    with BookDatabase.open(path, read_only=True) as db:
        assert db.typed_funding() == {KEY: FileFunding(0.0001, 8.0)}


def _file_book():
    doc = portfolio_doc(position_doc(), prices={BTC: 61_000}, markets={f"binanceusdm:{BTC}": {"funding_rate": 2e-4}})
    return parse_portfolio(doc)


def test_the_saved_book_keeps_a_files_funding_rates_on_import(tmp_path):
    portfolio = _file_book()
    with BookDatabase.open(tmp_path / "book.db") as db:
        db.import_portfolio(portfolio)
        assert db.load().funding == {f"binanceusdm:{BTC}": FileFunding(2e-4, None)}


def test_a_csv_import_and_fetched_tiers_keep_the_files_funding_rates():
    portfolio = _file_book()
    csv = "account,symbol,side,contracts,entry_price,margin_mode,leverage\nmain,ETH/USDT:USDT,long,1,3000,cross,5\n"
    added = import_positions_csv(csv, portfolio)
    assert len(added.book.positions) == 2 and added.funding == portfolio.funding
    fetched, _ = with_fetched(portfolio, {"binanceusdm": {}})
    assert fetched.funding == portfolio.funding


@pytest.mark.parametrize("text", ["-0", "-0.000 %", "0"])
def test_a_typed_zero_is_zero_never_minus_zero(text):
    assert str(read_typed_rate(text).rate) == "0.0"  # not -0.0, shown '-0.0000%'


@pytest.mark.parametrize("text", ["1e-400", "-2.5e-330 %", "1e-323"])
def test_a_nonzero_rate_that_reads_as_zero_is_refused(text):
    with pytest.raises(FundingRefused) as refused:
        read_typed_rate(text)
    assert refused.value.field == "rate"
    assert str(refused.value).endswith("is too small to store (it reads as 0); type 0 for none")
