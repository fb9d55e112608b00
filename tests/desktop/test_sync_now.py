"""Account ▸ Sync now in the window: the exchange is read off the GUI thread, the book is reconciled, saved and
shown, and a failure is status in words that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from desktop.app import WindowOptions, build_window
from engine.book.portfolio import parse_portfolio
from engine.margin.model import Side
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.fake_exchange.binance_account import KEY, SECRET, FakePosition
from tests.fake_exchange.server import FakeBinance

OUR_BTC_LIQUIDATION = 20_000 / 0.498  # tests/engine/test_sync_binance.py


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


@pytest.fixture
def window(qtbot, tmp_path, fake, monkeypatch):
    fake.reset()
    fake.account.positions[("BTCUSDT", "BOTH")] = FakePosition("0.500", "60000.00", 10, liquidation="40500.00")
    monkeypatch.setenv("MARGINWATCH_MAIN_API_KEY", KEY)
    monkeypatch.setenv("MARGINWATCH_MAIN_SECRET", SECRET)
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(
            parse_portfolio({"accounts": [{"name": "main", "exchange": "binanceusdm", "wallet_balance": 0}]})
        )
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    window.actions_.sync.settings = {"binanceusdm": fake.ccxt_config()}
    window.auto_sync.use_interval(None)  # these tests are about the click (tests/desktop/test_auto_sync.py: without)
    monkeypatch.setattr(window.actions_.host, "selected_account", lambda: "main")
    yield window, database_path(str(tmp_path))
    window.close()
    fake.reset()


def test_sync_now_brings_the_exchanges_positions_into_the_window_and_the_saved_book(qtbot, window):
    window, db_file = window
    sync = window.actions_.sync
    with qtbot.waitSignal(sync.done, timeout=15_000) as done:
        sync.action.trigger()
    sync.worker.join(5)
    gap = OUR_BTC_LIQUIDATION - 40_500
    assert done.args[0] == (
        "main synced: 1 opened, 0 changed, 0 closed, 0 in conflict; CHECK BTC/USDT:USDT long: ours "
        f"{OUR_BTC_LIQUIDATION:,.2f} USDT, the exchange's 40,500.00 USDT (difference {gap:+,.2f} USDT)"
    )
    (btc,) = window.portfolio.book.positions
    assert (btc.side, btc.contracts, btc.synced, btc.exchange_liquidation_price) == (Side.LONG, 0.5, True, 40_500.0)
    assert window.portfolio.book.account("main").wallet_balance == 10_000.0
    window.close()
    with BookDatabase.open(db_file) as db:
        assert db.load().book.positions == window.portfolio.book.positions
        assert db.sync_history("main")[0]["ok"] is True


def test_a_failed_sync_is_status_and_changes_nothing(qtbot, window, fake):
    window, db_file = window
    fake.account.api_key = "rotated-key"
    sync = window.actions_.sync
    before = window.portfolio
    with qtbot.waitSignal(sync.done, timeout=15_000) as done:
        sync.action.trigger()
    sync.worker.join(5)
    assert done.args[0].startswith("main: sync failed: binanceusdm refused the key")
    assert window.portfolio == before
    window.close()
    with BookDatabase.open(db_file) as db:
        assert db.load().book.positions == () and db.sync_history("main")[0]["ok"] is False
