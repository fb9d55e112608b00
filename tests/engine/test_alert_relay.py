"""The relay between a watch session and the channels: the session's own alerts (repeats not sent again), the
dead-man's switch (a heartbeat only while prices are seen, a feed problem once per stale spell) and the
config that sets it up."""

from __future__ import annotations

import pytest

from engine.alerts.channels import ChannelKind
from engine.alerts.config import AlertsConfigError, parse_alerts_config
from engine.alerts.dispatcher import ChannelState
from engine.alerts.relay import AlertRelay
from engine.book.portfolio import parse_portfolio
from engine.market.prices import MarkRecord, PriceSource
from engine.monitor.levels import Level
from engine.monitor.session import WatchSession
from tests.portfolio_docs import portfolio_doc, position_doc

BTC = ("binanceusdm", "BTC/USDT:USDT")
ETH = ("binanceusdm", "ETH/USDT:USDT")
SOL = ("bybit", "SOL/USDT:USDT")


class Recorder:
    """A Dispatcher stand-in: records what the relay queued."""

    def __init__(self) -> None:
        self.notices = []
        self.pings = 0
        self.closed = False
        self.now = 1000.0
        self.channel_states = [ChannelState("ops", "webhook")]

    def clock(self) -> float:
        return self.now

    def dispatch(self, notices) -> None:
        self.notices.extend(notices)

    def ping(self) -> None:
        self.pings += 1

    def states(self):
        return list(self.channel_states)

    def close(self, timeout: float = 5.0) -> bool:
        self.closed = True
        return True


def live(mark: float, at: float) -> MarkRecord:
    return MarkRecord(mark, PriceSource.LIVE, at)


def relay(recorder: Recorder, keys=(BTC, ETH, SOL), heartbeat: float | None = 60.0, **kw) -> AlertRelay:
    return AlertRelay(recorder, {"main": "binanceusdm"}, keys, 15.0, 120.0, heartbeat, **kw)


def test_the_sessions_alerts_are_sent_once_and_a_repeat_is_not():
    doc = portfolio_doc(position_doc(), wallet_balance=8_000, prices={"BTC/USDT:USDT": 50_000})
    portfolio = parse_portfolio(doc)
    now = [1000.0]
    session = WatchSession(portfolio, clock=lambda: now[0])
    recorder = Recorder()
    r = relay(recorder, keys=[BTC])
    for mark in (50_000, 58_000, 50_000):  # warning, back to ok, warning again within 5 minutes: a repeat
        now[0] += 10
        r.on_step(session.step({BTC: MarkRecord(mark, PriceSource.MANUAL, now[0])}))
    levels = [(n.previous_level, n.level, n.symbol) for n in recorder.notices]
    assert levels == [("ok", "warning", "BTC/USDT:USDT")]
    assert session.level(("main", "BTC/USDT:USDT", "long", False, 0)) is Level.WARNING


def test_the_heartbeat_is_pinged_every_interval_only_while_some_price_is_fresh():
    recorder = Recorder()
    r = relay(recorder)
    r.observe([], {BTC: live(1, 1000)}, 1000)
    r.observe([], {BTC: live(1, 1030)}, 1030)  # not yet due
    assert recorder.pings == 1
    r.observe([], {BTC: live(1, 1000), ETH: live(1, 1000)}, 1061)  # due, but every price is 61 s old: blind
    assert recorder.pings == 1
    r.observe([], {BTC: live(1, 1000), ETH: live(1, 1065)}, 1070)  # one fresh price: seeing again
    assert recorder.pings == 2


def test_a_book_on_manual_prices_only_still_pings():
    recorder = Recorder()
    relay(recorder, keys=[BTC]).observe([], {BTC: MarkRecord(1, PriceSource.MANUAL, 0)}, 5000)
    assert recorder.pings == 1


def test_a_feed_stale_past_the_limit_is_one_notice_per_spell_and_its_return_another():
    recorder = Recorder()
    r = relay(recorder, heartbeat=None)
    r.observe([], {BTC: live(1, 1000), SOL: live(1, 1000)}, 1000)
    r.observe([], {BTC: live(1, 1000), ETH: live(1, 1100), SOL: live(1, 1119)}, 1121)  # binance's newest: 21 s
    assert recorder.notices == []
    r.observe([], {BTC: live(1, 1000), ETH: live(1, 1000), SOL: live(1, 1130)}, 1125)  # binance 125 s blind
    r.observe([], {BTC: live(1, 1000), ETH: live(1, 1000), SOL: live(1, 1130)}, 1200)  # still: no second notice
    r.observe([], {BTC: live(1, 1195), ETH: live(1, 1000), SOL: live(1, 1130)}, 1201)  # BTC fresh: back
    assert [(n.kind, n.exchange, n.text) for n in recorder.notices] == [
        ("feed_stale", "binanceusdm", "FEED PROBLEM: no fresh price from binanceusdm for 125 s"),
        ("feed_back", "binanceusdm", "FEED BACK: binanceusdm prices are fresh again"),
    ]


def test_an_exchange_that_never_sent_a_price_is_blind_from_the_start():
    recorder = Recorder()
    r = relay(recorder, keys=[SOL], heartbeat=None)
    r.observe([], {}, 1100)
    r.observe([], {}, 1121)
    assert [(n.kind, n.exchange) for n in recorder.notices] == [("feed_stale", "bybit")]


def test_channel_state_changes_are_reported_once_each():
    recorder = Recorder()
    seen = []
    r = relay(recorder, on_state=seen.append)
    r.observe([], {}, 1000)
    recorder.channel_states = [ChannelState("ops", "webhook", "failing", "connection refused")]
    r.observe([], {}, 1001)
    r.observe([], {}, 1002)
    assert [(s.status, s.last_error) for s in seen] == [("failing", "connection refused")]


def test_the_config_reads_channels_levels_and_secrets_from_the_environment():
    env = {
        "MARGINWATCH_ALERT_MY_PHONE_URL": "https://ntfy.example/topic",
        "MARGINWATCH_ALERT_BOT_TOKEN": "1:abc",
        "MARGINWATCH_HEARTBEAT_URL": "https://hc.example/ping/uuid",
    }
    config = parse_alerts_config(
        {
            "channels": [
                {"name": "my phone", "type": "ntfy", "min_level": "danger", "feed_problems": False},
                {"name": "bot", "type": "telegram", "chat_id": -100123, "max_per_minute": 5},
            ],
            "heartbeat": {"every_s": 30},
            "feed_stale_after_s": 300,
        },
        env,
    )
    phone, bot = config.channels
    assert (phone.kind, phone.min_level, phone.feed_problems, phone.url) == (
        ChannelKind.NTFY,
        Level.DANGER,
        False,
        "https://ntfy.example/topic",
    )
    assert (bot.token, bot.chat_id, bot.max_per_minute, bot.min_level) == ("1:abc", "-100123", 5, Level.WARNING)
    assert config.heartbeat is not None and config.heartbeat.url == "https://hc.example/ping/uuid"
    assert (config.heartbeat_every, config.feed_stale_after) == (30.0, 300.0)


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "the file must hold one JSON object with 'channels'"),
        ({"chanels": []}, "chanels: unknown member (known: channels, heartbeat, feed_stale_after_s)"),
        ({"channels": []}, "channels: name at least one channel (or a heartbeat)"),
        ({"channels": [{"type": "ntfy"}]}, "channels[0].name: must be 1 to 40 characters (and not 'heartbeat')"),
        ({"channels": [{"name": "a", "type": "ntfy", "colour": 1}]}, "channels[0].colour: unknown member"),
        ({"channels": [{"name": "a", "type": "telegram"}]}, "channels[0].chat_id: required for telegram"),
        ({"channels": [{"name": "a", "type": "ntfy", "max_per_minute": 0}]}, "channels[0].max_per_minute: must be"),
        ({"channels": [{"name": "a", "type": "ntfy", "feed_problems": "yes"}]}, "channels[0].feed_problems: must be"),
        ({"heartbeat": {"url": "https://hc.example/x"}}, 'heartbeat: must be {"every_s": seconds}; the URL is not'),
        (
            {"channels": [{"name": "a", "type": "webhook"}, {"name": "a", "type": "webhook"}]},
            "channels[1].name: 'a' is already the name of another channel",
        ),
    ],
)
def test_a_bad_config_names_the_field(doc, message):
    env = {"MARGINWATCH_ALERT_A_URL": "https://hooks.example/a", "MARGINWATCH_ALERT_A_TOKEN": "t"}
    with pytest.raises(AlertsConfigError) as error:
        parse_alerts_config(doc, env)
    assert str(error.value).startswith(message)


def test_a_url_without_http_in_the_environment_is_refused():
    with pytest.raises(AlertsConfigError) as error:
        parse_alerts_config({"channels": [{"name": "a", "type": "webhook"}]}, {"MARGINWATCH_ALERT_A_URL": "hooks/a"})
    assert "must start with https:// or http://" in str(error.value) and "hooks/a" not in str(error.value)
