"""Real ccxt against the fake Binance USDⓈ-M on 127.0.0.1: prices flow, faults recover, shutdown is clean."""

from __future__ import annotations

import gc
import logging
import time
import warnings
from collections.abc import Callable, Iterator

import pytest

from engine.market.feeds.backoff import Backoff
from engine.market.feeds.ccxt_feed import CcxtFeed
from engine.market.feeds.exchange_config import ExchangeSettings, Transport
from engine.market.feeds.state import FeedStatus
from engine.market.prices import PriceSource, PriceStore
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


@pytest.fixture(autouse=True)
def reset_fake(fake: FakeBinance) -> Iterator[None]:
    fake.reset()
    fake.marks.update(BTCUSDT="61000.50", ETHUSDT="3050.25")
    yield
    fake.reset()


@pytest.fixture
def make_feed(fake: FakeBinance) -> Iterator[Callable[..., CcxtFeed]]:
    feeds: list[CcxtFeed] = []

    def make(transport: Transport, symbols=("BTC/USDT:USDT", "ETH/USDT:USDT"), **kwargs) -> CcxtFeed:
        store = kwargs.pop("store", PriceStore())
        timeout_ms = kwargs.pop("timeout_ms", 2_000)
        feed = CcxtFeed(
            EX,
            symbols,
            store,
            ExchangeSettings(fake.ccxt_config(timeout_ms), transport),
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


@pytest.mark.parametrize("transport", [Transport.WEBSOCKET, Transport.REST])
def test_prices_flow_with_the_marks_the_server_sent(make_feed, fake, transport):
    feed = make_feed(transport)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    # Every symbol arrives promptly, not only the first one a watch call resolves on.
    wait_for(lambda: feed.store.quote(BTC) is not None and feed.store.quote(ETH) is not None, 2.0, "both symbols")
    assert feed.store.quote(BTC).mark == 61000.50
    assert feed.store.quote(ETH).mark == 3050.25
    assert feed.store.quote(BTC).source is PriceSource.LIVE
    assert feed.state.transport.startswith("websocket" if transport is Transport.WEBSOCKET else "rest")
    fake.set_mark("BTCUSDT", "59500.00")
    fake.set_mark("ETHUSDT", "2999.99")
    wait_for(
        lambda: feed.store.quote(BTC).mark == 59500.0 and feed.store.quote(ETH).mark == 2999.99,
        2.0,
        "new marks for both",
    )
    assert feed.markets["BTC/USDT:USDT"].contract_size == 1.0 and not feed.markets["BTC/USDT:USDT"].inverse


def test_tiers_fall_back_to_the_bundled_tables_when_the_exchange_wants_a_key(make_feed, fake):
    feed = make_feed(Transport.REST)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    assert feed.tiers == {}
    assert feed.tier_note == "bundled tables: binanceusdm serves leverage tiers only with an API key"
    assert not any("leverageBracket" in path for path in fake.requests)  # ccxt refused before sending


def test_auto_prefers_the_mark_price_stream(make_feed, fake):
    feed = make_feed(Transport.AUTO)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    assert feed.state.transport == "websocket: watch_mark_prices"
    assert any("btcusdt@markPrice" in s for sub in fake.subscriptions for s in sub)


@pytest.mark.parametrize(
    ("status", "error"), [(503, "ExchangeNotAvailable"), (429, "DDoSProtection"), (418, "DDoSProtection")]
)
def test_http_errors_end_in_recovery_and_say_why_meanwhile(make_feed, fake, status, error):
    fake.fail_next("/fapi/v1/exchangeInfo", status, times=3)
    feed = make_feed(Transport.REST)
    wait_for(lambda: feed.state.status is FeedStatus.RECONNECTING, what="reconnecting")
    assert feed.state.last_error.startswith(error), feed.state.last_error
    assert feed.store.quote(BTC) is None  # nothing shown while it could not connect
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="recovery")
    assert feed.store.quote(BTC).mark == 61000.50


def test_a_response_slower_than_the_timeout_is_retried(make_feed, fake):
    fake.delay("/fapi/v1/premiumIndex", 1.0)
    feed = make_feed(Transport.REST, timeout_ms=300)
    wait_for(lambda: "RequestTimeout" in feed.state.last_error, what="timeout reported")
    assert feed.state.status is FeedStatus.RECONNECTING
    fake.delay("/fapi/v1/premiumIndex", 0.0)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="recovery")


def test_a_dropped_connection_reconnects_and_resubscribes(make_feed, fake):
    feed = make_feed(Transport.WEBSOCKET)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    connections, subscriptions = fake.connections, len(fake.subscriptions)
    fake.drop_connections()
    wait_for(
        lambda: fake.connections > connections and len(fake.subscriptions) > subscriptions,
        what="a new connection and subscription",
    )
    fake.set_mark("BTCUSDT", "60123.40")
    wait_for(lambda: feed.store.quote(BTC).mark == 60123.40, what="prices after reconnect")


def test_a_silent_stream_turns_stale_then_reconnects_and_recovers(make_feed, fake):
    stale_after = 0.4
    feed = make_feed(Transport.WEBSOCKET, silence_timeout=0.8)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    fake.go_silent()
    wait_for(lambda: feed.store.quote(BTC).is_stale(time.time(), stale_after), what="stale")
    wait_for(lambda: feed.state.status is FeedStatus.RECONNECTING, what="silence detected")
    assert "no price" in feed.state.last_error
    fake.go_silent(False)
    wait_for(lambda: not feed.store.quote(BTC).is_stale(time.time(), stale_after), what="fresh again")
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live again")


def test_malformed_ticks_are_dropped_never_shown(make_feed, fake):
    feed = make_feed(Transport.WEBSOCKET)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    stamp = int(time.time() * 1000)
    fake.send_malformed(
        {"e": "markPriceUpdate", "E": stamp + 5_000, "s": "BTCUSDT", "p": "NaN"},
        {"e": "markPriceUpdate", "E": stamp + 5_000, "s": "BTCUSDT", "p": "-42.0"},
        {"e": "markPriceUpdate", "E": stamp + 5_000, "s": "BTCUSDT"},
        {"e": "markPriceUpdate", "E": stamp - 60_000, "s": "BTCUSDT", "p": "1.00"},  # out of order
    )
    wait_for(lambda: sum(feed.store.dropped.values()) >= 4, what="drops counted")
    assert feed.store.dropped["out of order"] >= 1
    seen = set()
    deadline = time.monotonic() + 0.5
    while time.monotonic() < deadline:
        seen.add(feed.store.quote(BTC).mark)
    assert seen <= {61000.50}


def test_an_unknown_symbol_is_reported_once_and_the_rest_flows(make_feed, caplog):
    caplog.set_level(logging.WARNING, logger="engine.market.feeds.ccxt_feed")
    feed = make_feed(Transport.WEBSOCKET, symbols=("BTC/USDT:USDT", "XYZ/USDT:USDT"))
    wait_for(lambda: feed.store.quote(BTC) is not None, what="BTC")
    assert feed.state.unknown_symbols == ("XYZ/USDT:USDT",)
    messages = [r.getMessage() for r in caplog.records if "XYZ/USDT:USDT" in r.getMessage()]
    assert messages == ["feed binanceusdm: not listed on the exchange: XYZ/USDT:USDT"]


def test_an_unreachable_exchange_reconnects_without_raising(fake):
    store = PriceStore()
    settings = ExchangeSettings(
        {"timeout": 300, "urls": {"api": {"fapiPublic": "http://127.0.0.1:9/fapi/v1"}}}, Transport.REST
    )
    feed = CcxtFeed(EX, ["BTC/USDT:USDT"], store, settings, backoff=Backoff(initial=0.05, cap=0.1))
    feed.start()
    try:
        wait_for(lambda: feed.state.attempt >= 2, what="retries")
        assert feed.state.status is FeedStatus.RECONNECTING
        assert "next try in" in feed.state.describe()
    finally:
        assert feed.stop()
    assert feed.state.status is FeedStatus.OFFLINE


def test_shutdown_closes_everything(fake, caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feeds = [
            CcxtFeed(EX, ["BTC/USDT:USDT"], PriceStore(), ExchangeSettings(fake.ccxt_config(), t))
            for t in (Transport.WEBSOCKET, Transport.REST)
        ]
        for feed in feeds:
            feed.start()
        wait_for(lambda: all(f.state.status is FeedStatus.LIVE for f in feeds), what="live")
        for feed in feeds:
            assert feed.stop(timeout=5)
            assert feed.state.status is FeedStatus.OFFLINE
        gc.collect()
    texts = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    assert not [t for t in texts if "Unclosed" in t or "unclosed" in t], texts


def test_a_future_dated_tick_is_refused_and_the_symbol_keeps_updating(make_feed, fake):
    # Issue 14: one event dated an hour ahead froze BTC until restart ("out of order" ever after).
    feed = make_feed(Transport.WEBSOCKET)
    wait_for(lambda: feed.store.quote(BTC) is not None, what="BTC")
    hour_ahead = int(time.time() * 1000) + 3_600_000
    fake.send_malformed({"e": "markPriceUpdate", "E": hour_ahead, "s": "BTCUSDT", "p": "61000.50"})
    wait_for(lambda: feed.store.dropped["future-dated"] == 1, what="the future-dated tick refused")
    fake.set_mark("BTCUSDT", "60500.00")
    wait_for(lambda: feed.store.quote(BTC).mark == 60500.0, 2.0, "BTC updating after it")
    assert feed.store.dropped["out of order"] == 0


def test_a_symbol_that_stops_on_a_stream_without_timestamps_turns_stale_and_is_reconnected(make_feed, fake):
    # Issue 14: without exchange timestamps ETH stayed LIVE at age 0.0 s while only BTC still moved,
    # because ccxt's cached ETH ticker was published again with every BTC event.
    fake.stamp_events = False
    feed = make_feed(Transport.WEBSOCKET, silence_timeout=1.0)
    wait_for(lambda: feed.store.quote(ETH) is not None and feed.state.status is FeedStatus.LIVE, what="live")
    assert feed.store.quote(ETH).exchange_time is None
    connections = fake.connections
    fake.silence_symbol("ETHUSDT")
    wait_for(lambda: feed.store.quote(ETH).age(time.time()) > 0.6, 3.0, "ETH ageing")
    assert feed.store.quote(BTC).age(time.time()) < 0.5  # BTC still streams
    wait_for(lambda: "no price for ETH/USDT:USDT" in feed.state.last_error, 3.0, "the per-symbol watchdog")
    assert fake.connections > connections or feed.state.status is FeedStatus.RECONNECTING
    fake.silence_symbol("ETHUSDT", False)
    wait_for(lambda: feed.store.quote(ETH).age(time.time()) < 0.3, 5.0, "ETH fresh again")


@pytest.mark.parametrize("frame", ["[]", {"e": "markPriceUpdate", "E": 1, "p": "1.0"}], ids=["empty list", "no symbol"])
def test_a_malformed_frame_is_skipped_without_stalling_the_stream(make_feed, fake, frame):
    # Issue 14: one such frame stopped ccxt's receive loop; every symbol stalled until the watchdog.
    feed = make_feed(Transport.WEBSOCKET)
    wait_for(lambda: feed.state.status is FeedStatus.LIVE, what="live")
    connections = fake.connections
    fake.send_malformed(frame)
    wait_for(lambda: feed.store.dropped["malformed frame"] == 1, what="the frame counted")
    fake.set_mark("BTCUSDT", "60999.90")
    wait_for(lambda: feed.store.quote(BTC).mark == 60999.90, 1.0, "prices right after the frame")
    assert fake.connections == connections and feed.state.status is FeedStatus.LIVE


@pytest.mark.parametrize("absurd", ["1e300", "1e-300"])
def test_absurd_prices_from_the_exchange_are_refused_never_live(make_feed, fake, absurd):
    feed = make_feed(Transport.WEBSOCKET)
    wait_for(lambda: feed.store.quote(BTC) is not None, what="BTC")
    fake.set_mark("BTCUSDT", absurd)
    wait_for(lambda: feed.store.dropped["outside the sane range"] >= 2, what="absurd prices refused")
    assert feed.store.quote(BTC).mark == 61000.50
    fake.set_mark("BTCUSDT", "61000.60")
    wait_for(lambda: feed.store.quote(BTC).mark == 61000.60, 2.0, "good prices again")


def test_garbage_rest_answers_are_one_line_each_never_a_traceback(make_feed, fake, caplog):
    caplog.set_level(logging.INFO, logger="engine.market.feeds.ccxt_feed")
    fake.garbage_next("/fapi/v1/premiumIndex", "[1, 2]", times=3)
    fake.garbage_next("/fapi/v1/premiumIndex", '"maintenance"', times=2)
    feed = make_feed(Transport.REST)
    wait_for(lambda: fake.requests["/fapi/v1/premiumIndex"] > 5 and feed.state.status is FeedStatus.LIVE, 5.0, "ok")
    records = [r for r in caplog.records if r.name == "engine.market.feeds.ccxt_feed"]
    assert not [r for r in records if r.exc_info], "a traceback was logged"
    warnings_ = [r.getMessage() for r in records if r.levelno >= logging.WARNING]
    assert sum("not binanceusdm's own host" in w for w in warnings_) == 1  # the fake's address, said once
    warnings_ = [w for w in warnings_ if "not binanceusdm's own host" not in w]
    assert len(warnings_) == 2, warnings_  # one per cause, not one per retry
    assert "unreadable answer from the exchange: TypeError" in warnings_[0]
    assert "unreadable answer from the exchange: AttributeError" in warnings_[1]
    assert all("\n" not in w for w in warnings_)


def test_a_clock_behind_the_exchanges_is_named_when_every_tick_is_refused(make_feed, fake):
    # Every event dated a minute ahead (our clock a minute late): refused, never shown live, and the
    # status says why instead of only "no price".
    feed = make_feed(Transport.WEBSOCKET, silence_timeout=0.8)
    wait_for(lambda: feed.store.quote(BTC) is not None, what="BTC")
    ahead = int(time.time() * 1000) + 60_000
    fake.send_malformed(*({"e": "markPriceUpdate", "E": ahead + i, "s": "BTCUSDT", "p": "61000.50"} for i in range(40)))
    wait_for(lambda: "refused: future-dated" in feed.state.last_error, 5.0, "the reason in the status")
    assert feed.state.last_error.startswith("SilentStream: no price for BTC/USDT:USDT for 0.8 s")
