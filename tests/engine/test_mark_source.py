"""Which ccxt call reads each venue's prices, and which field of its answer is the mark.

Payloads are the exchanges' own shapes, as ccxt 4.5.90 documents them in its parsers' comments
(ccxt/bitget.py, ccxt/pro/bitget.py, ccxt/mexc.py, ccxt/phemex.py, ccxt/kucoin.py, ccxt/htx.py,
ccxt/hyperliquid.py), and go through ccxt's own parse_ticker / parse_ws_ticker as a feed's do.
"""

from __future__ import annotations

import ccxt
import ccxt.pro
import pytest

from engine.market.feeds.exchange_config import Transport
from engine.market.feeds.mark_source import (
    NoPriceMethod,
    choose_method,
    mark_of,
    price_method_problem,
    ticks_from_tickers,
)

BITGET_CONTRACT_TICKER_EVENT = {  # Bitget "Tickers Channel", USDT-FUTURES (ccxt/pro/bitget.py parse_ws_ticker)
    "action": "snapshot",
    "arg": {"instType": "USDT-FUTURES", "channel": "ticker", "instId": "BTCUSDT"},
    "data": [
        {
            "instId": "BTCUSDT",
            "lastPr": "43480.4",
            "bidPr": "43476.3",
            "askPr": "43476.8",
            "bidSz": "0.1",
            "askSz": "3.055",
            "open24h": "42252.3",
            "high24h": "44518.2",
            "low24h": "41387.0",
            "change24h": "0.03875",
            "fundingRate": "0.000096",
            "nextFundingTime": "1701849600000",
            "markPrice": "43476.4",
            "indexPrice": "43478.4",
            "holdingAmount": "50670.787",
            "baseVolume": "120187.104",
            "quoteVolume": "5167385048.693",
            "openUtc": "42895.5",
            "ts": "1701842994338",
        }
    ],
    "ts": 1701842994341,
}

MEXC_CONTRACT_TICKER = {  # MEXC contract "Get Ticker" / push.tickers (ccxt/mexc.py parse_ticker)
    "symbol": "ETH_USDT",
    "lastPrice": 3581.3,
    "bid1": 3581.25,
    "ask1": 3581.5,
    "volume24": 4045530,
    "amount24": 141331823.5755,
    "holdVol": 5832946,
    "lower24Price": 3413.4,
    "high24Price": 3588.7,
    "riseFallRate": 0.0275,
    "riseFallValue": 95.95,
    "indexPrice": 3580.7852,
    "fairPrice": 3581.08,
    "fundingRate": 0.000063,
    "maxBidPrice": 3938.85,
    "minAskPrice": 3222.7,
    "timestamp": 1634162885016,
}

PHEMEX_LINEAR_TICKER = {  # Phemex USDT perpetual 24h ticker, v2 (ccxt/phemex.py parse_ticker)
    "closeRp": "16820.5",
    "fundingRateRr": "0.0001",
    "highRp": "16962.1",
    "indexPriceRp": "16830.15651565",
    "lowRp": "16785",
    "markPriceRp": "16830.97534951",
    "openInterestRv": "1323.596",
    "openRp": "16851.7",
    "predFundingRateRr": "0.0001",
    "symbol": "BTCUSDT",
    "timestamp": "1672142789065593096",
    "turnoverRv": "124835296.0538",
    "volumeRq": "7406.95",
}

HTX_TICKER = {  # HTX linear swap detail (ccxt/htx.py parse_ticker): no mark in it
    "amount": 26228.672978342216,
    "open": 9078.95,
    "close": 9146.86,
    "high": 9155.41,
    "id": 209988544334,
    "count": 265846,
    "low": 8988.0,
    "version": 209988544334,
    "ask": [9146.87, 0.156134],
    "vol": 2.3822168242201668e8,
    "bid": [9146.86, 0.080758],
}

HYPERLIQUID_CTX = {  # activeAssetCtx's ctx / metaAndAssetCtxs entry (ccxt/pro/hyperliquid.py)
    "name": "BTC",
    "dayNtlVlm": "1169046.29406",
    "prevDayPx": "15.322",
    "markPx": "14.3161",
    "midPx": "14.314",
    "oraclePx": "14.32",
    "funding": "0.0000125",
    "openInterest": "688.11",
    "premium": "0.00031774",
    "impactPxs": ["14.3047", "14.3444"],
}

KUCOIN_FUTURES_MARK = {"symbol": "XBTUSDTM", "granularity": 1000, "timePoint": 1700000000000, "value": 61000.5}


def test_bitget_reads_the_mark_from_the_contract_ticker_channel():
    ticker = ccxt.pro.bitget().parse_ws_ticker(BITGET_CONTRACT_TICKER_EVENT)
    assert ticker["markPrice"] is None  # ccxt's websocket ticker leaves it out
    assert mark_of("bitget", ticker) == (43476.4, False)


def test_bitget_rest_tickers_carry_the_mark_unified():
    ticker = ccxt.bitget().parse_ticker(BITGET_CONTRACT_TICKER_EVENT["data"][0])
    assert mark_of("bitget", ticker) == (43476.4, False)


def test_mexc_fair_price_is_its_mark():
    ticker = ccxt.mexc().parse_ticker(MEXC_CONTRACT_TICKER)
    assert ticker["last"] == 3581.3
    assert mark_of("mexc", ticker) == (3581.08, False)


def test_phemex_linear_mark_price_rp():
    ticker = ccxt.phemex().parse_ticker(PHEMEX_LINEAR_TICKER)
    assert mark_of("phemex", ticker) == (16830.97534951, False)


def test_phemex_perpetual_stream_row_mark_rp():
    # perp_market24h_pack_p row; its 'fields': symbol, openRp, highRp, lowRp, lastRp, volumeRq, turnoverRv,
    # openInterestRv, indexRp, markRp, fundingRateRr, predFundingRateRr (ccxt/pro/phemex.py handle_ticker)
    row = ["STXUSDT", "0.64649", "0.8628", "0.61215", "0.71737", "4519387", "3210827.98166", "697635"]
    row += ["0.71720205", "0.71730001", "0.0001", "0.0001"]
    ticker = ccxt.pro.phemex().parse_perpetual_ticker(row)
    assert ticker["last"] == 0.71737
    assert mark_of("phemex", ticker) == (0.71730001, False)


def test_without_a_mark_the_last_trade_stands_in_and_says_so():
    htx = ccxt.htx()
    htx.set_markets([])  # its parser looks the symbol up among the futures
    ticker = htx.parse_ticker(HTX_TICKER)
    assert mark_of("htx", ticker) == (9146.86, True)
    [tick] = ticks_from_tickers("htx", {"BTC/USDT:USDT": ticker})
    assert tick.mark == 9146.86 and tick.mark_is_last_trade


def test_hyperliquid_context_gives_markpx_and_a_mid_never_stands_in():
    context = ccxt.hyperliquid().parse_ticker(HYPERLIQUID_CTX)
    assert context["last"] == 14.314  # ccxt's last is the mid
    assert mark_of("hyperliquid", context) == (14.3161, False)
    mid_only = ccxt.hyperliquid().parse_ticker({"name": "BTC", "price": "14.314"})  # an allMids entry
    assert mark_of("hyperliquid", mid_only) == (None, False)
    [tick] = ticks_from_tickers("hyperliquid", {"BTC/USDC:USDC": mid_only})
    assert tick.mark is None and tick.last is None  # the store refuses it: the symbol ages, shows stale


def test_kucoin_futures_mark_value():
    ticker = ccxt.kucoinfutures().parse_ticker(KUCOIN_FUTURES_MARK)
    assert mark_of("kucoinfutures", ticker) == (61000.5, False)


@pytest.mark.parametrize("bad", ["NaN", "inf", "", "n/a", None, True])
def test_an_unreadable_info_mark_is_no_mark(bad):
    ticker = {"markPrice": None, "last": 43480.4, "info": {"markPrice": bad}}
    assert mark_of("bitget", ticker) == (43480.4, True)


def has(exchange_id: str) -> dict:
    return ccxt.pro.__dict__[exchange_id]().has


@pytest.mark.parametrize(
    ("exchange_id", "transport", "described"),
    [
        ("binanceusdm", Transport.AUTO, "websocket: watch_mark_prices"),
        ("binanceusdm", Transport.REST, "rest: fetch_mark_prices"),
        ("okx", Transport.AUTO, "websocket: watch_mark_prices"),
        ("bybit", Transport.AUTO, "websocket: watch_tickers"),
        ("hyperliquid", Transport.AUTO, "websocket: watch_ticker (per symbol)"),
        ("hyperliquid", Transport.REST, "rest: fetch_tickers"),
        ("kucoinfutures", Transport.AUTO, "websocket: watch_mark_price (per symbol)"),
        ("kucoinfutures", Transport.REST, "rest: fetch_mark_price (per symbol)"),
        ("bitget", Transport.REST, "rest: fetch_tickers"),
        ("bingx", Transport.AUTO, "rest: fetch_mark_prices"),  # its stream has no mark
        ("bingx", Transport.WEBSOCKET, "websocket: watch_ticker (per symbol)"),
        ("htx", Transport.AUTO, "websocket: watch_ticker (per symbol)"),
    ],
)
def test_the_call_each_venue_is_read_with(exchange_id, transport, described):
    method = choose_method(exchange_id, has(exchange_id), transport)
    assert method.describe() == described


def test_hyperliquid_polls_its_perpetuals_only():
    assert choose_method("hyperliquid", has("hyperliquid"), Transport.REST).params == {"type": "swap"}


def test_an_exchange_without_a_public_price_call_is_named():
    with pytest.raises(NoPriceMethod, match="dydx offers no public price method in ccxt"):
        choose_method("dydx", has("dydx"), Transport.AUTO)
    with pytest.raises(NoPriceMethod, match="no websocket price stream"):
        choose_method("dydx", has("dydx"), Transport.WEBSOCKET)
    assert price_method_problem("dydx") == (
        "dydx offers no public price method in ccxt: type its prices by hand (Prices dock, or 'prices' in the "
        "portfolio file)"
    )
    assert price_method_problem("binanceusdm") is None
    assert price_method_problem("no-such-exchange") is None  # the caller's own check names it


BYBIT_LINEAR_TICKER = {  # Bybit v5 "Get Tickers", linear (ccxt/bybit.py parse_ticker)
    "symbol": "BTCUSDT",
    "lastPrice": "16597.00",
    "indexPrice": "16598.54",
    "markPrice": "16596.00",
    "prevPrice24h": "16464.50",
    "price24hPcnt": "0.008047",
    "highPrice24h": "30912.50",
    "lowPrice24h": "15700.00",
    "fundingRate": "-0.001034",
    "nextFundingTime": "1672387200000",
}
GATE_FUTURES_TICKER = {  # Gate futures tickers (ccxt/gate.py parse_ticker)
    "contract": "BTC_USDT",
    "last": "6432",
    "low_24h": "6278",
    "high_24h": "6790",
    "change_percentage": "4.43",
    "mark_price": "6534",
    "funding_rate": "0.0001",
    "index_price": "6531",
}
DERIBIT_TICKER = {  # Deribit public/ticker (ccxt/deribit.py parse_ticker)
    "timestamp": 1583778859480,
    "stats": {"volume": 60.87, "price_change": 1.2, "low": 7600, "high": 7900},
    "state": "open",
    "mark_price": 7750.02,
    "last_price": 7750.5,
    "instrument_name": "BTC-PERPETUAL",
    "index_price": 7748.01,
    "best_bid_price": 7750,
    "best_ask_price": 7750.5,
}


@pytest.mark.parametrize(
    ("exchange_id", "payload", "mark"),
    [
        ("bybit", BYBIT_LINEAR_TICKER, 16596.0),
        ("gate", GATE_FUTURES_TICKER, 6534.0),
        ("deribit", DERIBIT_TICKER, 7750.02),
    ],
)
def test_venues_whose_tickers_carry_the_mark_unified(exchange_id, payload, mark):
    ticker = getattr(ccxt, exchange_id)().parse_ticker(payload)
    assert ticker["last"] != mark  # the last trade is elsewhere: taking it would be caught here
    assert mark_of(exchange_id, ticker) == (mark, False)
