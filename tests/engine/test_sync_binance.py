"""Sync with real ccxt against the fake Binance USDⓈ-M on 127.0.0.1, whose signed endpoints check the key, the
HMAC signature and the timestamp window as Binance does (tests/fake_exchange/binance_account.py)."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator

import pytest

from engine.book.portfolio import dumps_portfolio, parse_portfolio
from engine.margin.model import MarginMode, Side
from engine.storage.database import BookDatabase
from engine.sync import exchange_state
from engine.sync.errors import SyncError, SyncFailure
from engine.sync.keys import Credentials, store_credentials
from engine.sync.reader import AccountReader
from engine.sync.run import sync_account
from tests.fake_exchange.binance_account import KEY, READ_PATHS, SECRET, FakePosition
from tests.fake_exchange.server import FakeBinance

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
# One cross BTC long in a 10,000 USDT wallet (Binance BTCUSDT bracket 1: rate 0.4%, cum 0), at any mark:
# 10,000 + 0.5 (P - 60,000) = 0.5 P x 0.004  ->  P = 20,000 / 0.498 = 40,160.6426 USDT.
OUR_BTC_LIQUIDATION = 20_000 / 0.498


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


@pytest.fixture(autouse=True)
def reset_fake(fake: FakeBinance) -> Iterator[None]:
    fake.reset()
    fake.account.positions[("BTCUSDT", "BOTH")] = FakePosition("0.500", "60000.00", 10, liquidation="40160.64")
    yield
    fake.reset()


@pytest.fixture
def db(tmp_path) -> Iterator[BookDatabase]:
    with BookDatabase.open(tmp_path / "marginwatch.sqlite3") as database:
        database.import_portfolio(
            parse_portfolio({"accounts": [{"name": "main", "exchange": "binanceusdm", "wallet_balance": 0}]})
        )
        yield database


@pytest.fixture
def sync(fake, db, test_keyring):
    store_credentials("main", Credentials(KEY, SECRET))

    def run(**kwargs):
        return sync_account(db, "main", {"binanceusdm": fake.ccxt_config()}, **kwargs)

    return run


def test_first_sync_into_an_empty_account(sync, db, fake):
    fake.account.positions[("ETHUSDT", "BOTH")] = FakePosition("-2.000", "3100.00", 5, "isolated", "1240.0", "3650.0")
    result = sync()
    assert result.ok, result.error
    btc, eth = db.load().book.positions
    assert (btc.symbol, btc.side, btc.contracts, btc.entry_price, btc.leverage) == (BTC, Side.LONG, 0.5, 60_000.0, 10.0)
    assert btc.margin_mode is MarginMode.CROSS and btc.synced and btc.exchange_liquidation_price == 40_160.64
    assert (eth.side, eth.contracts, eth.margin_mode, eth.isolated_margin) == (
        Side.SHORT,
        2.0,
        MarginMode.ISOLATED,
        1240,
    )
    assert db.load().book.account("main").wallet_balance == 10_000.0
    assert db.last_good_sync("main") == result.at


def test_a_fill_changes_size_and_entry(sync, db, fake):
    assert sync().ok
    fake.account.positions[("BTCUSDT", "BOTH")] = FakePosition("0.800", "60375.00", 10, liquidation="47000.00")
    result = sync()
    (change,) = result.outcome.changed
    assert change.fields == ("contracts", "entry_price")
    (btc,) = db.load().book.positions
    assert (btc.contracts, btc.entry_price, btc.exchange_liquidation_price) == (0.8, 60_375.0, 47_000.0)


def test_a_position_closed_on_the_exchange_leaves_the_book_and_stays_in_the_log(sync, db, fake):
    assert sync().ok
    fake.account.positions.clear()
    result = sync()
    assert [(c.symbol, c.side) for c in result.outcome.closed] == [(BTC, Side.LONG)]
    assert db.load().book.positions == ()
    closed = db.sync_history("main")[0]["summary"]["closed"]
    assert closed[0]["symbol"] == BTC and closed[0]["before"]["contracts"] == 0.5


def test_a_hand_entered_conflict_is_kept_and_shown(sync, db):
    typed = {
        "account": "main",
        "symbol": BTC,
        "side": "long",
        "contracts": 1,
        "entry_price": 58000,
        "margin_mode": "cross",
        "leverage": 5,
    }
    db.import_portfolio(parse_portfolio({**db.document(), "positions": [typed]}), replace=True)
    result = sync()
    assert [c.before.contracts for c in result.outcome.conflicts] == [1.0]
    kept, synced = db.load().book.positions
    assert (kept.contracts, kept.entry_price, kept.hypothetical, kept.synced) == (1.0, 58_000.0, True, False)
    assert (synced.contracts, synced.synced) == (0.5, True)


@pytest.mark.parametrize(
    ("key", "secret", "kind", "words"),
    [
        ("some-other-key", SECRET, SyncFailure.KEY_REFUSED, "refused the key"),
        (KEY, "not-the-secret", SyncFailure.INVALID_KEY, "the secret does not match the API key"),
        ("bad key\u00a0", SECRET, SyncFailure.INVALID_KEY, "the API key is not valid"),
    ],
)
def test_a_bad_key_is_said_in_words_and_changes_nothing(sync, db, key, secret, kind, words):
    assert sync().ok
    before = db.load()
    store_credentials("main", Credentials(key, secret))
    result = sync()
    assert result.error.kind is kind and words in str(result.error)
    assert db.load() == before
    assert db.sync_history("main")[0]["ok"] is False


def test_clock_skew_says_by_how_much(sync, db, fake):
    fake.account.clock_offset_ms = -30_000  # the exchange's clock 30 s behind ours: our stamps are in its future
    result = sync()
    assert result.error.kind is SyncFailure.CLOCK_SKEW
    assert result.error.skew_s == pytest.approx(30.0, abs=1.0)
    assert "this computer's clock is 30.0 s ahead of the exchange's; it accepts requests within 10 s" in str(
        result.error
    )
    assert db.load().book.positions == ()


def test_a_429_is_rate_limiting(sync, fake):
    fake.fail_next("/fapi/v2/positionRisk", 429)
    result = sync()
    assert result.error.kind is SyncFailure.RATE_LIMITED
    assert "rate-limiting this machine" in str(result.error)


def test_the_exchange_down_mid_sync_loses_nothing(sync, db, fake):
    first = sync()
    saved = db.load()
    fake.account.positions.clear()  # it would close BTC, had the sync finished
    fake.fail_next("/fapi/v3/account", 503)  # positions were read, the balance is not
    result = sync()
    assert result.error.kind is SyncFailure.EXCHANGE_DOWN
    assert fake.account.signed[-2:] == [("GET", "/fapi/v2/positionRisk"), ("GET", "/fapi/v3/account")]
    assert db.load() == saved and len(saved.book.positions) == 1
    assert result.last_good == first.at


def test_the_drift_check_compares_ours_with_the_exchanges_liquidation_price(sync, fake):
    close = sync().checks[(BTC, Side.LONG)][0]
    assert close.ours == pytest.approx(OUR_BTC_LIQUIDATION)
    assert close.difference == pytest.approx(OUR_BTC_LIQUIDATION - 40_160.64) and not close.check
    fake.account.positions[("BTCUSDT", "BOTH")].liquidation = "40500.00"  # 339.36 USDT: 0.56% of 61,000.50
    far = sync().checks[(BTC, Side.LONG)][0]
    assert far.difference == pytest.approx(OUR_BTC_LIQUIDATION - 40_500.0) and far.check


FORBIDDEN = [
    ("create_order", (BTC, "market", "buy", 0.1)),
    ("cancel_order", ("123", BTC)),
    ("edit_order", ("123", BTC, "limit", "buy", 0.1, 60_000)),
    ("set_leverage", (20, BTC)),
    ("set_margin_mode", ("isolated", BTC)),
    ("add_margin", (BTC, 100)),
    ("transfer", ("USDT", 10, "future", "spot")),
    ("withdraw", ("USDT", 10, "TXaddress")),
]


def test_a_sync_calls_only_read_endpoints(sync, fake):
    assert sync().ok
    assert fake.account.signed and all(method == "GET" and path in READ_PATHS for method, path in fake.account.signed)
    assert {path for _, path in fake.account.signed} == {
        "/fapi/v1/leverageBracket",
        "/fapi/v2/positionRisk",
        "/fapi/v3/account",
    }


@pytest.mark.parametrize(("method", "args"), FORBIDDEN, ids=[m for m, _ in FORBIDDEN])
def test_the_reader_refuses_anything_that_trades_moves_or_changes_margin(fake, method, args):
    reader = AccountReader("binanceusdm", Credentials(KEY, SECRET), settings=fake.ccxt_config())
    with pytest.raises(SyncError) as refused:
        getattr(reader._client, method)(*args)
    assert refused.value.kind is SyncFailure.READ_ONLY
    assert fake.account.signed == []  # never sent


def test_no_key_bytes_in_the_database_logs_exports_or_crash_reports(sync, db, fake, caplog, tmp_path, monkeypatch):
    caplog.set_level(logging.DEBUG)
    outcomes = [sync()]
    fake.account.clock_offset_ms = -30_000
    outcomes.append(sync())
    fake.account.clock_offset_ms = 0
    fake.fail_next("/fapi/v3/account", 503)
    outcomes.append(sync())

    def bug(*args, **kwargs):
        raise RuntimeError("a bug while reading the answer")

    monkeypatch.setattr("engine.sync.reader.state_from_ccxt", bug)
    try:
        sync()
    except RuntimeError as e:
        crash_report = "".join(traceback.format_exception(e))  # what desktop.platform.crash_reporter writes
    assert "a bug while reading" in crash_report
    monkeypatch.setattr(exchange_state, "state_from_ccxt", exchange_state.state_from_ccxt)
    export = dumps_portfolio(db.load())
    messages = " ".join(str(r.error) for r in outcomes if r.error)
    db.close()
    files = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert len(files) > 0 and "30.0 s" in messages
    for secret in (KEY, SECRET):
        for where, text in (("log", caplog.text), ("export", export), ("messages", messages), ("crash", crash_report)):
            assert secret not in text, where
        assert secret.encode() not in files


def test_a_sync_keeps_the_books_funding_rates_and_volatilities(fake, tmp_path, test_keyring):
    doc = {
        "accounts": [{"name": "main", "exchange": "binanceusdm", "wallet_balance": 0}],
        "markets": {f"binanceusdm:{BTC}": {"funding_rate": 0.0002, "funding_interval_hours": 4, "volatility": 0.7}},
    }
    with BookDatabase.open(tmp_path / "marginwatch.sqlite3") as database:
        database.import_portfolio(parse_portfolio(doc))
        store_credentials("main", Credentials(KEY, SECRET))
        assert sync_account(database, "main", {"binanceusdm": fake.ccxt_config()}).ok
        saved = database.load()
    assert len(saved.book.positions) == 1
    assert (
        saved.funding[f"binanceusdm:{BTC}"].rate == 0.0002 and saved.funding[f"binanceusdm:{BTC}"].interval_hours == 4
    )
    assert saved.volatilities == {f"binanceusdm:{BTC}": 0.7}
