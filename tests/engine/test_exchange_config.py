"""--exchange-config checking: credentials, unknown names and deep nesting refused in one line; a host
that is not the exchange's own is a warning shown in the feed's status."""

from __future__ import annotations

import json

import pytest

from engine.market.feeds.exchange_config import (
    ExchangeConfigError,
    Transport,
    connection_note,
    load_exchange_config,
    parse_exchange_config,
)
from engine.market.feeds.state import FeedState, FeedStatus

FAKE_URLS = {
    "urls": {"api": {"fapiPublic": "http://127.0.0.1:8080/fapi/v1", "ws": {"linear": "ws://127.0.0.1:8080/ws"}}}
}


@pytest.mark.parametrize(
    ("ccxt", "named"),
    [
        ({"apiKey": "k"}, "binanceusdm.ccxt.apiKey"),
        ({"secret": "s"}, "binanceusdm.ccxt.secret"),
        ({"password": "p"}, "binanceusdm.ccxt.password"),
        ({"uid": "1"}, "binanceusdm.ccxt.uid"),
        ({"privateKey": "0x1"}, "binanceusdm.ccxt.privateKey"),
        ({"walletAddress": "0x2"}, "binanceusdm.ccxt.walletAddress"),
        ({"token": "t"}, "binanceusdm.ccxt.token"),
        ({"api_key": "k"}, "binanceusdm.ccxt.api_key"),
        ({"options": {"secret": "s"}}, "binanceusdm.ccxt.options.secret"),
        ({"headers": {"X-MBX-APIKEY": "k"}}, "binanceusdm.ccxt.headers.X-MBX-APIKEY"),
    ],
)
def test_credentials_are_refused_naming_where_they_are(ccxt, named):
    # Issue 14: with an apiKey ccxt contacted the real exchange despite every URL override.
    with pytest.raises(ExchangeConfigError, match="credentials do not belong here") as caught:
        parse_exchange_config({"binanceusdm": {"ccxt": {**FAKE_URLS, **ccxt}}})
    assert str(caught.value).startswith(named + ":")


def test_an_exchange_no_account_uses_is_an_error_naming_it_with_a_did_you_mean():
    with pytest.raises(ExchangeConfigError) as caught:
        parse_exchange_config({"binance": {"transport": "rest"}}, used_exchanges={"binanceusdm"})
    assert str(caught.value) == (
        "binance: no account in the book uses this exchange (did you mean 'binanceusdm'?); "
        "the accounts use: binanceusdm"
    )
    with pytest.raises(ExchangeConfigError, match=r"^binanceusd: not a ccxt exchange id \(did you mean 'binanceusdm'"):
        parse_exchange_config({"binanceusd": {}})
    assert parse_exchange_config({"binanceusdm": {}}, used_exchanges={"binanceusdm"})["binanceusdm"].transport is (
        Transport.AUTO
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"transprt": "rest"}, "binanceusdm: unknown setting 'transprt' (did you mean 'transport'?)"),
        (
            {"ccxt": {"timout": 5000}},
            "binanceusdm.ccxt: 'timout' is not a ccxt setting of binanceusdm (did you mean 'timeout'?)",
        ),
        ({"ccxt": {"fetch_tickers": 1}}, "binanceusdm.ccxt: 'fetch_tickers' is not a ccxt setting of binanceusdm"),
        ({"transport": ["rest"]}, "binanceusdm: 'transport' must be auto, rest or websocket, not ['rest']"),
    ],
)
def test_an_unknown_option_is_an_error_naming_it(item, message):
    with pytest.raises(ExchangeConfigError) as caught:
        parse_exchange_config({"binanceusdm": item})
    assert str(caught.value) == message


@pytest.mark.parametrize("depth", [25, 1_000, 100_000])
def test_deeply_nested_json_is_one_line_not_a_traceback(tmp_path, depth):
    path = tmp_path / "exchanges.json"
    path.write_text('{"binanceusdm": {"ccxt": {"options": ' + "[" * depth + "]" * depth + "}}}")
    with pytest.raises(ExchangeConfigError) as caught:
        load_exchange_config(path)
    assert str(caught.value) == "nested more than 20 levels deep"


def test_the_exchanges_own_hosts_give_no_warning_other_hosts_plain_http_and_no_tls_check_do():
    import ccxt

    # The exchange's own REST address as ccxt itself has it (nothing is contacted).
    own = {"urls": {"api": {"fapiPublic": ccxt.binanceusdm().urls["api"]["fapiPublic"]}}, "timeout": 5000}
    assert connection_note("binanceusdm", own) == ""
    assert connection_note("binanceusdm", FAKE_URLS) == "via 127.0.0.1:8080, not binanceusdm's own host; plain http"
    proxied = {"verify": False, "httpsProxy": "http://user:hunter2@proxy.example:3128"}
    note = connection_note("binanceusdm", proxied)
    assert note == "TLS certificates not verified; through proxy proxy.example:3128"
    assert "hunter2" not in note  # the note is shown and logged: never a proxy's password


def test_the_warning_stays_in_the_feed_status_while_live():
    state = FeedState("binanceusdm", FeedStatus.LIVE, connection=connection_note("binanceusdm", FAKE_URLS))
    assert state.describe() == (
        "binanceusdm: live [warning: via 127.0.0.1:8080, not binanceusdm's own host; plain http]"
    )
    assert FeedState("binanceusdm", FeedStatus.LIVE).describe() == "binanceusdm: live"


def test_a_valid_file_round_trips(tmp_path):
    path = tmp_path / "exchanges.json"
    path.write_text(json.dumps({"binanceusdm": {"ccxt": FAKE_URLS, "transport": "websocket"}}))
    settings = load_exchange_config(path, {"binanceusdm"})
    assert settings["binanceusdm"].ccxt == FAKE_URLS and settings["binanceusdm"].transport is Transport.WEBSOCKET
