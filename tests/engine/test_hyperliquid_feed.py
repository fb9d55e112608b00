"""Real ccxt against the fake Hyperliquid on 127.0.0.1: the feed reads the mark (markPx), never the mid.

Hyperliquid's allMids channel (ccxt's watch_tickers) carries mids only, and ccxt's tickers put the mid
into 'last'; the per-coin activeAssetCtx channel (watch_ticker) and metaAndAssetCtxs (fetch_tickers)
carry markPx. The fake keeps every mid apart from its mark, so a mid taken for a mark fails here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_feed import CcxtFeed
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.feeds.state import FeedStatus
from engine.market.prices import PriceStore
from tests.engine.test_ccxt_feed import wait_for
from tests.fake_exchange.hyperliquid import DEFAULT_MARKS, DEFAULT_MIDS, FakeHyperliquid

EX = "hyperliquid"
BTC, ETH = (EX, "BTC/USDC:USDC"), (EX, "ETH/USDC:USDC")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHyperliquid]:
    with FakeHyperliquid() as server:
        yield server


@pytest.fixture(autouse=True)
def reset_fake(fake: FakeHyperliquid) -> Iterator[None]:
    fake.reset()
    fake.marks.update(DEFAULT_MARKS)
    fake.mids.update(DEFAULT_MIDS)
    yield
    fake.reset()


@pytest.fixture
def make_feed(fake: FakeHyperliquid) -> Iterator[Callable[..., CcxtFeed]]:
    feeds: list[CcxtFeed] = []

    def make(transport: Transport, symbols=("BTC/USDC:USDC", "ETH/USDC:USDC"), **kwargs) -> CcxtFeed:
        feed = CcxtFeed(
            EX,
            symbols,
            PriceStore(),
            ExchangeSettings(fake.ccxt_config(), transport),
            poll_interval=0.05,
            backoff=Backoff(initial=0.05, cap=0.2),
            **kwargs,
        )
        feeds.append(feed)
        feed.start()
        return feed

    yield make
    for feed in feeds:
        assert feed.stop(), "feed thread did not end"


@pytest.mark.parametrize("transport", [Transport.AUTO, Transport.REST])
def test_the_mark_is_markpx_not_the_mid(make_feed, fake, transport):
    feed = make_feed(transport)
    wait_for(lambda: feed.store.quote(BTC) is not None and feed.store.quote(ETH) is not None, what="both symbols")
    btc, eth = feed.store.quote(BTC), feed.store.quote(ETH)
    assert (btc.mark, eth.mark) == (61000.5, 3050.25)  # markPx; the mids are 61012.5 and 3051.05
    assert not btc.mark_is_last_trade and not eth.mark_is_last_trade
    assert btc.last is None  # ccxt's 'last' here is the mid: not kept as a last trade
    assert btc.exchange_time is None  # Hyperliquid's contexts carry no time
    fake.set_mark("BTC", "60500.0", mid="60530.0")
    fake.set_mark("ETH", "2999.5", mid="3001.0")
    wait_for(lambda: (feed.store.quote(BTC).mark, feed.store.quote(ETH).mark) == (60500.0, 2999.5), 3.0, "new marks")


def test_the_stream_is_each_coins_asset_context_not_allmids(make_feed, fake):
    before = len(fake.subscriptions)
    feed = make_feed(Transport.WEBSOCKET)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    assert feed.state.transport == "websocket: watch_ticker (per symbol)"
    wait_for(lambda: len(fake.subscriptions) >= before + 2, what="both subscriptions")
    assert sorted((s["type"], s.get("coin")) for s in fake.subscriptions[before:]) == [
        ("activeAssetCtx", "BTC"),
        ("activeAssetCtx", "ETH"),
    ]


def test_polling_reads_only_the_perpetuals_contexts(make_feed, fake):
    feed = make_feed(Transport.REST)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    assert feed.state.transport == "rest: fetch_tickers"
    loaded = len(fake.info_types)
    wait_for(lambda: len(fake.info_types) > loaded + 3, what="polls")
    assert set(fake.info_types[loaded:]) == {"metaAndAssetCtxs"}  # not the spot and builder-dex lists too


def test_a_coin_whose_contexts_stop_turns_stale_and_is_reconnected(make_feed, fake):
    feed = make_feed(Transport.WEBSOCKET, silence_timeout=1.0)
    wait_for(lambda: feed.store.quote(ETH) is not None and feed.state.status is FeedStatus.LIVE, what="live")
    connections = fake.connections
    fake.silence_symbol("ETH")
    wait_for(lambda: feed.store.quote(ETH).age(time.time()) > 0.6, 3.0, "ETH ageing")
    assert feed.store.quote(BTC).age(time.time()) < 0.5  # BTC's own watch still resolves
    wait_for(lambda: "no price for ETH/USDC:USDC" in feed.state.last_error, 3.0, "the per-symbol watchdog")
    assert fake.connections > connections or feed.state.status is FeedStatus.RECONNECTING
    fake.silence_symbol("ETH", False)
    wait_for(lambda: feed.store.quote(ETH).age(time.time()) < 0.3, 5.0, "ETH fresh again")


def test_a_dropped_connection_resubscribes_every_coin(make_feed, fake):
    before = len(fake.subscriptions)
    feed = make_feed(Transport.WEBSOCKET)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    wait_for(lambda: feed.store.quote(ETH) is not None and feed.store.quote(BTC) is not None, what="both priced")
    fake.drop_connections()
    wait_for(lambda: len(fake.subscriptions) >= before + 4, what="both coins subscribed again")
    fake.set_mark("ETH", "3100.0")
    wait_for(lambda: feed.store.quote(ETH).mark == 3100.0, 3.0, "ETH after the reconnect")
