"""`watch --sync-every` in-process against the fake Binance with real ccxt (engine.sync.background driving the
Monitor), the schedule's rules (engine.sync.schedule), and the liquidation CHECK as an alert and a notice."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import pytest

from engine.alerts.notice import alert_notice
from engine.book.portfolio import parse_portfolio
from engine.market.prices import PriceStore
from engine.monitor.watch import Monitor, WatchOptions
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from engine.sync.background import BackgroundSync
from engine.sync.schedule import (
    BadInterval,
    SyncSchedule,
    interval_from_setting,
    interval_text,
    read_interval,
)
from tests.fake_exchange.binance_account import KEY, SECRET, FakePosition
from tests.fake_exchange.server import FakeBinance

BTC = ("binanceusdm", "BTC/USDT:USDT")
ETH = ("binanceusdm", "ETH/USDT:USDT")
OUR_BTC_LIQUIDATION = 20_000 / 0.498  # tests/engine/test_sync_binance.py


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


@pytest.fixture
def saved_book(fake, tmp_path, monkeypatch) -> Iterator[str]:
    fake.reset()
    fake.account.positions[("BTCUSDT", "BOTH")] = FakePosition("0.500", "60000.00", 10, liquidation="40500.00")
    monkeypatch.setenv("MARGINWATCH_MAIN_API_KEY", KEY)
    monkeypatch.setenv("MARGINWATCH_MAIN_SECRET", SECRET)
    path = database_path(str(tmp_path))
    with BookDatabase.open(path) as db:
        db.import_portfolio(
            parse_portfolio({"accounts": [{"name": "main", "exchange": "binanceusdm", "wallet_balance": 0}]})
        )
    yield str(path)
    fake.reset()


def watch(path: str, fake: FakeBinance, reports: int, sleep=time.sleep) -> tuple[int, list[dict]]:
    """Run the monitor on the saved book with a 0.2 s sync interval; (exit status, the JSON lines printed)."""
    with BookDatabase.open(path, read_only=True) as db:
        portfolio = db.load()
    store = PriceStore()
    store.set_manual(BTC, 61_000.0)
    store.set_manual(ETH, 3_050.0)
    out = io.StringIO()
    options = WatchOptions(interval=0.3, count=reports, as_json=True, check_every=0.05)
    syncer = BackgroundSync(path, 0.2, {"binanceusdm": fake.ccxt_config()})
    monitor = Monitor(portfolio, store, [], options, out, syncer=syncer)
    code = monitor.run(sleep=lambda s: sleep(monitor, s))
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_watch_follows_a_position_opened_on_the_exchange_between_two_syncs(saved_book, fake):
    def open_eth_once_btc_is_in(monitor: Monitor, seconds: float) -> None:
        if any(p.symbol == BTC[1] for p in monitor.book.positions):
            fake.account.positions.setdefault(("ETHUSDT", "BOTH"), FakePosition("-2", "3100.00", 5))
        time.sleep(seconds)

    code, lines = watch(saved_book, fake, 12, open_eth_once_btc_is_in)
    assert code == 0
    reports = [[p["symbol"] for p in line["positions"]] for line in lines if "positions" in line]
    assert [BTC[1]] in reports  # synced at start, before ETH was opened
    assert sorted(reports[-1]) == [BTC[1], ETH[1]]  # then ETH, with no command given
    syncs = [line["sync"] for line in lines if "sync" in line]
    assert len(syncs) >= 3 and all(s["ok"] and s["account"] == "main" for s in syncs)
    assert syncs[0]["opened"] == 1 and syncs[0]["text"] == "main synced: 1 opened, 0 changed, 0 closed, 0 in conflict"
    checks = {line["check"]["subject"]: line["check"] for line in lines if "check" in line}
    assert len(checks) == len([line for line in lines if "check" in line])  # once each, although every sync says so
    check = checks["main BTC/USDT:USDT long"]
    assert checks["main ETH/USDT:USDT short"]["exchange_liquidation_price"] is None  # the exchange gave none
    assert check["subject"] == "main BTC/USDT:USDT long"
    assert check["liquidation_price"] == pytest.approx(OUR_BTC_LIQUIDATION)
    assert check["exchange_liquidation_price"] == 40_500.0
    assert check["text"].startswith("main BTC/USDT:USDT long: liquidation CHECK, ours 40,160.64 USDT")


def test_a_failing_sync_is_a_record_retried_with_backoff_never_an_exit(saved_book, fake):
    fake.account.api_key = "rotated-key"
    code, lines = watch(saved_book, fake, 10, lambda _monitor, s: time.sleep(s))
    assert code == 0
    syncs = [line["sync"] for line in lines if "sync" in line]
    assert len(syncs) >= 3
    assert all(not s["ok"] and s["error"]["kind"] == "key refused" for s in syncs)
    assert [s["next_in_s"] for s in syncs[:3]] == pytest.approx([0.4, 0.8, 1.6])
    assert syncs[0]["text"].startswith("main: sync FAILED: binanceusdm refused the key")
    assert syncs[0]["text"].endswith("the book keeps its last good sync (it was never synced); next try in 0.4 s")
    assert all(line["positions"] == [] for line in lines if "positions" in line)


def test_one_sync_at_a_time_and_backoff_in_the_schedule():
    schedule = SyncSchedule(10.0, max_backoff=60.0)
    assert schedule.due(["a", "b"], 0.0) == "a"  # never synced: due at once
    schedule.started("a", 0.0)
    assert schedule.due(["a", "b"], 1.0) is None  # one runs: nothing else starts
    assert schedule.finished("a", True, 2.0) == 10.0
    assert schedule.due(["a", "b"], 2.0) == "b"
    schedule.started("b", 2.0)
    assert [schedule.finished("b", False, t) for t in (3.0, 4.0, 5.0, 6.0)] == [20.0, 40.0, 60.0, 60.0]
    assert schedule.failures("b") == 4
    assert schedule.finished("b", True, 7.0) == 10.0 and schedule.failures("b") == 0
    assert schedule.due(["a", "b"], 11.9) is None and schedule.due(["a", "b"], 12.0) == "a"


@pytest.mark.parametrize(
    ("typed", "seconds"), [("60", 60.0), ("90 s", 90.0), ("2 min", 120.0), ("1 h", 3600.0), ("off", None), ("0", None)]
)
def test_a_typed_interval(typed, seconds):
    assert read_interval(typed) == seconds
    assert interval_from_setting({"seconds": seconds}) == seconds


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("10", "sync interval 10 s: must be from 15 s to 24 h, or 'off'"),
        ("2 days", "'2 days' is not an interval: type seconds (60), '2 min', '1 h' or 'off'"),
        ("-20", "'-20' is not an interval: type seconds (60), '2 min', '1 h' or 'off'"),
    ],
)
def test_an_interval_under_15_s_or_unreadable_is_refused_in_words(typed, message):
    with pytest.raises(BadInterval) as e:
        read_interval(typed)
    assert str(e.value) == message


def test_a_missing_or_edited_setting_reads_as_the_default():
    assert [interval_from_setting(v) for v in (None, {}, {"seconds": 3}, {"seconds": "60"}, {"seconds": True})] == [
        60.0
    ] * 5
    assert [interval_text(s) for s in (None, 15.0, 90.0, 120.0, 7200.0)] == ["off", "15 s", "90 s", "2 min", "2 h"]


def test_the_check_alert_is_a_check_notice_with_both_liquidation_prices(saved_book, fake):
    from engine.sync.check_alerts import CheckAlerts
    from engine.sync.run import sync_account

    checks = CheckAlerts()
    with BookDatabase.open(saved_book) as db:
        first = sync_account(db, "main", {"binanceusdm": fake.ccxt_config()})
        again = sync_account(db, "main", {"binanceusdm": fake.ccxt_config()})
    (alert,) = checks.alerts(first)
    assert checks.alerts(again) == []
    notice = alert_notice(alert, {"main": "binanceusdm"}).to_json()
    assert (notice["kind"], notice["account"], notice["symbol"], notice["side"]) == (
        "check", "main", "BTC/USDT:USDT", "long",
    )  # fmt: skip
    assert notice["liquidation_price"] == pytest.approx(OUR_BTC_LIQUIDATION)
    assert notice["exchange_liquidation_price"] == 40_500.0 and notice["quote_currency"] == "USDT"
    assert notice["text"].startswith("CHECK: main BTC/USDT:USDT long: liquidation CHECK, ours 40,160.64 USDT")


def test_a_check_alert_goes_through_the_session_to_the_relay_and_any_channel(saved_book, fake):
    from engine.alerts.channels import Channel, ChannelKind
    from engine.alerts.relay import AlertRelay
    from engine.monitor.levels import Level
    from engine.monitor.session import WatchSession
    from engine.sync.check_alerts import CheckAlerts
    from engine.sync.run import sync_account
    from tests.engine.test_alert_relay import Recorder

    with BookDatabase.open(saved_book) as db:
        result = sync_account(db, "main", {"binanceusdm": fake.ccxt_config()})
        session = WatchSession(db.load())
    recorder = Recorder()
    relay = AlertRelay(recorder, {"main": "binanceusdm"}, [BTC], 15.0, 120.0, None)
    session.add_alerts(CheckAlerts().alerts(result))
    relay.on_step(session.step({}))
    relay.on_step(session.step({}))  # given once, with the next step only
    (notice,) = [n for n in recorder.notices if n.kind == "check"]
    assert (notice.account, notice.symbol, notice.exchange_liquidation_price) == ("main", BTC[1], 40_500.0)
    assert Channel("phone", ChannelKind.NTFY, Level.LIQUIDATED, url="http://127.0.0.1:1/x").accepts(notice)
