"""`marginwatch risk` as a user runs it: the installed command, its output and its exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.book.portfolio import parse_portfolio
from engine.margin.bundled import load_json, resource
from engine.margin.risk import evaluate_book
from tests.portfolio_docs import portfolio_doc, position_doc

DEMO = Path(str(resource("demo", "book.json")))
ROOT = Path(__file__).resolve().parents[1]
FUNDING_ACCOUNT_KEYS = [
    "funding_per_day", "cross_funding_per_day", "days_to_warning_by_funding", "days_to_warning_reason",
]  # fmt: skip
FUNDING_POSITION_KEYS = [
    "funding_rate", "funding_interval_hours", "funding_rate_source", "funding_rate_stale", "next_funding_time",
    "funding_payment_next", "funding_per_day", "liquidation_price_in_7d", "funding_missing",
]  # fmt: skip
ACCOUNT_KEYS = [
    "name",
    "exchange",
    "account_type",
    "rule_profile",
    "wallet_balance",
    "unrealized_pnl",
    "equity",
    "initial_margin",
    "maintenance_margin",
    "margin_ratio",
    "available_balance",
    "cross_margin_balance",
    "cross_maintenance_margin",
    "has_cross",
    "liquidated",
    "incomplete",
    "estimate",
    "estimate_reason",
    *FUNDING_ACCOUNT_KEYS,
    "liquidation_probability",
    "liquidation_probability_standard_error",
    "liquidation_probability_reason",
    "horizon_hours",
    "volatility",
    "model",
]
POSITION_KEYS = [
    "account",
    "symbol",
    "side",
    "contracts",
    "entry_price",
    "mark_price",
    "notional",
    "unrealized_pnl",
    "roe",
    "initial_margin",
    "maintenance_margin",
    "liquidation_price",
    "distance_to_liquidation",
    "margin_ratio",
    "hypothetical",
    "incomplete",
    "estimate",
    "estimate_reason",
    "synced_at",
    "exchange_liquidation_price",
    "liquidation_price_difference",
    "liquidation_check",
    "take_profit",
    "stop_loss",
    "stop_to_liquidation",
    "stop_beyond_liquidation",
    "tiers_source",
    "tiers_date",
    "tiers_age_s",
    "tiers_stale",
    "taker_fee_note",
    *FUNDING_POSITION_KEYS,
    "liquidation_probability",
    "liquidation_probability_reason",
    "horizon_hours",
    "volatility",
    "volatility_source",
    "model",
]


def marginwatch(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("marginwatch", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "desktop.cli"]
    # The installed entry point may be an editable install of another checkout: this checkout's code runs.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, check=False, env=env)


def test_risk_json_has_exactly_the_documented_shape_and_the_engine_numbers():
    result = marginwatch("risk", str(DEMO), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == ["accounts", "positions"]
    assert all(list(a) == ACCOUNT_KEYS for a in report["accounts"])
    assert all(list(p) == POSITION_KEYS for p in report["positions"])
    portfolio = parse_portfolio(load_json("demo", "book.json"))
    risk = evaluate_book(portfolio.book, portfolio.price_map())
    assert [p["symbol"] for p in report["positions"]] == [p.symbol for p in portfolio.book.positions]
    for row, expected in zip(report["positions"], risk.positions, strict=True):
        assert row["liquidation_price"] == expected.liquidation_price
        assert row["distance_to_liquidation"] == expected.distance_to_liquidation
        assert row["hypothetical"] is expected.position.hypothetical


def test_risk_json_prints_null_for_a_liquidation_that_cannot_happen(tmp_path):
    doc = portfolio_doc(
        position_doc(contracts=0.1, leverage=1), name="a", wallet_balance=100_000, prices={"BTC/USDT:USDT": 60_000}
    )
    path = tmp_path / "safe.json"
    path.write_text(json.dumps(doc))
    report = json.loads(marginwatch("risk", str(path), "--json").stdout)
    assert report["positions"][0]["liquidation_price"] is None
    assert report["positions"][0]["distance_to_liquidation"] is None


def test_risk_table_shows_units():
    result = marginwatch("risk", str(DEMO))
    assert result.returncode == 0, result.stderr
    assert "USDT" in result.stdout and " BTC" in result.stdout and "%" in result.stdout
    assert "liq. price" in result.stdout


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["positions"][0].pop("contracts"), "position 1 (BTC/USDT:USDT): missing field 'contracts'"),
        (lambda d: d["positions"][2].update(contracts=-3), "position 3 (ETH/USDT:USDT): 'contracts' must be greater"),
        (lambda d: d["positions"][1].update(account="ghost"), "position 2 (BTC/USDT:USDT): 'account' names an unknown"),
        (lambda d: d["positions"][3].update(symbol="XYZ/USDT:USDT"), "position 4 (XYZ/USDT:USDT): unknown symbol"),
        (lambda d: d["prices"].pop("SOL/USDT:USDT"), "position 4 (SOL/USDT:USDT): no mark price"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_no_traceback(tmp_path, mutate, expected):
    doc = load_json("demo", "book.json")
    mutate(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    result = marginwatch("risk", str(path), "--json")
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_malformed_json_and_missing_file_exit_2(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"accounts": [')
    broken = marginwatch("risk", str(path))
    assert broken.returncode == 2 and "malformed JSON at line 1" in broken.stderr
    missing = marginwatch("risk", str(tmp_path / "absent.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert "Traceback" not in broken.stderr + missing.stderr


def test_help_describes_the_risk_command():
    result = marginwatch("risk", "--help")
    assert result.returncode == 0
    assert "--json" in result.stdout and "status 2" in result.stdout


def test_exchange_without_a_profile_is_labelled_an_estimate(tmp_path):
    doc = {
        "accounts": [{"name": "k", "exchange": "krakenfutures", "wallet_balance": 10_000, "currency": "USD"}],
        "positions": [
            {
                "account": "k",
                "symbol": "BTC/USD:USD",
                "side": "long",
                "contracts": 0.2,
                "entry_price": 60_000,
                "margin_mode": "isolated",
                "leverage": 10,
            }
        ],
        "prices": {"BTC/USD:USD": 61_000},
        "markets": {
            "BTC/USD:USD": {"tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.01}]}
        },
    }
    path = tmp_path / "kraken.json"
    path.write_text(json.dumps(doc))
    result = marginwatch("risk", str(path))
    assert result.returncode == 0, result.stderr
    assert "krakenfutures (generic estimate)" in result.stdout
    assert "Estimate: no rule profile for krakenfutures" in result.stdout
    json_result = marginwatch("risk", str(path), "--json")
    (account,) = json.loads(json_result.stdout)["accounts"]
    assert account["rule_profile"] == "krakenfutures (generic estimate)" and account["estimate"] is True


def test_a_book_naming_bitmex_exits_2_with_one_line(tmp_path):
    doc = {
        "accounts": [{"name": "m", "exchange": "bitmex", "wallet_balance": 1, "currency": "BTC"}],
        "positions": [
            {
                "account": "m",
                "symbol": "BTC/USD:BTC",
                "side": "long",
                "contracts": 100,
                "entry_price": 60_000,
                "margin_mode": "cross",
                "leverage": 10,
            }
        ],
        "markets": {
            "BTC/USD:BTC": {"tiers": [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.01}]}
        },
    }
    path = tmp_path / "bitmex.json"
    path.write_text(json.dumps(doc))
    result = marginwatch("risk", str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BitMEX is not in the installed ccxt" in lines[0], result.stderr
