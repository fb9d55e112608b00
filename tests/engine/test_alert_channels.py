"""Alert channels against a local receiver on 127.0.0.1: the payloads each channel sends, and the faults
(500, timeout, refused, 429, a bad token) with retries, backoff, the rate limit and each channel's state."""

from __future__ import annotations

import time

import pytest

from engine.alerts.channel_secrets import SERVICE, SecretMissing, load_secret, require_secret, store_secret
from engine.alerts.channels import Channel, ChannelKind
from engine.alerts.dispatcher import Dispatcher, Timing
from engine.alerts.notice import alert_notice, feed_notice
from engine.monitor.alerts import Alert
from engine.monitor.levels import Level
from tests.alert_receiver import AlertReceiver, refused_url

FAST = Timing(attempts=3, first_wait=0.01, max_wait=1.0, timeout=0.3, rate_window=60.0)
AT = 1_796_090_000.0  # 2026-12-01T01:53:20Z
KEY = ("main", "BTC/USDT:USDT", "long", False, 0)
DANGER_ALERT = Alert(
    AT, "main BTC/USDT:USDT long", Level.WARNING, Level.DANGER, 0.042, 61_234.5, key=KEY, liquidation=58_662.6
)
WARNING_ALERT = Alert(
    AT, "main BTC/USDT:USDT long", Level.OK, Level.WARNING, 0.12, 61_234.5, key=KEY, liquidation=53_900.0
)
EXCHANGES = {"main": "binanceusdm"}


@pytest.fixture
def rx():
    with AlertReceiver() as receiver:
        yield receiver


def dispatched(channels, notices, timing=FAST):
    """Dispatch, let every queue drain, and return the channels' states."""
    dispatcher = Dispatcher(channels, timing)
    dispatcher.dispatch(notices)
    assert dispatcher.close(timeout=10)
    return {s.name: s for s in dispatcher.states()}


def test_the_webhook_posts_every_documented_field_as_json(rx):
    states = dispatched(
        [Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"))], [alert_notice(DANGER_ALERT, EXCHANGES)]
    )
    (request,) = rx.requests
    assert (request.method, request.path, request.headers["Content-Type"]) == ("POST", "/hook", "application/json")
    assert request.json() == {
        "kind": "level",
        "account": "main",
        "exchange": "binanceusdm",
        "symbol": "BTC/USDT:USDT",
        "side": "long",
        "level": "danger",
        "previous_level": "warning",
        "distance": 0.042,
        "mark": 61_234.5,
        "liquidation_price": 58_662.6,
        "quote_currency": "USDT",
        "time": "2026-12-01T01:53:20Z",
        "text": "DANGER: main BTC/USDT:USDT long: warning → danger, +4.20% to liquidation, mark 61,234.50 USDT, "
        "liquidation 58,662.60 USDT",
    }
    assert states["ops"].status == "ok" and states["ops"].last_sent is not None and states["ops"].sent == 1


def test_ntfy_posts_the_line_with_title_priority_tags_and_the_access_token(rx):
    channel = Channel("phone", ChannelKind.NTFY, url=rx.url("/mw-topic-x7"), token="tk_secret")
    dispatched([channel], [alert_notice(DANGER_ALERT, EXCHANGES), feed_notice("binanceusdm", 125.0, AT)])
    danger, feed = rx.requests
    assert danger.path == "/mw-topic-x7" and danger.body.decode().startswith("DANGER: main BTC/USDT:USDT long")
    assert (danger.headers["Title"], danger.headers["Priority"]) == ("Margin Watch: DANGER", "4")
    assert danger.headers["Tags"] == "marginwatch,danger"
    assert danger.headers["Authorization"] == "Bearer tk_secret"
    assert feed.body.decode() == "FEED PROBLEM: no fresh price from binanceusdm for 125 s"
    assert (feed.headers["Title"], feed.headers["Priority"]) == ("Margin Watch: feed problem", "4")


def test_telegram_calls_send_message_with_the_bot_token_in_the_path(rx):
    channel = Channel("bot", ChannelKind.TELEGRAM, token="123456:ABC-def", chat_id="-1001234", api_url=rx.url())
    states = dispatched([channel], [alert_notice(DANGER_ALERT, EXCHANGES)])
    (request,) = rx.requests
    assert request.path == "/bot123456:ABC-def/sendMessage"
    body = request.json()
    assert body["chat_id"] == "-1001234" and body["text"].startswith(
        "DANGER: main BTC/USDT:USDT long: warning → danger"
    )
    assert states["bot"].status == "ok"


def test_a_500_is_retried_and_the_channel_ends_ok(rx):
    rx.reply(500, "upstream broke")
    states = dispatched(
        [Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"))], [alert_notice(DANGER_ALERT, EXCHANGES)]
    )
    first, second = rx.requests
    assert first.body == second.body  # the same notice again
    assert states["ops"].status == "ok" and states["ops"].dropped == 0


def test_backoff_doubles_between_attempts(rx):
    for _ in range(3):
        rx.reply(503, "")
    timing = Timing(attempts=3, first_wait=0.15, timeout=1.0)
    states = dispatched(
        [Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"))], [alert_notice(DANGER_ALERT, EXCHANGES)], timing
    )
    a, b, c = (r.at for r in rx.requests)
    assert 0.15 <= b - a < 1.0 and 0.3 <= c - b < 1.0  # 0.15 s, then twice that (upper bounds: a loaded machine)
    state = states["ops"]
    assert (state.status, state.dropped) == ("failing", 1)
    assert state.last_error == "HTTP 503 Service Unavailable"


def test_a_timeout_is_failing_with_the_reason_then_recovers(rx):
    rx.hang(1.0)
    rx.hang(1.0)
    channel = Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"))
    dispatcher = Dispatcher([channel], Timing(attempts=2, first_wait=0.01, timeout=0.2))
    dispatcher.dispatch([alert_notice(WARNING_ALERT, EXCHANGES)])
    deadline = time.monotonic() + 5
    while dispatcher.states()[0].dropped == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    state = dispatcher.states()[0]
    assert (state.status, state.last_error) == ("failing", "no answer within 0.2 s (timed out)")
    dispatcher.dispatch([alert_notice(DANGER_ALERT, EXCHANGES)])
    assert dispatcher.close(timeout=5)
    assert dispatcher.states()[0].status == "ok"


def test_connection_refused_leaves_the_channel_failing_with_the_error_text():
    channel = Channel("ops", ChannelKind.WEBHOOK, url=refused_url())
    state = dispatched([channel], [alert_notice(DANGER_ALERT, EXCHANGES)])["ops"]
    assert state.status == "failing" and state.last_sent is None and state.dropped == 1
    assert state.last_error == "connection refused (nothing listens at that address)"
    assert (
        state.describe()
        == "ops (webhook): failing: connection refused (nothing listens at that address), 1 not delivered"
    )


def test_a_connection_closed_without_an_answer_is_retried(rx):
    rx.cut()
    state = dispatched(
        [Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"))], [alert_notice(DANGER_ALERT, EXCHANGES)]
    )
    assert len(rx.requests) == 2 and state["ops"].status == "ok"


def test_a_429_waits_as_long_as_the_server_asks(rx):
    rx.reply(429, headers={"Retry-After": "0.4"})
    dispatched([Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"))], [alert_notice(DANGER_ALERT, EXCHANGES)])
    first, second = rx.requests
    assert second.at - first.at >= 0.4


def test_telegram_flood_control_retry_after_is_honoured(rx):
    rx.reply(
        429,
        '{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", '
        '"parameters": {"retry_after": 1}}',
    )
    channel = Channel("bot", ChannelKind.TELEGRAM, token="1:x", chat_id="7", api_url=rx.url())
    states = dispatched([channel], [alert_notice(DANGER_ALERT, EXCHANGES)], Timing(first_wait=0.01, timeout=1))
    first, second = rx.requests
    assert second.at - first.at >= 1.0
    assert states["bot"].status == "ok"


def test_a_refused_token_is_not_retried_and_never_shows_in_the_error(rx):
    rx.reply(401, '{"ok": false, "error_code": 401, "description": "Unauthorized"}')
    channel = Channel("bot", ChannelKind.TELEGRAM, token="999:SECRET", chat_id="7", api_url=rx.url())
    state = dispatched([channel], [alert_notice(DANGER_ALERT, EXCHANGES)])["bot"]
    assert len(rx.requests) == 1
    assert state.last_error == "HTTP 401 Unauthorized: Unauthorized"
    assert "SECRET" not in repr(channel) + repr(state) + state.describe()


def test_a_servers_error_text_never_drives_the_terminal(rx):
    rx.reply(400, "bad \x1b]0;pwned\x07 request")
    state = dispatched(
        [Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"))], [alert_notice(DANGER_ALERT, EXCHANGES)]
    )
    assert state["ops"].last_error == "HTTP 400 Bad Request: bad \\x1b]0;pwned\\x07 request"


def test_an_ok_false_inside_a_200_is_a_failure(rx):
    rx.reply(200, '{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}')
    channel = Channel("bot", ChannelKind.TELEGRAM, token="1:x", chat_id="7", api_url=rx.url())
    state = dispatched([channel], [alert_notice(DANGER_ALERT, EXCHANGES)])["bot"]
    assert (state.status, state.last_error) == ("failing", "refused: Bad Request: chat not found")


def test_the_rate_limit_spaces_a_burst_per_channel(rx):
    slow = Channel("slow", ChannelKind.WEBHOOK, url=rx.url("/slow"), max_per_minute=2)
    fast = Channel("fast", ChannelKind.WEBHOOK, url=rx.url("/fast"))
    notices = [alert_notice(DANGER_ALERT, EXCHANGES)] * 3
    dispatched([slow, fast], notices, Timing(first_wait=0.01, timeout=1, rate_window=0.5))
    slow_times = [r.at for r in rx.requests if r.path == "/slow"]
    fast_times = [r.at for r in rx.requests if r.path == "/fast"]
    assert len(slow_times) == len(fast_times) == 3
    # the third waited for the 0.5 s window (times are arrivals: the first may have arrived a little late)
    assert slow_times[2] - slow_times[0] >= 0.45
    assert fast_times[2] - fast_times[0] < 0.4  # the other channel was never held up


def test_a_hanging_channel_never_blocks_dispatch_or_the_others(rx):
    rx.hang(1.0)
    stuck = Channel("stuck", ChannelKind.WEBHOOK, url=rx.url("/stuck"))
    dispatcher = Dispatcher([stuck], Timing(attempts=1, timeout=5))
    other = AlertReceiver()
    with other:
        dispatcher2 = Dispatcher([Channel("ok", ChannelKind.WEBHOOK, url=other.url("/ok"))], FAST)
        started = time.monotonic()
        dispatcher.dispatch([alert_notice(DANGER_ALERT, EXCHANGES)])
        dispatcher2.dispatch([alert_notice(DANGER_ALERT, EXCHANGES)])
        assert time.monotonic() - started < 0.05
        other.wait_for(1)
        dispatcher2.close()
    dispatcher.close(timeout=0.1)  # gives up on the hanging request: the thread is abandoned by timeout


def test_each_channel_takes_its_minimum_level_and_feed_problems_as_configured(rx):
    warn = Channel("warn", ChannelKind.WEBHOOK, url=rx.url("/warn"), min_level=Level.WARNING, feed_problems=False)
    danger = Channel("danger", ChannelKind.WEBHOOK, url=rx.url("/danger"), min_level=Level.DANGER)
    stale = Alert(AT, "main BTC/USDT:USDT long", Level.DANGER, Level.DANGER, 0.04, 1.0, stale=True, key=KEY)
    notices = [alert_notice(a, EXCHANGES) for a in (WARNING_ALERT, DANGER_ALERT, stale)]
    dispatched([warn, danger], [*notices, feed_notice("binanceusdm", 130, AT)])
    got = {
        path: [r.json()["kind"] + ":" + str(r.json()["level"]) for r in rx.requests if r.path == path]
        for path in ("/warn", "/danger")
    }
    assert got == {
        "/warn": ["level:warning", "level:danger"],
        "/danger": ["level:danger", "stale_price:danger", "feed_stale:None"],
    }


def test_send_test_reaches_the_channel_and_reports_its_state(rx):
    dispatcher = Dispatcher(
        [Channel("ops", ChannelKind.WEBHOOK, url=rx.url("/hook"), min_level=Level.LIQUIDATED)], FAST
    )
    dispatcher.send_test("ops")
    dispatcher.close()
    (request,) = rx.requests
    assert request.json()["kind"] == "test" and "No position is at risk" in request.json()["text"]
    assert dispatcher.states()[0].status == "ok"


def test_secrets_come_from_the_environment_first_then_the_keyring(test_keyring):
    env = {"MARGINWATCH_ALERT_MY_PHONE_URL": "https://ntfy.example/env-topic"}
    store_secret("my phone", "url", "https://ntfy.example/kr-topic")
    assert test_keyring.passwords == {(SERVICE, "my phone:url"): "https://ntfy.example/kr-topic"}
    assert load_secret("my phone", "url", env) == "https://ntfy.example/env-topic"
    assert load_secret("my phone", "url", {}) == "https://ntfy.example/kr-topic"
    with pytest.raises(SecretMissing) as missing:
        require_secret("bot", "token", {})
    assert str(missing.value) == (
        "no token for 'bot': set the environment variable MARGINWATCH_ALERT_BOT_TOKEN or the keyring "
        "(marginwatch-alerts, 'bot:token')"
    )
