"""`marginwatch risk --horizon`: the probability of liquidation in the JSON and text reports (issue 19)."""

from __future__ import annotations

import json

import pytest

from desktop.cli import main
from engine.margin.liquidation_odds import horizon_years, touch_probability

BTC, ETH, DOGE = "BTC/USDT:USDT", "ETH/USDT:USDT", "DOGE/USDT:USDT"


def doc():
    position = {"side": "long", "margin_mode": "cross", "leverage": 10}
    return {
        "accounts": [
            {"name": "one", "exchange": "binanceusdm", "wallet_balance": 7_000},
            {"name": "two", "exchange": "binanceusdm", "wallet_balance": 6_000},
        ],
        "positions": [
            {"account": "one", "symbol": BTC, "contracts": 1, "entry_price": 90_000, **position},
            {
                "account": "one",
                "symbol": DOGE,
                "contracts": 10_000,
                "entry_price": 0.16,
                **position,
                "margin_mode": "isolated",
                "isolated_margin": 200,
            },
            {"account": "two", "symbol": BTC, "contracts": 1, "entry_price": 90_000, **position},
            {"account": "two", "symbol": ETH, "contracts": 10, "entry_price": 3_000, **position},
        ],
        "prices": {BTC: 88_000, ETH: 3_100, DOGE: 0.157},
        "markets": {BTC: {"volatility": 0.9}, ETH: {"volatility": 1.1}},
    }


def without_age(report: dict) -> dict:
    """The report less each position's tiers_age_s (the bundled tables' age grows between two runs)."""
    for row in report["positions"]:
        row.pop("tiers_age_s", None)
    return report


def run(tmp_path, capsys, *args):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(doc()))
    status = main(["risk", str(path), *args])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_json_carries_the_probability_per_position_and_account(tmp_path, capsys):
    status, out, err = run(tmp_path, capsys, "--json", "--horizon", "24h")
    assert status == 0, err
    report = json.loads(out)
    btc, doge, _, eth = report["positions"]
    assert btc["horizon_hours"] == 24 and btc["volatility"] == 0.9 and btc["volatility_source"] == "portfolio file"
    expected = touch_probability(88_000, btc["liquidation_price"], 0.9, horizon_years(24))
    assert btc["liquidation_probability"] == expected and 0.001 < expected < 0.999
    assert "closed form" in btc["model"]
    assert doge["liquidation_probability"] is None
    assert "no volatility for DOGE/USDT:USDT on binanceusdm" in doge["liquidation_probability_reason"]
    assert eth["liquidation_probability"] is not None
    one, two = report["accounts"]
    assert one["volatility"] == {BTC: 0.9}
    # One cross position: the Monte Carlo, checked hourly, sits below the continuous closed form.
    assert 0 < one["liquidation_probability"] < expected
    assert one["liquidation_probability_standard_error"] > 0
    assert "Monte Carlo: 10000 paths" in one["model"]
    # Two symbols typed without a history: their correlation is unknown, and so is the account's figure.
    assert two["liquidation_probability"] is None
    assert "correlation of BTC/USDT:USDT and ETH/USDT:USDT is unknown" in two["liquidation_probability_reason"]


def test_a_longer_horizon_gives_a_higher_figure(tmp_path, capsys):
    figures = []
    for horizon in ("1h", "24h", "7d"):
        status, out, err = run(tmp_path, capsys, "--json", "--horizon", horizon)
        assert status == 0, err
        figures.append(json.loads(out)["positions"][0])
    assert [f["horizon_hours"] for f in figures] == [1, 24, 168]
    p = [f["liquidation_probability"] for f in figures]
    assert p[0] < p[1] < p[2]


def test_text_report_has_the_column_and_says_what_it_means(tmp_path, capsys):
    status, out, err = run(tmp_path, capsys, "--horizon", "7d")
    assert status == 0, err
    assert out.count("P(liq 7d)") >= 3  # both tables and the note
    assert "±" in out  # the account's standard error
    assert "not a forecast" in out
    assert "no figure: no volatility for DOGE/USDT:USDT on binanceusdm" in out


@pytest.mark.parametrize("horizon", ["3x", "0h", "-2d", "400d", "", "1,5h", "nan"])
def test_a_bad_horizon_is_one_line_and_exit_2(tmp_path, capsys, horizon):
    status, out, err = run(tmp_path, capsys, f"--horizon={horizon}")  # '-2d' alone would read as an option
    assert status == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("marginwatch: --horizon: ")


def test_candles_fetched_through_ccxt_give_the_volatility_and_correlation_and_are_cached(tmp_path, capsys):
    from tests.fake_exchange.server import FakeBinance

    book = doc()
    del book["markets"][ETH]  # BTC keeps its typed volatility, which wins; ETH and DOGE come from the candles
    path = tmp_path / "book.json"
    path.write_text(json.dumps(book))
    data = ["--data-dir", str(tmp_path / "data")]
    with FakeBinance() as fake:
        config = tmp_path / "exchanges.json"
        config.write_text(json.dumps({"binanceusdm": {"ccxt": fake.ccxt_config()}}))
        status = main(["risk", str(path), "--json", "--candles", "--exchange-config", str(config), *data])
        out, err = capsys.readouterr()
    assert status == 0, err
    fetched = json.loads(out)
    btc, doge, _, eth = fetched["positions"]
    assert (btc["volatility"], btc["volatility_source"]) == (0.9, "portfolio file")
    assert eth["volatility_source"] == "candles" and eth["volatility"] == pytest.approx(0.8, abs=0.07)
    assert doge["volatility_source"] == "candles" and doge["liquidation_probability"] is not None
    two = fetched["accounts"][1]
    assert two["liquidation_probability"] is not None, two["liquidation_probability_reason"]
    assert 0 < two["liquidation_probability"] < 1

    # Offline, later: the cached candles give the same figures (the exchange is gone).
    status = main(["risk", str(path), "--json", *data])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert without_age(json.loads(out)) == without_age(fetched)

    # The bootstrap of the cached candles' own returns: the model says so, the typed volatility has no returns.
    status = main(["risk", str(path), "--json", "--model", "bootstrap", *data])
    out, err = capsys.readouterr()
    assert status == 0, err
    boot = json.loads(out)
    btc, doge, _, eth = boot["positions"]
    for row in (btc, doge, eth):  # every symbol has cached candles
        assert 0 <= row["liquidation_probability"] <= 1 and "historical bootstrap" in row["model"]
    assert "historical bootstrap" in boot["accounts"][1]["model"]
    assert boot["accounts"][1]["liquidation_probability_standard_error"] > 0


def test_the_bootstrap_without_history_says_why(tmp_path, capsys):
    status, out, err = run(tmp_path, capsys, "--json", "--model", "bootstrap", "--data-dir", str(tmp_path / "none"))
    assert status == 0, err
    report = json.loads(out)
    btc = report["positions"][0]
    assert (
        btc["liquidation_probability"] is None
        and "no return history for BTC/USDT:USDT" in (btc["liquidation_probability_reason"])
    )
    assert report["accounts"][0]["liquidation_probability"] is None
