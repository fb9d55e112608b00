"""The window syncs its linked accounts by itself (Settings ▸ Sync linked accounts every…), against the fake
Binance with real ccxt: a position opened on the exchange shows up without a click, a failing exchange is
retried later and later and said as status, syncs never overlap, the interval is saved with the book, and a
liquidation CHECK is one alert, not one per sync."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from desktop.app import WindowOptions, build_window
from engine.book.portfolio import parse_portfolio
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.fake_exchange.binance_account import KEY, SECRET, FakePosition
from tests.fake_exchange.server import FakeBinance

FAST = 0.2
"""Seconds between syncs in these tests (users are held to 15 s and more)."""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


@pytest.fixture
def open_window(qtbot, tmp_path, fake, monkeypatch):
    fake.reset()
    fake.account.positions[("BTCUSDT", "BOTH")] = FakePosition("0.500", "60000.00", 10, liquidation="40500.00")
    monkeypatch.setenv("MARGINWATCH_MAIN_API_KEY", KEY)
    monkeypatch.setenv("MARGINWATCH_MAIN_SECRET", SECRET)
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(
            parse_portfolio({"accounts": [{"name": "main", "exchange": "binanceusdm", "wallet_balance": 0}]})
        )
    windows = []

    def open_() -> object:
        window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
        qtbot.addWidget(window)
        window.actions_.sync.settings = {"binanceusdm": fake.ccxt_config()}
        windows.append(window)
        return window

    yield open_
    for window in windows:
        window.auto_sync.use_interval(None)
        qtbot.waitUntil(lambda w=window: not w.actions_.sync.busy(), timeout=15_000)
        window.close()
    fake.reset()


def symbols(window) -> list[str]:
    return sorted(p.symbol for p in window.portfolio.book.positions)


def test_a_position_opened_on_the_exchange_reaches_the_window_without_a_click(qtbot, open_window, fake):
    window = open_window()
    window.auto_sync.use_interval(FAST)
    qtbot.waitUntil(lambda: symbols(window) == ["BTC/USDT:USDT"], timeout=15_000)
    assert window.model.rowCount() == 1
    fake.account.positions[("ETHUSDT", "BOTH")] = FakePosition("-2", "3100.00", 5, liquidation="0")
    qtbot.waitUntil(lambda: symbols(window) == ["BTC/USDT:USDT", "ETH/USDT:USDT"], timeout=15_000)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=5_000)  # drawn in the table too
    del fake.account.positions[("BTCUSDT", "BOTH")]  # closed on the exchange: leaves the book by itself
    qtbot.waitUntil(lambda: symbols(window) == ["ETH/USDT:USDT"], timeout=15_000)


def test_a_failing_exchange_is_retried_later_and_later_and_said_as_status(qtbot, open_window, fake):
    window = open_window()
    fake.account.api_key = "rotated-key"  # every signed request refused (-2015)
    schedule = window.auto_sync.schedule
    window.auto_sync.use_interval(FAST)
    qtbot.waitUntil(lambda: schedule.failures("main") >= 3, timeout=20_000)
    message = window.statusBar().currentMessage()
    assert message.startswith("main: sync failed: binanceusdm refused the key")
    assert "; next try in " in message
    tries = [entry for entry in schedule.history if entry[0] == "main"]
    gaps = [later[1] - earlier[2] for earlier, later in itertools.pairwise(tries)]
    assert gaps[0] >= FAST * 2 - 0.01 and gaps[1] >= FAST * 4 - 0.01  # backoff doubles after each failure
    assert window.portfolio.book.positions == ()  # nothing half-applied
    fake.account.api_key = KEY
    qtbot.waitUntil(lambda: schedule.failures("main") == 0, timeout=20_000)
    assert symbols(window) == ["BTC/USDT:USDT"]


def test_syncs_never_overlap_even_when_the_exchange_is_slower_than_the_interval(qtbot, open_window, fake):
    window = open_window()
    fake.delay("/fapi/v2/positionRisk", 0.6)
    window.auto_sync.use_interval(FAST)
    history = window.auto_sync.schedule.history
    qtbot.waitUntil(lambda: len(history) >= 3, timeout=20_000)
    assert all(finished - started >= 0.6 for _, started, finished, _ in history)  # each slower than the interval
    assert all(later[1] >= earlier[2] for earlier, later in itertools.pairwise(history))


def test_the_interval_is_saved_with_the_book(qtbot, open_window):
    window = open_window()
    assert window.auto_sync.interval == 60.0  # the default
    assert window.auto_sync.action.text() == "Sync linked accounts every… (60 s)"
    assert window.auto_sync.apply(120.0)
    window.close()
    window = open_window()
    assert window.auto_sync.interval == 120.0
    assert window.auto_sync.action.text() == "Sync linked accounts every… (2 min)"
    assert window.auto_sync.apply(None)
    window.close()
    window = open_window()
    assert window.auto_sync.interval is None and not window.auto_sync.timer.isActive()


def test_a_liquidation_check_is_one_alert_not_one_per_sync(qtbot, open_window, fake):
    window = open_window()
    window.auto_sync.use_interval(FAST)
    history = window.auto_sync.schedule.history
    qtbot.waitUntil(lambda: len(history) >= 4, timeout=20_000)
    qtbot.waitUntil(lambda: any(a.kind == "check" for a in window.alerts), timeout=5_000)
    checks = [a for a in window.alerts if a.kind == "check"]
    assert len(checks) == 1
    (check,) = checks
    assert check.line().startswith("main BTC/USDT:USDT long: liquidation CHECK, ours 40,160.64 USDT, the exchange's")
    assert check.check is not None and check.check.exchange == 40_500.0
    fake.account.positions[("BTCUSDT", "BOTH")].liquidation = "40160.64"  # the exchange agrees again
    seen = len(history)
    qtbot.waitUntil(lambda: len(history) >= seen + 2, timeout=20_000)
    fake.account.positions[("BTCUSDT", "BOTH")].liquidation = "39000.00"  # and then disagrees anew: a new alert
    qtbot.waitUntil(lambda: len([a for a in window.alerts if a.kind == "check"]) == 2, timeout=20_000)


def test_the_demo_book_is_never_synced_even_where_its_account_names_have_keys(qtbot, tmp_path, monkeypatch):
    """The demo's accounts are examples named as a trader's own may be ("Binance main"): with that account's key
    in the environment, neither Sync now nor the automatic sync reads an exchange; both say why."""
    from desktop.app import DEMO_NOT_SYNCED

    monkeypatch.setenv("MARGINWATCH_BINANCE_MAIN_API_KEY", KEY)
    monkeypatch.setenv("MARGINWATCH_BINANCE_MAIN_SECRET", SECRET)
    window = build_window(WindowOptions(demo=True, data_dir=str(tmp_path)))
    qtbot.addWidget(window)
    sync, auto = window.actions_.sync, window.auto_sync
    assert auto.interval is None and not auto.timer.isActive()
    assert not auto.action.isEnabled() and auto.action.toolTip() == DEMO_NOT_SYNCED
    before = window.portfolio
    assert sync.sync_account("Binance main") is False
    assert sync.worker is None and window.statusBar().currentMessage() == DEMO_NOT_SYNCED
    assert window.portfolio is before
    window.close()
