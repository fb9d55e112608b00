"""What a hostile run against the merged issues found, each a test with the right value."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine.book.portfolio import PortfolioError, parse_portfolio
from engine.margin.live_risk import LiveEvaluator
from engine.margin.risk import evaluate_book

TIERS = [{"min_notional": 0, "max_notional": 1e9, "maintenance_margin_rate": 0.004}]


def _doc(symbol: str, exchange: str, side: str = "long", market: dict | None = None, **position) -> dict:
    doc = {
        "accounts": [{"name": "a", "exchange": exchange, "wallet_balance": 1}],
        "positions": [
            {
                "account": "a",
                "symbol": symbol,
                "side": side,
                "contracts": 100,
                "entry_price": 60_000,
                "margin_mode": "cross",
                "leverage": 10,
                **position,
            }
        ],
        "prices": {symbol: position.get("entry_price", 60_000)},
    }
    if market is not None:
        doc["markets"] = {symbol: market}
    return doc


def test_a_market_entry_without_inverse_takes_it_from_the_symbol():
    """BTC/USD:BTC settles in BTC: inverse. Leaving 'inverse' out made it linear: liquidation 60,240.96 and
    600,000,000 'BTC' of notional, where the contract (100 USD each, 1 BTC wallet, 0.4%) liquidates at 8,605.71."""
    portfolio = parse_portfolio(_doc("BTC/USD:BTC", "binancecoinm", market={"contract_size": 100, "tiers": TIERS}))
    assert portfolio.book.markets[("binancecoinm", "BTC/USD:BTC")].inverse
    r = evaluate_book(portfolio.book, portfolio.price_map()).positions[0]
    assert r.liquidation_price == pytest.approx(8_605.714285714284)


@pytest.mark.parametrize(
    ("symbol", "exchange", "inverse", "words"),
    [
        ("BTC/USD:BTC", "binancecoinm", False, "settles in BTC: an inverse contract"),
        ("BTC/USDT:USDT", "binanceusdm", True, "settles in USDT: a linear contract"),
    ],
)
def test_an_inverse_flag_that_contradicts_the_symbol_is_refused(symbol, exchange, inverse, words):
    market = {"contract_size": 100, "tiers": TIERS, "inverse": inverse}
    with pytest.raises(PortfolioError, match=words):
        parse_portfolio(_doc(symbol, exchange, market=market))


@pytest.mark.parametrize("entry", [56_117.42, 92_410.0, 60_000.0])
def test_a_1x_inverse_short_has_no_liquidation_price_on_either_path(entry):
    """Rounding at z -> 0 gave 4.593e20 (distance +784,279,318,379,076,096%) at some entries."""
    doc = _doc("BTC/USD:BTC", "binancecoinm", side="short", entry_price=entry, margin_mode="isolated", leverage=1)
    portfolio = parse_portfolio(doc)
    scalar = evaluate_book(portfolio.book, portfolio.price_map()).positions[0]
    live = LiveEvaluator(portfolio.book).evaluate(portfolio.price_map())[0].positions[0]
    assert scalar.liquidation_price is None and live.liquidation_price is None
    assert scalar.distance_to_liquidation is None and live.distance_to_liquidation is None


def _marginwatch(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("marginwatch", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "desktop.cli"]
    # The installed entry point may be an editable install of another checkout: this checkout's code runs.
    root = str(Path(__file__).resolve().parents[1])
    env = kwargs.pop("env", os.environ)
    env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))}
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=60, check=False, env=env, **kwargs)


def test_watch_piped_into_a_reader_that_leaves_ends_quietly(tmp_path):
    path = tmp_path / "book.json"
    path.write_text(json.dumps(_doc("BTC/USDT:USDT", "binanceusdm", contracts=1, leverage=20)))
    exe = shutil.which("marginwatch", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "desktop.cli"]
    watch = subprocess.Popen(
        [*command, "watch", "--offline", str(path), "--count", "5", "--interval", "0.2", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert watch.stdout is not None
    watch.stdout.readline()
    watch.stdout.close()  # the reader leaves, as `head -1` does
    _, err = watch.communicate(timeout=30)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err
    assert watch.returncode == 141


def test_watch_offline_on_the_saved_book_uses_the_prices_typed_per_exchange(tmp_path):
    from engine.storage.database import BookDatabase
    from engine.storage.paths import database_path

    doc = _doc("BTC/USDT:USDT", "binanceusdm", contracts=1, leverage=20)
    doc["accounts"][0]["wallet_balance"] = 10_000
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(parse_portfolio(doc))
        db.save_manual_prices({("binanceusdm", "BTC/USDT:USDT"): 59_000.0})
    result = _marginwatch(
        "watch", "--data-dir", str(tmp_path), "--offline", "--count", "1", "--interval", "0.2", "--json"
    )
    assert result.returncode == 0, result.stderr
    report = next(json.loads(line) for line in result.stdout.splitlines() if '"positions"' in line)
    assert report["positions"][0]["mark_price"] == 59_000.0  # the typed price, not the file's 60,000


def test_a_positions_export_from_the_window_is_private(tmp_path):
    from engine.book.positions_csv import export_positions_csv

    portfolio = parse_portfolio(_doc("BTC/USDT:USDT", "binanceusdm", contracts=1))
    path = tmp_path / "positions.csv"
    export_positions_csv(portfolio.book, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text(encoding="utf-8-sig").startswith("account,")
    assert [p.name for p in tmp_path.iterdir()] == ["positions.csv"]  # no temporary file left


@pytest.mark.parametrize("typed", ["1e308", "1e-300", "1e13", "1,000,000,000,000,000"])
def test_a_typed_price_outside_any_market_is_refused(typed):
    from desktop.tables.prices_model import PriceRefused, parse_price

    with pytest.raises(PriceRefused, match="outside any market's prices"):
        parse_price(typed, "BTC/USDT:USDT")
