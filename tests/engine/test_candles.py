"""Hourly candles through real ccxt from the fake Binance (engine.market.candles), their volatility and
correlation, and their cache in the database (engine.storage.candles)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from engine.market.candles import fetch_book_candles
from engine.market.feeds.exchange_config import ExchangeSettings
from engine.market.volatility import correlation, realized_volatility
from engine.storage.database import BookDatabase
from tests.fake_exchange.server import FakeBinance

EX = "binanceusdm"
BTC, ETH = (EX, "BTC/USDT:USDT"), (EX, "ETH/USDT:USDT")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


def settings(fake: FakeBinance) -> dict[str, ExchangeSettings]:
    return {EX: ExchangeSettings(fake.ccxt_config())}


def test_thirty_days_of_hourly_candles_give_the_exchange_volatility_and_correlation(fake):
    series, failed = fetch_book_candles([BTC, ETH], settings(fake))
    assert failed == {}
    hours, closes = series[BTC]
    assert len(closes) >= 720 and np.all(np.diff(hours) == 1)
    assert closes[-1] == pytest.approx(float(fake.marks["BTCUSDT"]), rel=1e-8)  # the last close is the mark
    n = len(closes) - 1
    assert realized_volatility(series[BTC]) == pytest.approx(0.6, abs=3 * 0.6 / math.sqrt(2 * n))
    assert realized_volatility(series[ETH]) == pytest.approx(0.8, abs=3 * 0.8 / math.sqrt(2 * n))
    assert correlation(series[BTC], series[ETH]) == pytest.approx(0.8, abs=0.06)
    assert fake.requests["/fapi/v1/klines"] >= 2


def test_a_symbol_or_exchange_that_fails_says_why_and_the_others_still_come(fake):
    fake.fail_next("/fapi/v1/klines", 503)
    try:
        series, failed = fetch_book_candles(
            [BTC, ETH, (EX, "XRP/USDT:USDT"), ("nosuchexchange", "BTC/USDT:USDT")], settings(fake)
        )
    finally:
        fake.reset()
    assert BTC not in series and "ExchangeNotAvailable" in failed[BTC]
    assert ETH in series
    assert "BadSymbol" in failed[(EX, "XRP/USDT:USDT")]
    assert failed[("nosuchexchange", "BTC/USDT:USDT")] == "ccxt has no exchange 'nosuchexchange'"


def test_candles_are_cached_in_the_database_with_their_time(fake, tmp_path):
    series, _ = fetch_book_candles([BTC], settings(fake))
    with BookDatabase.open(tmp_path / "book.db") as db:
        db.save_candles(BTC, series[BTC], fetched_at=1_700_000_000.0)
        db.save_candles(BTC, series[BTC], fetched_at=1_700_000_100.0)  # a fetch again replaces, never doubles
    with BookDatabase.open(tmp_path / "book.db", read_only=True) as db:
        hours, closes = db.candles(BTC)
        assert np.array_equal(hours, series[BTC][0]) and np.array_equal(closes, series[BTC][1])
        assert len(db.candles(ETH)[0]) == 0
        assert db._read("SELECT DISTINCT fetched_at FROM candle") == [(1_700_000_100.0,)]
