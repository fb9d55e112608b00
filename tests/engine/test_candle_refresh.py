"""The background candle refresher (engine.market.candle_refresh) with real ccxt against the fake Binance:
fetches what is missing once, stores it, does not fetch again within the hour, says a failing symbol as
status, and runs on its own thread."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from engine.market.candle_refresh import CandleRefresher
from engine.market.feeds.exchange_config import ExchangeSettings
from engine.market.feeds.state import FeedStatus
from engine.storage.database import BookDatabase
from tests.fake_exchange.server import FakeBinance

EX = "binanceusdm"
BTC, ETH, NOPE = (EX, "BTC/USDT:USDT"), (EX, "ETH/USDT:USDT"), (EX, "NOPE/USDT:USDT")


@pytest.fixture()
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


def settings(fake: FakeBinance) -> dict[str, ExchangeSettings]:
    return {EX: ExchangeSettings(fake.ccxt_config())}


def test_fetches_once_stores_and_does_not_fetch_again_within_the_hour(fake, tmp_path):
    clock = [time.time()]
    refresher = CandleRefresher([BTC, ETH], settings(fake), clock=lambda: clock[0])
    batch = refresher.refresh_once()
    assert batch is not None and batch.failed == {} and set(batch.series) == {BTC, ETH}
    assert refresher.take() == [batch] and refresher.take() == []
    asked = fake.requests["/fapi/v1/klines"]
    assert asked >= 2
    with BookDatabase.open(tmp_path / "book.sqlite") as db:
        for key, series in batch.series.items():
            db.save_candles(key, series, batch.fetched_at)
        stored = db.candles(BTC)
        assert np.array_equal(stored[0], batch.series[BTC][0])
        assert db.candles_fetched_at([BTC, ETH, NOPE]) == {BTC: batch.fetched_at, ETH: batch.fetched_at}
        known = db.candles_fetched_at([BTC, ETH])

    clock[0] += 3_599  # within the hour: nothing is due, the exchange is not asked
    assert refresher.due() == [] and refresher.refresh_once() is None
    assert fake.requests["/fapi/v1/klines"] == asked
    # A restart that knows the cache's time does not fetch either.
    assert CandleRefresher([BTC, ETH], settings(fake), known, clock=lambda: clock[0]).refresh_once() is None
    clock[0] += 2  # an hour old: fetched again
    assert refresher.due() == [BTC, ETH]
    assert refresher.refresh_once() is not None and fake.requests["/fapi/v1/klines"] > asked
    assert refresher.state.status is FeedStatus.LIVE


def test_a_failing_symbol_is_one_status_line_and_the_others_still_come(fake):
    clock = [time.time()]
    refresher = CandleRefresher([BTC, NOPE], settings(fake), clock=lambda: clock[0])
    batch = refresher.refresh_once()
    assert batch is not None and set(batch.series) == {BTC} and set(batch.failed) == {NOPE}
    (line,) = refresher.failures()
    assert line.startswith("no candles for NOPE/USDT:USDT on binanceusdm: ") and "\n" not in line
    state = refresher.state
    assert state.status is FeedStatus.RECONNECTING and line in state.describe()
    # The failing symbol waits for its retry; the fetched one for its hour.
    assert refresher.due() == []
    clock[0] += 3_601
    assert refresher.due() == [BTC, NOPE]


def test_an_exchange_that_is_down_is_status_and_the_thread_goes_on(fake):
    fake.fail_next("/fapi/v1/klines", 503, times=50)
    refresher = CandleRefresher([BTC], settings(fake), check_every=0.05)
    refresher.start()
    try:
        deadline = time.monotonic() + 10
        while refresher.state.status is not FeedStatus.RECONNECTING and time.monotonic() < deadline:
            time.sleep(0.02)
        assert refresher.state.status is FeedStatus.RECONNECTING
        assert "BTC/USDT:USDT" in refresher.state.last_error
    finally:
        assert refresher.stop()


def test_on_its_thread_the_fetched_series_reach_the_caller(fake):
    refresher = CandleRefresher([BTC], settings(fake), check_every=0.05)
    refresher.start()
    try:
        deadline, batches = time.monotonic() + 10, []
        while not batches and time.monotonic() < deadline:
            batches = refresher.take()
            time.sleep(0.02)
        assert batches and BTC in batches[0].series
        assert batches[0].series[BTC][1][-1] == pytest.approx(float(fake.marks["BTCUSDT"]), rel=1e-8)
        time.sleep(0.2)  # several checks later: nothing fetched again
        assert refresher.take() == []
    finally:
        assert refresher.stop()


def test_stop_ends_a_long_fetch_after_the_symbol_under_way(fake):
    keys = [BTC, ETH, (EX, "SOL/USDT:USDT"), (EX, "DOGE/USDT:USDT")]
    fake.delay("/fapi/v1/klines", 0.5)  # a slow exchange: each symbol takes a second (two pages)
    refresher = CandleRefresher(keys, settings(fake))
    refresher.start()
    deadline = time.monotonic() + 10
    while fake.requests["/fapi/v1/klines"] == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    started = time.monotonic()
    assert refresher.stop(timeout=5)
    assert time.monotonic() - started < 2.5  # not the four symbols' four seconds
    fetched = [b.series for b in refresher.take()]
    assert sum(len(s) for s in fetched) < len(keys)
