"""`marginwatch watch` as a user runs it: against the fake exchange through --exchange-config, and offline."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.fake_exchange.server import FakeBinance
from tests.portfolio_docs import portfolio_doc, position_doc
from tests.test_cli import marginwatch

BOOK = portfolio_doc(
    position_doc(),
    position_doc("ETH/USDT:USDT", "short", 4, 3_000, "isolated", 20),
    wallet_balance=8_000,
    prices={"BTC/USDT:USDT": 50_000, "ETH/USDT:USDT": 2_500},
)


@pytest.fixture
def book_file(tmp_path: Path) -> Path:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(BOOK))
    return path


def lines(result: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_watch_prints_the_marks_the_server_sent(tmp_path, book_file):
    with FakeBinance() as fake:
        fake.set_mark("BTCUSDT", "61234.50")
        config = tmp_path / "exchanges.json"
        config.write_text(json.dumps({"binanceusdm": {"ccxt": fake.ccxt_config(), "transport": "websocket"}}))
        result = marginwatch(
            "watch", str(book_file), "--exchange-config", str(config), "--interval", "1.5", "--count", "2", "--json"
        )
    assert result.returncode == 0, result.stderr
    reports = [line for line in lines(result) if "positions" in line]
    assert len(reports) == 2
    last = reports[-1]
    assert list(last) == ["accounts", "positions"]
    btc, eth = last["positions"]
    assert (btc["mark_price"], btc["price_source"]) == (61234.50, "live")
    assert (eth["mark_price"], eth["price_source"]) == (3050.25, "live")
    assert 0 <= btc["price_age_s"] < 5
    assert btc["unrealized_pnl"] == pytest.approx(0.5 * (61234.50 - 60_000))
    assert last["accounts"][0]["equity"] == pytest.approx(8_000 + 0.5 * 1234.5 + 4 * (3_000 - 3050.25))


def test_missing_prices_show_as_missing_not_zero_and_a_never_priced_run_fails(tmp_path, book_file):
    config = tmp_path / "exchanges.json"
    dead = {"timeout": 300, "urls": {"api": {"fapiPublic": "http://127.0.0.1:9/fapi/v1"}}}
    config.write_text(json.dumps({"binanceusdm": {"ccxt": dead, "transport": "rest"}}))
    result = marginwatch(
        "watch", str(book_file), "--exchange-config", str(config), "--interval", "0.5", "--count", "1", "--json"
    )
    # Every position is reported, none on a made-up price; a run that never priced one fails (exit 3).
    assert result.returncode == 3, result.stderr
    assert "no price ever arrived for BTC/USDT:USDT on binanceusdm, ETH/USDT:USDT on binanceusdm" in result.stderr
    (report,) = [line for line in lines(result) if "positions" in line]  # feed state lines come too
    assert [row["symbol"] for row in report["positions"]] == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    for row in report["positions"]:
        assert row["mark_price"] is None and row["price_source"] == "missing" and row["liquidation_price"] is None
        assert row["incomplete"] == f"no mark price yet for {row['symbol']} on binanceusdm"
    assert report["accounts"][0]["equity"] is None and report["accounts"][0]["margin_ratio"] is None
    assert report["accounts"][0]["incomplete"].startswith("incomplete: no mark price yet for BTC/USDT:USDT")
    assert report["accounts"][0]["wallet_balance"] == 8_000


def test_offline_watch_uses_the_file_prices_and_prints_crossings(book_file):
    result = marginwatch("watch", str(book_file), "--offline", "--interval", "0.3", "--count", "1", "--json")
    assert result.returncode == 0, result.stderr
    records = lines(result)
    report = next(r for r in records if "positions" in r)
    assert [p["price_source"] for p in report["positions"]] == ["manual", "manual"]
    assert report["positions"][0]["mark_price"] == 50_000
    crossings = [r["crossing"] for r in records if "crossing" in r]
    # BTC long at 50,000 after entry 60,000 with 7,400 USDT of cross wallet: about 9% from liquidation.
    assert any("BTC/USDT:USDT long" in c["subject"] and (c["old"], c["new"]) == ("ok", "warning") for c in crossings)


def test_watch_text_mode_names_the_feed_state(book_file):
    result = marginwatch("watch", str(book_file), "--offline", "--interval", "0.3", "--count", "1")
    assert result.returncode == 0
    assert "offline: manual prices" in result.stdout and "liq. price" in result.stdout


def test_bad_exchange_config_exits_2(tmp_path, book_file):
    config = tmp_path / "exchanges.json"
    config.write_text(json.dumps({"binanceusdm": {"transport": "carrier-pigeon"}}))
    result = marginwatch("watch", str(book_file), "--exchange-config", str(config), "--count", "1")
    assert result.returncode == 2
    assert "'transport' must be auto, rest or websocket" in result.stderr


def test_watch_names_an_exchange_no_feed_can_price_at_start(tmp_path):
    doc = {
        "accounts": [{"name": "perps", "exchange": "dydx", "wallet_balance": 1000, "currency": "USDC"}],
        "positions": [],
    }
    path = tmp_path / "dydx.json"
    path.write_text(json.dumps(doc))
    result = marginwatch("watch", str(path), "--count", "1", "--interval", "0.1", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "marginwatch: warning: dydx offers no public price method in ccxt: type its prices by hand "
        "(Prices dock, or 'prices' in the portfolio file)"
    ]


@pytest.mark.parametrize(("option", "value"), [("--alert-probability", "abc"), ("--alert-probability", "150")])
def test_a_bad_probability_threshold_is_one_line_and_exit_2(book_file, option, value):
    result = marginwatch("watch", str(book_file), "--offline", "--count", "1", f"{option}={value}")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "--alert-probability: " in result.stderr, result.stderr


def test_watch_alerts_on_the_probability_of_liquidation(tmp_path):
    doc = json.loads(json.dumps(BOOK))
    doc["markets"] = {"BTC/USDT:USDT": {"volatility": 0.9}, "ETH/USDT:USDT": {"volatility": 1.0}}
    path = tmp_path / "book.json"
    path.write_text(json.dumps(doc))
    result = marginwatch(
        "watch", str(path), "--offline", "--interval", "1", "--count", "2", "--json", "--alert-probability", "0.001%"
    )
    assert result.returncode == 0, result.stderr
    alerts = [line["probability"] for line in lines(result) if "probability" in line]
    assert alerts and all(a["threshold"] == 0.00001 and a["horizon_hours"] == 24 for a in alerts)
    assert any(a["subject"] == "main BTC/USDT:USDT long" and a["probability"] >= 0.00001 for a in alerts)
    assert all(a["text"].startswith("P(liq 24h) rose above 0.001%: ") for a in alerts)


@pytest.mark.slow  # ~7 s: a real fetch of 30 days of candles; the refresher itself is tested in tests/engine
def test_watch_online_fetches_candles_in_the_background_for_its_probability_alerts(tmp_path, book_file):
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    data = tmp_path / "data"
    data.mkdir()
    BookDatabase.open(database_path(str(data))).close()  # a saved book to keep the candles with
    with FakeBinance() as fake:  # the file types no volatility and no candles were ever fetched
        config = tmp_path / "exchanges.json"
        config.write_text(json.dumps({"binanceusdm": {"ccxt": fake.ccxt_config(), "transport": "rest"}}))
        result = marginwatch(
            "watch", str(book_file), "--exchange-config", str(config), "--data-dir", str(data), "--interval", "1.5",
            "--count", "3", "--json", "--alert-probability", "0.001%",
        )  # fmt: skip
        asked = fake.requests["/fapi/v1/klines"]
    assert result.returncode == 0, result.stderr
    feeds = [line["feed"] for line in lines(result) if "feed" in line]
    assert any(f["exchange"] == "candles" and f["status"] == "live" for f in feeds), feeds
    alerts = [line["probability"] for line in lines(result) if "probability" in line]
    # No volatility typed and none stored: the ETH figure (2.86% from liquidation) is the candles'.
    assert any(a["subject"] == "main ETH/USDT:USDT short" and 0.2 < a["probability"] < 0.8 for a in alerts), alerts
    assert asked >= 2
    with BookDatabase.open(database_path(str(data)), read_only=True) as db:
        keys = [("binanceusdm", "BTC/USDT:USDT"), ("binanceusdm", "ETH/USDT:USDT")]
        assert set(db.candles_fetched_at(keys)) == set(keys)


def test_watch_raises_a_price_alert_of_the_file_that_is_already_crossed(tmp_path):
    below = {"exchange": "binanceusdm", "symbol": "BTC/USDT:USDT", "direction": "below", "price": 55_000}
    above = {"exchange": "binanceusdm", "symbol": "ETH/USDT:USDT", "direction": "above", "price": 2_600}
    path = tmp_path / "alerts.json"
    path.write_text(json.dumps({**BOOK, "price_alerts": [below, above]}))
    result = marginwatch("watch", str(path), "--offline", "--interval", "0.3", "--count", "1", "--json")
    assert result.returncode == 0, result.stderr
    (record,) = [r["price_alert"] for r in lines(result) if "price_alert" in r]  # ETH at 2,500 is not above 2,600
    text = "BTC/USDT:USDT on binanceusdm is already below 55,000.00 USDT, mark 50,000.00"
    assert {k: record[k] for k in ("kind", "exchange", "symbol", "direction", "price", "mark", "already", "text")} == {
        "kind": "price",
        "exchange": "binanceusdm",
        "symbol": "BTC/USDT:USDT",
        "direction": "below",
        "price": 55_000,
        "mark": 50_000,
        "already": True,
        "text": text,
    }
    plain = marginwatch("watch", str(path), "--offline", "--interval", "0.3", "--count", "1")
    assert f"PRICE      {text}" in plain.stdout


def test_watch_says_at_start_that_a_price_alert_on_a_symbol_it_does_not_price_cannot_fire(tmp_path):
    ghost = {"exchange": "binanceusdm", "symbol": "XRP/USDT:USDT", "direction": "above", "price": 3}
    path = tmp_path / "ghost.json"
    path.write_text(json.dumps({**BOOK, "price_alerts": [ghost]}))
    result = marginwatch("watch", str(path), "--offline", "--interval", "0.3", "--count", "1", "--json")
    assert result.returncode == 0, result.stderr
    (record,) = [r["price_alert_unpriced"] for r in lines(result) if "price_alert_unpriced" in r]
    assert record == {
        **ghost,
        "text": "XRP/USDT:USDT on binanceusdm above 3 USDT: no price (no position of the book is on it); "
        "it cannot fire",
    }


def test_watch_refuses_a_bad_price_alert_in_one_line_exit_2(tmp_path):
    bad = {"exchange": "binanceusdm", "symbol": "BTC/USDT:USDT", "direction": "below", "price": -1}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**BOOK, "price_alerts": [bad]}))
    result = marginwatch("watch", str(path), "--offline", "--count", "1")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith("price alert 1: 'price' must be a price greater than 0 (got -1)")


def test_watch_of_the_saved_book_uses_the_funding_rates_typed_in_the_window(tmp_path):
    from engine.book.funding_fields import FileFunding
    from engine.book.portfolio import parse_portfolio
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(parse_portfolio(BOOK))
        db.save_typed_funding({("binanceusdm", "ETH/USDT:USDT"): FileFunding(-0.0002, 4.0)})
    result = marginwatch(
        "watch", "--data-dir", str(tmp_path), "--offline", "--interval", "0.3", "--count", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    eth = next(p for p in lines(result)[-1]["positions"] if p["symbol"] == "ETH/USDT:USDT")
    assert (eth["funding_rate"], eth["funding_interval_hours"], eth["funding_rate_source"]) == (-0.0002, 4.0, "typed")
    assert eth["funding_per_day"] == pytest.approx(-4 * 2_500 * 0.0002 * 6)  # a negative rate: shorts pay longs
