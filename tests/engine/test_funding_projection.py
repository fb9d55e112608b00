"""Funding projections: an isolated position's liquidation price after N days of funding, a cross account's days
to its warning level by funding alone; the report fields (risk --json) and the text section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.funding.rates import FundingRate, RateSource
from engine.margin.model import MarginMode, Side
from engine.margin.risk import evaluate_book
from engine.monitor.funding_report import account_fields, funding_figures, funding_text, position_fields
from engine.monitor.levels import Thresholds
from engine.monitor.report import risk_to_dict
from tests.engine.books import book, market, pos
from tests.portfolio_docs import portfolio_doc, position_doc

ROOT = Path(__file__).resolve().parents[2]
BTC = "BTC/USDT:USDT"
ISO, CROSS = MarginMode.ISOLATED, MarginMode.CROSS


def rate(exchange: str, value: float, hours: float = 8.0) -> dict:
    return {(exchange, BTC): FundingRate(exchange, BTC, value, hours, None, 0.0, RateSource.FILE)}


def test_isolated_liquidation_after_7_days_of_paid_funding_on_bybit_published_example():
    """Bybit "Liquidation Price (USDT Contract)": long 1 BTC @ 20,000, 50x, MMR 0.5% -> 19,700 (IM 400, MM 100
    taken at entry). 0.01%/8h at mark 20,000 costs the long 6 USDT a day; 7 days take 42 USDT from the isolated
    margin: LP = 20,000 - (358 - 100) / 1 = 19,742."""
    b = book("bybit", 100_000, [pos(BTC, Side.LONG, 1, 20_000, ISO, 50, 400)], [market(BTC, 0.005)])
    risk = evaluate_book(b, {("bybit", BTC): 20_000})
    assert risk.positions[0].liquidation_price == pytest.approx(19_700)
    f = funding_figures(b, risk, rate("bybit", 0.0001), now=0.0)
    fields = position_fields(f, 0)
    assert fields["funding_per_day"] == pytest.approx(-6.0)
    assert fields["funding_payment_next"] == pytest.approx(-2.0) and fields["next_funding_time"] == 8 * 3600
    assert fields["liquidation_price_in_7d"] == pytest.approx(19_742)
    # A short on the same rate receives: its margin grows and its liquidation price moves away.
    short = book("bybit", 100_000, [pos(BTC, Side.SHORT, 1, 20_000, ISO, 50, 400)], [market(BTC, 0.005)])
    risk = evaluate_book(short, {("bybit", BTC): 20_000})
    moved = position_fields(funding_figures(short, risk, rate("bybit", 0.0001), now=0.0), 0)
    assert moved["funding_per_day"] == pytest.approx(6.0)
    assert moved["liquidation_price_in_7d"] == pytest.approx(20_300 + 42)


def test_cross_days_to_warning_by_funding_alone():
    """Cross long 1 BTC @ 20,000 at mark 20,000, MMR 0.5%: maintenance 100 USDT; wallet 1,000 USDT. The 70%
    warning is reached at a cross balance of 100 / 0.7 = 142.857; paying 0.1%/8h (60 USDT a day) gets there
    in (1,000 - 142.857) / 60 = 14.29 days."""
    b = book("binanceusdm", 1_000, [pos(BTC, Side.LONG, 1, 20_000, CROSS, 20)], [market(BTC, 0.005)])
    risk = evaluate_book(b, {("binanceusdm", BTC): 20_000})
    f = funding_figures(b, risk, rate("binanceusdm", 0.001), now=0.0, thresholds=Thresholds(ratio_warning=0.7))
    fields = account_fields(f, risk, "acct")
    assert fields["cross_funding_per_day"] == pytest.approx(-60)
    assert fields["days_to_warning_by_funding"] == pytest.approx((1_000 - 100 / 0.7) / 60)
    assert position_fields(f, 0)["liquidation_price_in_7d"] is None  # cross: the account's figure instead
    received = funding_figures(b, risk, rate("binanceusdm", -0.001), now=0.0)
    assert account_fields(received, risk, "acct")["days_to_warning_by_funding"] is None
    assert (
        "never" in account_fields(received, risk, "acct")["days_to_warning_reason"]
        or "received" in (account_fields(received, risk, "acct")["days_to_warning_reason"])
    )


def test_no_rate_gives_null_fields_with_the_reason():
    b = book("binanceusdm", 1_000, [pos(BTC, Side.LONG, 1, 20_000, CROSS, 20)], [market(BTC, 0.005)])
    risk = evaluate_book(b, {("binanceusdm", BTC): 20_000})
    f = funding_figures(b, risk, {}, now=0.0)
    fields = position_fields(f, 0)
    assert fields["funding_rate"] is None and fields["funding_per_day"] is None
    assert (
        fields["funding_missing"]
        == f"no funding rate for {BTC} on binanceusdm (none from the exchange or the portfolio file)"
    )
    assert account_fields(f, risk, "acct")["days_to_warning_by_funding"] is None
    document = risk_to_dict(risk, funding=f)
    assert document["positions"][0]["funding_missing"] and "days_to_warning_by_funding" in document["accounts"][0]
    assert "no funding rate for: BTC/USDT:USDT" in funding_text(risk, f)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """This worktree's CLI (python -m, cwd first on sys.path), not an installed entry point."""
    return subprocess.run(
        [sys.executable, "-m", "desktop.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


def test_risk_json_and_text_carry_the_file_rate(tmp_path):
    doc = portfolio_doc(
        position_doc(margin_mode="isolated", isolated_margin=3_000, leverage=10),
        prices={BTC: 60_000},
        markets={BTC: {"funding_rate": 0.0001}},
    )
    path = tmp_path / "book.json"
    path.write_text(json.dumps(doc))
    result = run_cli("risk", str(path), "--json")
    assert result.returncode == 0, result.stderr
    position = json.loads(result.stdout)["positions"][0]
    assert position["funding_rate"] == 0.0001 and position["funding_interval_hours"] == 8
    assert position["funding_rate_source"] == "file"
    assert position["funding_payment_next"] == pytest.approx(-0.5 * 60_000 * 0.0001)
    assert position["funding_per_day"] == pytest.approx(-9.0)
    assert position["next_funding_time"] % (8 * 3600) == 0
    assert position["liquidation_price_in_7d"] > position["liquidation_price"]  # paying funding: closer to the mark
    text = run_cli("risk", str(path))
    assert text.returncode == 0, text.stderr
    assert "0.0100%/8h · file" in text.stdout and "per day -9.00 USDT" in text.stdout


def test_risk_names_a_bad_funding_field_and_exits_2(tmp_path):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(portfolio_doc(prices={BTC: 60_000}, markets={BTC: {"funding_rate": "0.01%"}})))
    result = run_cli("risk", str(path))
    assert result.returncode == 2
    assert "markets.BTC/USDT:USDT: 'funding_rate' must be a number" in result.stderr
