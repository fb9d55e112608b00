"""`marginwatch watch` and `risk` on a portfolio file whose accounts and positions carry their own thresholds."""

from __future__ import annotations

import json
from pathlib import Path

from tests.portfolio_docs import portfolio_doc, position_doc
from tests.test_cli import marginwatch

# BTC long 0.5 @ 60,000 cross 10x at 50,000: ~9% from liquidation (warning at the global 15%); ETH short 4 @ 3,000
# isolated 20x at 2,500: ~25% from liquidation (ok at the global 15%, warning at its own 30%).
BOOK = portfolio_doc(
    position_doc(),
    position_doc("ETH/USDT:USDT", "short", 4, 3_000, "isolated", 20, thresholds={"distance_warning": 0.3}),
    wallet_balance=8_000,
    prices={"BTC/USDT:USDT": 50_000, "ETH/USDT:USDT": 2_500},
)


def _file(tmp_path: Path, doc) -> Path:
    path = tmp_path / "book.json"
    path.write_text(json.dumps(doc))
    return path


def test_watch_alerts_a_position_at_its_own_threshold_and_says_so(tmp_path):
    result = marginwatch("watch", str(_file(tmp_path, BOOK)), "--offline", "--interval", "0.3", "--count", "1")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    eth = [line for line in lines if "ETH/USDT:USDT short: ok → warning" in line]
    btc = [line for line in lines if "BTC/USDT:USDT long: ok → warning" in line]
    assert len(eth) == 1 and "(position threshold 30%)" in eth[0]
    assert len(btc) == 1 and "threshold" not in btc[0]  # the global thresholds: nothing to say


def test_watch_refuses_a_bad_override_in_one_line_naming_the_field_with_exit_2(tmp_path):
    doc = json.loads(json.dumps(BOOK))
    doc["positions"][1]["thresholds"] = {"distance_warning": 0.3, "distance_danger": 0.4}
    path = str(_file(tmp_path, doc))
    for args in (("watch", path, "--offline", "--count", "1"), ("risk", path)):
        result = marginwatch(*args)
        assert result.returncode == 2, (args, result.stderr)
        [line] = result.stderr.strip().splitlines()
        assert "position 2 (ETH/USDT:USDT)" in line and "thresholds.distance_danger" in line


def test_risk_json_days_to_warning_follow_the_accounts_own_warning_ratio(tmp_path):
    doc = json.loads(json.dumps(BOOK))
    doc["markets"] = {"BTC/USDT:USDT": {"funding_rate": 0.001, "funding_interval_hours": 8}}
    plain = json.loads(marginwatch("risk", str(_file(tmp_path, doc)), "--json").stdout)
    doc["accounts"][0]["thresholds"] = {"ratio_warning": 0.2, "ratio_danger": 0.5}
    own = json.loads(marginwatch("risk", str(_file(tmp_path, doc)), "--json").stdout)
    days = [r["accounts"][0]["days_to_warning_by_funding"] for r in (plain, own)]
    assert all(d is not None for d in days) and days[1] < days[0]
