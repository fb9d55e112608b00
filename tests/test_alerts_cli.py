"""`marginwatch watch --alerts-config` as a user runs it: a position already past warning at start-up posts one
JSON alert to a local webhook within seconds, and nothing more for it; the heartbeat is pinged; a bad config
is one line naming the field, exit 2."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.alert_receiver import AlertReceiver
from tests.portfolio_docs import portfolio_doc, position_doc
from tests.test_cli import marginwatch

ROOT = Path(__file__).resolve().parents[1]

# BTC long 0.5 @ 60,000, cross 10x, marked at 50,000 with 7,400 USDT of cross wallet: about 9% from
# liquidation (warning); ETH short 4 @ 3,000 at 2,500 is far from it.
BOOK = portfolio_doc(
    position_doc(),
    position_doc("ETH/USDT:USDT", "short", 4, 3_000, "isolated", 20),
    wallet_balance=8_000,
    prices={"BTC/USDT:USDT": 50_000, "ETH/USDT:USDT": 2_500},
)


@pytest.fixture
def files(tmp_path):
    book = tmp_path / "book.json"
    book.write_text(json.dumps(BOOK))
    config = tmp_path / "alerts.json"
    return book, config


@pytest.fixture(autouse=True)
def no_real_keyring(monkeypatch):
    """The command runs in a subprocess: it must never read the machine's keyring; and it runs this tree's code
    (an installed `marginwatch` may come from another checkout)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    for name in [n for n in os.environ if n.startswith(("MARGINWATCH_ALERT_", "MARGINWATCH_HEARTBEAT_"))]:
        monkeypatch.delenv(name)


def test_a_position_already_past_warning_posts_one_alert_at_start_up_and_nothing_more(files, monkeypatch):
    book, config = files
    config.write_text(json.dumps({"channels": [{"name": "ops", "type": "webhook", "min_level": "warning"}]}))
    with AlertReceiver() as rx:
        monkeypatch.setenv("MARGINWATCH_ALERT_OPS_URL", rx.url("/hook"))
        started = time.monotonic()
        result = marginwatch(
            "watch",
            str(book),
            "--offline",
            "--alerts-config",
            str(config),
            "--interval",
            "0.5",
            "--count",
            "4",
            "--json",
        )
        assert result.returncode == 0, result.stderr
        posted = [r.json() for r in rx.requests]
        first_at = rx.requests[0].at if rx.requests else None
    btc = [p for p in posted if p["symbol"] == "BTC/USDT:USDT"]
    assert len(btc) == 1, posted  # four reports, one step every 0.25 s: one alert, never repeated
    (alert,) = btc
    assert first_at is not None and first_at - started < 5  # within seconds of start (the process start included)
    assert {k: alert[k] for k in ("kind", "account", "exchange", "side", "level", "previous_level", "mark")} == {
        "kind": "level",
        "account": "main",
        "exchange": "binanceusdm",
        "side": "long",
        "level": "warning",
        "previous_level": "ok",
        "mark": 50_000,
    }
    report = next(json.loads(line) for line in result.stdout.splitlines() if '"positions"' in line)
    row = report["positions"][0]
    assert alert["liquidation_price"] == pytest.approx(row["liquidation_price"])
    assert alert["distance"] == pytest.approx(row["distance_to_liquidation"])
    assert 0.05 < alert["distance"] < 0.15 and alert["time"].endswith("Z")
    assert alert["text"].startswith("WARNING: main BTC/USDT:USDT long: ok → warning, +")
    assert all(p["symbol"] != "ETH/USDT:USDT" for p in posted)  # far from liquidation: no alert
    channel_lines = [json.loads(line)["channel"] for line in result.stdout.splitlines() if '"channel"' in line]
    assert [(c["name"], c["status"]) for c in channel_lines] == [("ops", "ok")]
    assert "MARGINWATCH" not in result.stdout and rx.url() not in result.stdout + result.stderr


def test_on_live_prices_from_the_fake_exchange_the_alert_comes_once_prices_arrive(files, tmp_path, monkeypatch):
    from tests.fake_exchange.server import FakeBinance

    book, config = files
    config.write_text(json.dumps({"channels": [{"name": "ops", "type": "webhook"}]}))
    exchanges = tmp_path / "exchanges.json"
    with FakeBinance() as fake, AlertReceiver() as rx:
        fake.set_mark("BTCUSDT", "50000")  # past warning, as offline
        fake.set_mark("ETHUSDT", "2500")
        exchanges.write_text(json.dumps({"binanceusdm": {"ccxt": fake.ccxt_config(), "transport": "websocket"}}))
        monkeypatch.setenv("MARGINWATCH_ALERT_OPS_URL", rx.url("/hook"))
        args = ("--exchange-config", str(exchanges), "--alerts-config", str(config), "--interval", "1", "--count", "3")
        result = marginwatch("watch", str(book), *args)
        assert result.returncode == 0, result.stderr
        posted = [r.json() for r in rx.requests]
    assert [(p["symbol"], p["level"], p["mark"]) for p in posted] == [("BTC/USDT:USDT", "warning", 50_000)]


def test_the_heartbeat_is_pinged_while_the_monitor_sees_prices(files, monkeypatch):
    book, config = files
    config.write_text(json.dumps({"channels": [], "heartbeat": {"every_s": 60}}))
    with AlertReceiver() as rx:
        monkeypatch.setenv("MARGINWATCH_HEARTBEAT_URL", rx.url("/ping/abc-123"))
        result = marginwatch(
            "watch", str(book), "--offline", "--alerts-config", str(config), "--interval", "0.3", "--count", "2"
        )
        assert result.returncode == 0, result.stderr
        pings = [(r.method, r.path) for r in rx.requests]
    assert pings == [("GET", "/ping/abc-123")]  # once at start; the next is due a minute later


def test_send_test_reaches_every_channel_and_prints_its_outcome(files, monkeypatch):
    book, config = files
    doc = {
        "channels": [
            {"name": "ops", "type": "webhook", "min_level": "liquidated"},
            {"name": "bot", "type": "telegram", "chat_id": 7},
        ]
    }
    with AlertReceiver() as rx:
        monkeypatch.setenv("MARGINWATCH_ALERT_OPS_URL", rx.url("/hook"))
        monkeypatch.setenv("MARGINWATCH_ALERT_BOT_TOKEN", "1:abc")
        doc["channels"][1]["api_url"] = rx.url("/tg")
        config.write_text(json.dumps(doc))
        args = ("--alerts-config", str(config), "--send-test", "--interval", "0.3", "--count", "1")
        result = marginwatch("watch", str(book), "--offline", *args)
        assert result.returncode == 0, result.stderr
        tests = sorted((r.path, (r.json().get("kind") or r.json()["text"][:5])) for r in rx.requests)
    # ops takes liquidated only: just its test; the bot (warning) its test and the BTC warning
    assert tests == [("/hook", "test"), ("/tg/bot1:abc/sendMessage", "TEST:"), ("/tg/bot1:abc/sendMessage", "WARNI")]
    assert "ops (webhook): ok, last sent" in result.stdout and "bot (telegram): ok, last sent" in result.stdout
    assert "1:abc" not in result.stdout + result.stderr


def test_send_test_without_a_config_is_exit_2(files):
    book, _ = files
    result = marginwatch("watch", str(book), "--offline", "--send-test", "--count", "1")
    assert (result.returncode, result.stderr) == (
        2,
        "marginwatch: --send-test: name the channels with --alerts-config FILE\n",
    )


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ({"channels": [{"name": "ops", "type": "pager"}]}, "channels[0].type: must be webhook, ntfy or telegram"),
        (
            {"channels": [{"name": "ops", "type": "webhook", "min_level": "ok"}]},
            "channels[0].min_level: must be warning, danger or liquidated",
        ),
        (
            {"channels": [{"name": "ops", "type": "webhook", "url": "https://hooks.example/T0KEN"}]},
            "channels[0].url: secrets are not written in this file: set the environment variable "
            "MARGINWATCH_ALERT_OPS_URL or the keyring (marginwatch-alerts, 'ops:url') instead",
        ),
        (
            {"channels": [{"name": "bot", "type": "telegram", "chat_id": 42}]},
            "channels[0]: no token for 'bot': set the environment variable MARGINWATCH_ALERT_BOT_TOKEN or the "
            "keyring (marginwatch-alerts, 'bot:token')",
        ),
        ({"channels": [], "feed_stale_after_s": 5}, "feed_stale_after_s: must be from 10 to 86400 (got 5)"),
    ],
)
def test_a_bad_alerts_config_is_one_line_naming_the_field_and_exit_2(files, config, line):
    book, path = files
    path.write_text(json.dumps(config))
    result = marginwatch("watch", str(book), "--offline", "--alerts-config", str(path), "--count", "1")
    assert result.returncode == 2
    assert result.stderr == f"marginwatch: {path}: {line}\n"
    assert result.stdout == ""  # nothing started


def test_a_missing_alerts_config_file_is_exit_2(files):
    book, path = files
    result = marginwatch("watch", str(book), "--offline", "--alerts-config", str(path), "--count", "1")
    assert result.returncode == 2
    assert result.stderr == f"marginwatch: {path}: cannot read the file: No such file or directory\n"
