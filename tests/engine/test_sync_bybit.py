"""Sync with real ccxt against the fake Bybit (v5) on 127.0.0.1, whose signed endpoints check the key, the HMAC
signature and the time stamp window as Bybit does (tests/fake_exchange/bybit_account.py).

Bybit's unified account keeps one margin mode for the whole account (GET /v5/account/info marginMode) and ccxt
4.5 leaves each position's marginMode None: the reader asks the account's mode once and fills it in."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from engine.book.portfolio import parse_portfolio
from engine.margin.model import MarginMode, Side
from engine.storage.database import BookDatabase
from engine.sync.errors import SyncError, SyncFailure
from engine.sync.exchange_state import position_from_ccxt
from engine.sync.keys import Credentials, store_credentials
from engine.sync.reader import AccountReader
from engine.sync.run import sync_account
from tests.fake_exchange.bybit import FakeBybit
from tests.fake_exchange.bybit_account import KEY, READ_PATHS, SECRET, BybitPosition

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBybit]:
    with FakeBybit() as server:
        yield server


@pytest.fixture(autouse=True)
def reset_fake(fake: FakeBybit) -> Iterator[None]:
    fake.reset()
    # 0.5 BTC long at 60,000 with 10x: 3,000 USDT of initial margin; 2 ETH short at 3,100 with 5x: 1,240 USDT.
    fake.account.positions["BTCUSDT"] = BybitPosition("Buy", "0.500", "60000.00", "10", "40160.64", "3000.00")
    fake.account.positions["ETHUSDT"] = BybitPosition("Sell", "2.00", "3100.00", "5", "3650.00", "1240.00")
    yield
    fake.reset()


@pytest.fixture
def db(tmp_path) -> Iterator[BookDatabase]:
    with BookDatabase.open(tmp_path / "marginwatch.sqlite3") as database:
        database.import_portfolio(
            parse_portfolio({"accounts": [{"name": "main", "exchange": "bybit", "wallet_balance": 0}]})
        )
        yield database


@pytest.fixture
def sync(fake, db, test_keyring):
    store_credentials("main", Credentials(KEY, SECRET))

    def run():
        return sync_account(db, "main", {"bybit": fake.ccxt_config()})

    return run


def test_a_unified_account_in_regular_margin_syncs_its_positions_as_cross(sync, db, fake):
    result = sync()
    assert result.ok, result.error
    btc, eth = db.load().book.positions
    assert (btc.symbol, btc.side, btc.contracts, btc.entry_price, btc.leverage) == (BTC, Side.LONG, 0.5, 60_000, 10)
    assert (eth.symbol, eth.side, eth.contracts, eth.entry_price, eth.leverage) == (ETH, Side.SHORT, 2, 3_100, 5)
    assert {btc.margin_mode, eth.margin_mode} == {MarginMode.CROSS}
    assert (btc.isolated_margin, eth.isolated_margin) == (0, 0)
    assert btc.synced and btc.exchange_liquidation_price == 40_160.64 and eth.exchange_liquidation_price == 3_650
    # Bybit's walletBalance of USDT, without the uPnL (+500.25 BTC, -99.50 ETH at the fake's marks)
    assert db.load().book.account("main").wallet_balance == 10_000.0


def test_a_first_sync_fetches_and_stores_the_risk_limits_no_table_had(sync, db, fake):
    assert db.fetched_markets() == {}  # Bybit has no bundled table: without these the book rules refuse BTC
    assert sync().ok
    assert set(db.fetched_markets()) == {("bybit", BTC), ("bybit", ETH)}
    assert [t.max_notional for t in db.load().book.markets[("bybit", BTC)].tiers] == [2_000_000, 2_600_000, 3_200_000]
    asked = fake.requests["/v5/market/risk-limit"]
    assert sync().ok and fake.requests["/v5/market/risk-limit"] == asked  # stored: not fetched again


def test_a_unified_account_in_isolated_margin_syncs_isolated_with_each_positions_initial_margin(sync, db, fake):
    fake.account.margin_mode = "ISOLATED_MARGIN"
    result = sync()
    assert result.ok, result.error
    btc, eth = db.load().book.positions
    assert (btc.margin_mode, btc.isolated_margin) == (MarginMode.ISOLATED, 3_000)
    assert (eth.margin_mode, eth.isolated_margin) == (MarginMode.ISOLATED, 1_240)


def test_portfolio_margin_fails_in_words_and_leaves_the_book_unchanged(sync, db, fake):
    assert sync().ok
    before = db.load()
    fake.account.margin_mode = "PORTFOLIO_MARGIN"
    fake.account.positions.pop("ETHUSDT")  # it would close ETH, had the sync gone on
    result = sync()
    assert result.error.kind is SyncFailure.NOT_SUPPORTED
    assert "portfolio margin, which Margin Watch does not model" in str(result.error)
    assert db.load() == before
    assert db.sync_history("main")[0]["ok"] is False


def test_a_classic_account_reads_each_positions_trade_mode(sync, db, fake):
    fake.account.unified_status = 1  # classic: the mode is per position (tradeMode), not the account's
    fake.account.positions["BTCUSDT"].trade_mode = 1
    fake.account.positions["ETHUSDT"].trade_mode = "0"
    result = sync()
    assert result.ok, result.error
    btc, eth = db.load().book.positions
    assert (btc.margin_mode, btc.isolated_margin, eth.margin_mode) == (MarginMode.ISOLATED, 3_000, MarginMode.CROSS)


def test_a_sync_calls_only_read_endpoints(sync, fake):
    assert sync().ok
    assert fake.account.signed and all(method == "GET" and path in READ_PATHS for method, path in fake.account.signed)
    assert {path for _, path in fake.account.signed} == {
        "/v5/position/list",
        "/v5/account/info",  # ccxt's unified-account check, and the account's margin mode
        "/v5/user/query-api",  # ccxt's unified-account check before the balance
        "/v5/account/wallet-balance",
    }


@pytest.mark.parametrize(
    ("key", "secret", "words"),
    [
        ("some-other-key", SECRET, '"API key is invalid."'),
        (KEY, "not-the-secret", '"Error sign, please check your signature generation algorithm."'),
    ],
)
def test_a_bad_key_or_secret_fails_in_words_and_changes_nothing(sync, db, fake, key, secret, words):
    assert sync().ok
    before = db.load()
    store_credentials("main", Credentials(key, secret))
    result = sync()
    assert result.error.kind is SyncFailure.INVALID_KEY
    assert "bybit: the API key or secret is not valid" in str(result.error) and words in str(result.error)
    assert db.load() == before


def test_clock_skew_is_said_with_its_size(sync, db, fake):
    fake.account.clock_offset_ms = -30_000  # Bybit's clock 30 s behind ours: our stamps are in its future
    result = sync()
    assert result.error.kind is SyncFailure.CLOCK_SKEW
    assert result.error.skew_s == pytest.approx(30.0, abs=1.0)
    said = re.search(
        r"this computer's clock is (\d+\.\d) s ahead of the exchange's; it accepts requests within 5 s",
        str(result.error),
    )
    assert said and float(said.group(1)) == pytest.approx(30.0, abs=1.0)  # 29.9 on a loaded machine: the round trip
    assert db.load().book.positions == ()


FORBIDDEN = [
    ("create_order", (BTC, "market", "buy", 0.1)),
    ("cancel_order", ("123", BTC)),
    ("set_leverage", (20, BTC)),
    ("set_margin_mode", ("isolated", BTC)),
    ("withdraw", ("USDT", 10, "TXaddress")),
]


@pytest.mark.parametrize(("method", "args"), FORBIDDEN, ids=[m for m, _ in FORBIDDEN])
def test_the_reader_refuses_anything_that_trades_moves_or_changes_margin(fake, method, args):
    reader = AccountReader("bybit", Credentials(KEY, SECRET), settings=fake.ccxt_config())
    reader._client.load_markets()
    with pytest.raises(SyncError) as refused:
        getattr(reader._client, method)(*args)
    assert refused.value.kind is SyncFailure.READ_ONLY
    assert not [(m, p) for m, p in fake.account.signed if m != "GET"]  # never sent


@pytest.mark.parametrize(("trade_mode", "mode"), [(0, MarginMode.CROSS), (1, MarginMode.ISOLATED), ("1", "isolated")])
def test_bybits_classic_trade_mode_gives_the_margin_mode_ccxt_leaves_out(trade_mode, mode):
    item = {
        "symbol": BTC,
        "side": "long",
        "contracts": 0.5,
        "entryPrice": 60_000,
        "leverage": 10,
        "marginMode": None,
        "initialMargin": 3_000,
        "info": {"tradeMode": trade_mode},
    }
    position = position_from_ccxt("bybit", item)
    assert position.margin_mode is MarginMode(mode)
    assert position.isolated_margin == (3_000 if mode == "isolated" else 0)
    with pytest.raises(SyncError, match="has no side or margin mode"):
        position_from_ccxt("bybit", {**item, "info": {"tradeMode": 7}})
