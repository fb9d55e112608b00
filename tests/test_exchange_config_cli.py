"""`marginwatch watch --exchange-config` as a user meets it: one line and exit 2 for a file that must not be
used, a warning for prices from another host, and feed state changes as JSON lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fake_exchange.server import FakeBinance
from tests.portfolio_docs import portfolio_doc
from tests.test_cli import marginwatch


@pytest.fixture
def book_file(tmp_path: Path) -> Path:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(portfolio_doc(prices={"BTC/USDT:USDT": 50_000})))
    return path


def one_line_error(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    return line


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"binanceusdm": {"ccxt": {"apiKey": "abc", "secret": "def"}}},
            "binanceusdm.ccxt.apiKey: credentials do not belong here",
        ),
        ({"bybit": {"transport": "rest"}}, "bybit: no account in the book uses this exchange"),
        ({"binanceusdm": {"ccxt": {"timout": 1}}}, "(did you mean 'timeout'?)"),
    ],
)
def test_a_config_that_must_not_be_used_is_one_line_and_exit_2(tmp_path, book_file, config, expected):
    path = tmp_path / "exchanges.json"
    path.write_text(json.dumps(config))
    result = marginwatch("watch", str(book_file), "--exchange-config", str(path), "--count", "1")
    line = one_line_error(result)
    assert line.startswith(f"marginwatch: {path}: ") and expected in line
    assert "abc" not in result.stderr  # the credential itself is never echoed


def test_json_nested_a_thousand_deep_is_one_line_and_exit_2(tmp_path, book_file):
    # Issue 14: a traceback (RecursionError), exit 1.
    path = tmp_path / "exchanges.json"
    path.write_text("[" * 1_000 + "]" * 1_000)
    result = marginwatch("watch", str(book_file), "--exchange-config", str(path), "--count", "1")
    assert one_line_error(result) == f"marginwatch: {path}: nested more than 20 levels deep"
    # The window reads the file before it opens anything: the same line, no window.
    window = marginwatch("--exchange-config", str(path), "--data-dir", str(tmp_path / "data"))
    assert one_line_error(window) == f"marginwatch: {path}: nested more than 20 levels deep"


def test_watch_warns_of_a_foreign_host_and_reports_feed_states_as_json_lines(tmp_path, book_file):
    with FakeBinance() as fake:
        path = tmp_path / "exchanges.json"
        path.write_text(json.dumps({"binanceusdm": {"ccxt": fake.ccxt_config(), "transport": "websocket"}}))
        result = marginwatch(
            "watch", str(book_file), "--exchange-config", str(path), "--interval", "1.5", "--count", "1", "--json"
        )
    assert result.returncode == 0, result.stderr
    host = f"127.0.0.1:{fake.port}"
    assert f"marginwatch: warning: binanceusdm prices via {host}, not binanceusdm's own host; plain http" in (
        result.stderr
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    feeds = [r["feed"] for r in records if "feed" in r]
    assert feeds[0]["exchange"] == "binanceusdm" and feeds[0]["status"] == "connecting"
    live = next(f for f in feeds if f["status"] == "live" and f["exchange"] == "binanceusdm")  # not its funding feed
    assert live["transport"] == "websocket: watch_mark_prices" and live["error"] is None
    assert host in live["connection"] and f"[warning: via {host}" in live["describe"]
    assert any("positions" in r for r in records)
