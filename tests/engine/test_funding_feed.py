"""Funding rates through real ccxt from the fake Binance USDⓈ-M: polled (/fapi/v1/premiumIndex, Binance's real shape)
and streamed (the Mark Price Stream's markPriceUpdate events carry the rate `r` and the next funding time `T`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from engine.funding.rates import FundingBook, RateSource
from engine.market.feeds.backoff import Backoff
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.feeds.funding_feed import FundingFeed, interval_hours, rate_from_ccxt
from engine.market.feeds.state import FeedStatus
from tests.fake_exchange.server import FakeBinance

EX = "binanceusdm"
BTC, ETH = (EX, "BTC/USDT:USDT"), (EX, "ETH/USDT:USDT")


def wait_for(condition: Callable[[], object], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as server:
        yield server


@pytest.fixture
def make_feed(fake: FakeBinance) -> Iterator[Callable[..., FundingFeed]]:
    fake.reset()
    feeds: list[FundingFeed] = []

    def make(
        symbols=("BTC/USDT:USDT", "ETH/USDT:USDT"), refresh: float = 0.1, transport: Transport = Transport.REST
    ) -> FundingFeed:
        feed = FundingFeed(
            EX, symbols, FundingBook(), ExchangeSettings(fake.ccxt_config(), transport), refresh=refresh,
            backoff=Backoff(initial=0.05, cap=0.2),
        )  # fmt: skip
        feed.stream_silence = 1.0
        feeds.append(feed)
        feed.start()
        return feed

    yield make
    for feed in feeds:
        assert feed.stop(), "funding feed thread did not end"
    fake.reset()


def test_rates_arrive_with_binance_interval_and_next_funding_time(make_feed, fake):
    fake.funding_rates["ETHUSDT"] = "-0.00025000"
    before = time.time()
    feed = make_feed()
    wait_for(lambda: feed.book.get(BTC) and feed.book.get(ETH), what="both rates")
    btc, eth = feed.book.get(BTC), feed.book.get(ETH)
    assert btc.rate == 0.0001 and eth.rate == -0.00025
    assert btc.source is RateSource.EXCHANGE and btc.interval_hours == 8  # premiumIndex names none: Binance's 8 h
    assert btc.next_funding_time is not None and btc.next_funding_time % 28_800 == 0
    assert 0 < btc.next_funding_time - before <= 8 * 3600
    assert btc.fetched_at >= before
    assert feed.state.status is FeedStatus.LIVE and feed.state.transport == "rest: fetch_funding_rates"


def test_a_new_rate_replaces_the_old_on_the_next_read(make_feed, fake):
    feed = make_feed(refresh=0.1)
    wait_for(lambda: feed.book.get(BTC), what="first rate")
    fake.funding_rates["BTCUSDT"] = "0.00050000"
    wait_for(lambda: feed.book.get(BTC).rate == 0.0005, what="the new rate")


def test_a_server_error_is_status_then_recovers(make_feed, fake):
    fake.fail_next("/fapi/v1/premiumIndex", 503, times=2)
    feed = make_feed()
    wait_for(lambda: feed.book.get(BTC), what="rates after the faults")
    assert feed.state.status is FeedStatus.LIVE


def test_unlisted_symbol_is_named_not_fatal(make_feed):
    feed = make_feed(symbols=("BTC/USDT:USDT", "NOPE/USDT:USDT"))
    wait_for(lambda: feed.book.get(BTC), what="the listed symbol's rate")
    assert feed.state.unknown_symbols == ("NOPE/USDT:USDT",)


def test_ccxt_structures_other_venues_send():
    """Hyperliquid's ccxt structure says interval '1h'; a missing interval takes the venue's default; a rate
    that is no number or absurd is skipped; a past fundingTimestamp gives way to nextFundingTimestamp."""
    now = 1_700_000_000.0
    item = {"fundingRate": 1.25e-05, "interval": "1h", "fundingTimestamp": (now + 1800) * 1000}
    r = rate_from_ccxt("hyperliquid", "BTC/USDC:USDC", item, now)
    assert r.interval_hours == 1 and r.next_funding_time == now + 1800
    assert interval_hours("hyperliquid", None) == 1 and interval_hours("bybit", "4h") == 4
    assert interval_hours("okx", "garbage") == 8
    for bad in (None, "0.01", float("nan"), 1.5, True):
        assert rate_from_ccxt("okx", "BTC/USDT:USDT", {"fundingRate": bad}, now) is None
    moved = {"fundingRate": 1e-4, "fundingTimestamp": (now - 10) * 1000, "nextFundingTimestamp": (now + 60) * 1000}
    assert rate_from_ccxt("okx", "BTC/USDT:USDT", moved, now).next_funding_time == now + 60


def test_watch_report_carries_the_exchange_rate_from_the_live_feeds(fake):
    """`watch --json`'s report (engine.monitor.watch.Monitor) with the live feeds against the fake Binance: the
    position's funding comes from the exchange, signed for the trader (a long pays a positive rate)."""
    import io

    from engine.book.portfolio import parse_portfolio
    from engine.market.feeds.live import live_feeds
    from engine.market.prices import PriceStore
    from engine.monitor.watch import Monitor, WatchOptions
    from tests.portfolio_docs import portfolio_doc, position_doc

    fake.reset()
    fake.funding_rates["BTCUSDT"] = "0.00020000"
    portfolio = parse_portfolio(portfolio_doc(position_doc(contracts=0.5)))
    store = PriceStore()
    feeds = live_feeds(portfolio.book.price_keys(), store, {EX: ExchangeSettings(fake.ccxt_config(), Transport.REST)})
    monitor = Monitor(portfolio, store, feeds, WatchOptions(), io.StringIO())
    for feed in feeds:
        feed.start()
    try:
        wait_for(lambda: store.quote(BTC) is not None and store.funding.get(BTC) is not None, what="mark and rate")
        position = monitor.report()["positions"][0]
    finally:
        for feed in feeds:
            assert feed.stop()
        fake.reset()
    assert position["funding_rate"] == 0.0002 and position["funding_rate_source"] == "exchange"
    assert position["funding_payment_next"] == pytest.approx(-0.5 * 61_000.50 * 0.0002)
    assert position["funding_per_day"] == pytest.approx(-0.5 * 61_000.50 * 0.0006)
    assert position["funding_rate_stale"] is False and position["funding_missing"] is None


def test_binance_rates_stream_from_the_mark_price_stream_after_the_first_read(make_feed, fake):
    feed = make_feed(refresh=30.0, transport=Transport.AUTO)  # no second REST read within the test
    wait_for(lambda: feed.state.transport.startswith("websocket"), what="the stream")
    assert feed.state.transport == "websocket: watch_mark_prices (its funding rate r and next funding time T)"
    reads = fake.requests["/fapi/v1/premiumIndex"]
    fake.funding_rates["BTCUSDT"] = "-0.00030000"
    wait_for(lambda: feed.book.get(BTC).rate == -0.0003, what="the streamed rate")
    btc = feed.book.get(BTC)
    assert fake.requests["/fapi/v1/premiumIndex"] == reads  # it came by the stream, not a REST read
    assert btc.interval_hours == 8 and btc.next_funding_time % 28_800 == 0 and btc.next_funding_time > time.time()
    assert feed.state.status is FeedStatus.LIVE
    assert any(any("@markprice" in stream.lower() for stream in subscribed) for subscribed in fake.subscriptions)


def test_a_silent_stream_falls_back_to_polling_and_says_why(make_feed, fake):
    feed = make_feed(refresh=0.2, transport=Transport.AUTO)
    wait_for(lambda: feed.state.transport.startswith("websocket"), what="the stream")
    fake.go_silent()
    wait_for(lambda: feed.state.transport.startswith("rest"), what="polling after the silence")
    assert feed.state.transport == (
        "rest: fetch_funding_rates (the stream failed: TimeoutError: no funding rate streamed for 1 s; polling)"
    )
    fake.funding_rates["ETHUSDT"] = "0.00070000"
    wait_for(lambda: feed.book.get(ETH).rate == 0.0007, what="the polled rate")
    assert feed.state.status is FeedStatus.LIVE


def test_the_stream_is_chosen_from_the_installed_ccxts_capabilities():
    import ccxt.pro

    from engine.market.feeds.funding_stream import choose_stream

    assert choose_stream("okx", ccxt.pro.okx().has).method == "watch_funding_rates"
    assert choose_stream("binanceusdm", ccxt.pro.binanceusdm().has).from_mark_prices
    assert choose_stream("bybit", ccxt.pro.bybit().has) is None  # no funding stream in ccxt: polled
    assert choose_stream("hyperliquid", ccxt.pro.hyperliquid().has) is None
