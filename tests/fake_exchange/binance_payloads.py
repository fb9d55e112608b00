"""Binance USDⓈ-M public payloads, in the shapes Binance documents and serves.

Field sets follow the responses of GET /fapi/v1/exchangeInfo, /fapi/v1/premiumIndex and
/fapi/v1/ticker/24hr and the <symbol>@markPrice websocket stream (Binance USDⓈ-M Futures API docs,
"Exchange Information", "Mark Price", "24hr Ticker Price Change Statistics", "Mark Price Stream");
values are a realistic snapshot.
"""

from __future__ import annotations

from typing import Any

# symbol id -> (base, price precision, quantity precision, tick size, step size, min notional)
PERPETUALS = {
    "BTCUSDT": ("BTC", 2, 3, "0.10", "0.001", "100"),
    "ETHUSDT": ("ETH", 2, 3, "0.01", "0.001", "20"),
    "SOLUSDT": ("SOL", 4, 0, "0.0100", "1", "5"),
    "DOGEUSDT": ("DOGE", 6, 0, "0.000010", "1", "5"),
}


def symbol_info(symbol_id: str) -> dict[str, Any]:
    base, price_precision, quantity_precision, tick, step, min_notional = PERPETUALS[symbol_id]
    return {
        "symbol": symbol_id,
        "pair": symbol_id,
        "contractType": "PERPETUAL",
        "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": base,
        "quoteAsset": "USDT",
        "marginAsset": "USDT",
        "pricePrecision": price_precision,
        "quantityPrecision": quantity_precision,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": ["PoW"] if base == "BTC" else ["Layer-1"],
        "settlePlan": 0,
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "556.80", "maxPrice": "4529764", "tickSize": tick},
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "1000", "stepSize": step},
            {"filterType": "MARKET_LOT_SIZE", "minQty": step, "maxQty": "120", "stepSize": step},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": min_notional},
            {
                "filterType": "PERCENT_PRICE",
                "multiplierUp": "1.0500",
                "multiplierDown": "0.9500",
                "multiplierDecimal": "4",
            },
        ],
        "orderTypes": [
            "LIMIT",
            "MARKET",
            "STOP",
            "STOP_MARKET",
            "TAKE_PROFIT",
            "TAKE_PROFIT_MARKET",
            "TRAILING_STOP_MARKET",
        ],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
        "permissionSets": ["GRID", "COPY"],
    }


def exchange_info(now_ms: int) -> dict[str, Any]:
    return {
        "timezone": "UTC",
        "serverTime": now_ms,
        "futuresType": "U_MARGINED",
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
            {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
        ],
        "exchangeFilters": [],
        "assets": [
            {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"},
            {"asset": "USDC", "marginAvailable": True, "autoAssetExchange": "-10000"},
        ],
        "symbols": [symbol_info(s) for s in PERPETUALS],
    }


def premium_index(symbol_id: str, mark: str, now_ms: int, funding_rate: str = "0.00010000") -> dict[str, Any]:
    """One symbol of GET /fapi/v1/premiumIndex: lastFundingRate is the rate of the coming funding, a string
    fraction per interval, nextFundingTime the next 00:00 / 08:00 / 16:00 UTC in ms (Binance's real shape)."""
    return {
        "symbol": symbol_id,
        "markPrice": mark,
        "indexPrice": mark,
        "estimatedSettlePrice": mark,
        "lastFundingRate": funding_rate,
        "interestRate": "0.00010000",
        "nextFundingTime": (now_ms // 28_800_000 + 1) * 28_800_000,
        "time": now_ms,
    }


def ticker_24hr(symbol_id: str, last: str, now_ms: int) -> dict[str, Any]:
    return {
        "symbol": symbol_id,
        "priceChange": "-94.99999800",
        "priceChangePercent": "-95.960",
        "weightedAvgPrice": last,
        "lastPrice": last,
        "lastQty": "0.010",
        "openPrice": last,
        "highPrice": last,
        "lowPrice": last,
        "volume": "8913.30000000",
        "quoteVolume": "15.30000000",
        "openTime": now_ms - 86_400_000,
        "closeTime": now_ms,
        "firstId": 28385,
        "lastId": 28460,
        "count": 76,
    }


def mark_price_event(symbol_id: str, mark: Any, now_ms: int, funding_rate: str = "0.00010000") -> dict[str, Any]:
    """One event of the Mark Price Stream (Binance USDⓈ-M futures websocket market streams, "Mark Price Stream"):
    mark `p`, index `i`, estimated settle price `P`, funding rate `r` and next funding time `T` (ms)."""
    return {
        "e": "markPriceUpdate",
        "E": now_ms,
        "s": symbol_id,
        "p": mark,
        "ap": mark,
        "P": mark,
        "i": mark,
        "r": funding_rate,
        "T": (now_ms // 28_800_000 + 1) * 28_800_000,
    }


def kline(open_ms: int, open_: float, high: float, low: float, close: float, volume: float) -> list[Any]:
    """One row of GET /fapi/v1/klines (Binance USDⓈ-M Futures API docs, "Kline/Candlestick Data"): open time,
    open, high, low, close, volume, close time, quote asset volume, number of trades, taker buy base asset
    volume, taker buy quote asset volume, ignore; prices and volumes as strings."""
    return [
        open_ms,
        f"{open_:.8f}",
        f"{high:.8f}",
        f"{low:.8f}",
        f"{close:.8f}",
        f"{volume:.3f}",
        open_ms + 3_599_999,
        f"{volume * close:.8f}",
        1200,
        f"{volume / 2:.3f}",
        f"{volume * close / 2:.8f}",
        "0",
    ]
