"""Real ccxt against the fake KuCoin Futures on 127.0.0.1: polling reads each contract's own mark.

ccxt's kucoinfutures.fetch_mark_prices is KuCoin's spot-margin mark list (spot pairs, other values);
fetch_mark_price reads the contract's mark. The fake serves both, with different numbers, and a last
trade apart from the mark.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_feed import CcxtFeed
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.feeds.state import FeedStatus
from engine.market.prices import PriceStore
from tests.engine.test_ccxt_feed import wait_for
from tests.fake_exchange.kucoinfutures import FakeKucoinFutures

EX = "kucoinfutures"
BTC, ETH = (EX, "BTC/USDT:USDT"), (EX, "ETH/USDT:USDT")


@pytest.fixture
def fake() -> Iterator[FakeKucoinFutures]:
    with FakeKucoinFutures() as server:
        yield server


@pytest.fixture
def feed(fake: FakeKucoinFutures, request) -> Iterator[CcxtFeed]:
    settings = ExchangeSettings(fake.ccxt_config(), getattr(request, "param", Transport.REST))
    feed = CcxtFeed(
        EX,
        ["BTC/USDT:USDT", "ETH/USDT:USDT"],
        PriceStore(),
        settings,
        poll_interval=0.05,
        backoff=Backoff(initial=0.05, cap=0.2),
    )
    feed.start()
    yield feed
    assert feed.stop(), "feed thread did not end"


def test_polling_reads_each_contracts_mark_not_the_margin_list(feed, fake):
    wait_for(lambda: feed.store.quote(BTC) is not None and feed.store.quote(ETH) is not None, what="both contracts")
    assert feed.state.transport == "rest: fetch_mark_price (per symbol)"
    btc, eth = feed.store.quote(BTC), feed.store.quote(ETH)
    assert (btc.mark, eth.mark) == (61000.5, 3050.25)  # the margin list says 60990.0 and 3049.0
    assert not btc.mark_is_last_trade and not eth.mark_is_last_trade
    assert fake.requests["/api/v3/mark-price/all-symbols"] == 0
    fake.set_mark("XBTUSDTM", 60400.0)
    wait_for(lambda: feed.store.quote(BTC).mark == 60400.0, 3.0, "the new mark")


def test_a_failing_mark_request_is_status_then_recovers(feed, fake):
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    fake.fail_next("/api/v1/mark-price/ETHUSDTM/current", 503, times=2)
    wait_for(lambda: feed.state.status is FeedStatus.RECONNECTING, what="reconnecting")
    assert feed.state.last_error.startswith("ExchangeNotAvailable"), feed.state.last_error
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="recovery")


@pytest.mark.parametrize("feed", [Transport.AUTO], indirect=True)
def test_the_stream_is_each_contracts_mark_price_channel(feed, fake):
    wait_for(lambda: feed.store.quote(BTC) is not None and feed.store.quote(ETH) is not None, what="both contracts")
    assert feed.state.transport == "websocket: watch_mark_price (per symbol)"
    assert sorted((s["channel"], s["symbol"]) for s in fake.subscriptions) == [
        ("mark-price", "ETHUSDTM"),
        ("mark-price", "XBTUSDTM"),
    ]
    btc = feed.store.quote(BTC)
    assert btc.mark == 61000.5 and not btc.mark_is_last_trade and btc.exchange_time is not None
    fake.set_mark("ETHUSDTM", 3001.5)
    wait_for(lambda: feed.store.quote(ETH).mark == 3001.5, 3.0, "the new mark")
