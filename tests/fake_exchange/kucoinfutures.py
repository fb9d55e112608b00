"""A fake KuCoin Futures on 127.0.0.1 that real ccxt's kucoinfutures talks to, unmodified: REST and the
public unified (UTA) websocket's mark-price channel.

    with FakeKucoinFutures() as fake:
        config = fake.ccxt_config()                  # the --exchange-config 'ccxt' member
        fake.set_mark("XBTUSDTM", 61000.5)
        fake.fail_next("/api/v1/mark-price/XBTUSDTM/current", 503)

Serves what load_markets asks (GET /api/v1/contracts/active, and GET /api/v3/currencies on the spot
host), each contract's mark
(GET /api/v1/mark-price/{symbol}/current), its ticker (GET /api/v1/ticker: the last trade, no mark),
and, on the spot host, KuCoin's margin mark list (GET /api/v3/mark-price/all-symbols), which ccxt's
kucoinfutures.fetch_mark_prices reads: its symbols are spot pairs ('BTC-USDT'), and its values here differ
from the futures marks, so a feed that read it would show neither the right symbols nor the right price.
The websocket (ccxt's watch_mark_price, on urls.api.ws.futures) takes {"id", "action": "subscribe",
"channel": "mark-price", "tradeType": "FUTURES", "symbol"}, answers {"id", "result": true}, and pushes
{"T": "mark-price", "P", "d": {"s", "mp", "ip", "oi", "ts"}}; {"type": "ping"} gets {"type": "pong"}
(ccxt/pro/kucoin.py subscribe_public_uta, handle_uta_ticker, ping).

Shapes (KuCoin API docs, read 2026-12-01): Futures "Get All Symbols", "Get Mark Price", "Get Ticker";
Margin "Get Mark Price List"; the same fields are in ccxt's comments (ccxt/kucoin.py
fetch_contract_markets, parse_contract_ticker, fetch_mark_prices). Every answer is {"code": "200000",
"data": ...}; an error is {"code": "<KuCoin code>", "msg": ...}.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fake_exchange.base import FakeExchange, now_ms

# contract id -> (baseCurrency, multiplier, tickSize, maxLeverage, initialMargin, maintainMargin)
CONTRACTS: dict[str, tuple[str, float, float, int, float, float]] = {
    "XBTUSDTM": ("XBT", 0.001, 0.1, 125, 0.008, 0.004),
    "ETHUSDTM": ("ETH", 0.01, 0.01, 100, 0.01, 0.005),
}

KUCOIN_ERRORS = {
    429: {"code": "429000", "msg": "Too many requests in a short period of time, please retry later."},
    500: {"code": "500000", "msg": "Internal Server Error"},
}
SERVICE_UNAVAILABLE_HTML = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"


def contract(symbol_id: str, mark: float, now_ms: int) -> dict[str, Any]:
    """One entry of GET /api/v1/contracts/active (a USDT-margined perpetual)."""
    base, multiplier, tick, max_leverage, initial, maintain = CONTRACTS[symbol_id]
    return {
        "symbol": symbol_id,
        "rootSymbol": "USDT",
        "type": "FFWCSX",
        "firstOpenDate": 1585555200000,
        "expireDate": None,
        "settleDate": None,
        "baseCurrency": base,
        "quoteCurrency": "USDT",
        "settleCurrency": "USDT",
        "maxOrderQty": 1000000,
        "maxPrice": 1000000.0,
        "lotSize": 1,
        "tickSize": tick,
        "indexPriceTickSize": 0.01,
        "multiplier": multiplier,
        "initialMargin": initial,
        "maintainMargin": maintain,
        "maxRiskLimit": 100000,
        "minRiskLimit": 100000,
        "riskStep": 50000,
        "makerFeeRate": 0.0002,
        "takerFeeRate": 0.0006,
        "takerFixFee": 0.0,
        "makerFixFee": 0.0,
        "settlementFee": None,
        "isDeleverage": True,
        "isQuanto": True,
        "isInverse": False,
        "markMethod": "FairPrice",
        "fairMethod": "FundingRate",
        "fundingBaseSymbol": f".{base}INT8H",
        "fundingQuoteSymbol": ".USDTINT8H",
        "fundingRateSymbol": f".{base}USDTMFPI8H",
        "indexSymbol": f".K{base}USDT",
        "settlementSymbol": "",
        "status": "Open",
        "fundingFeeRate": 0.0001,
        "predictedFundingFeeRate": 0.0001,
        "openInterest": "8724443",
        "turnoverOf24h": 341156641.03,
        "volumeOf24h": 74833.54,
        "markPrice": mark,
        "indexPrice": mark,
        "lastTradePrice": mark,
        "nextFundingRateTime": 25481884,
        "maxLeverage": max_leverage,
        "lowPrice": mark,
        "highPrice": mark,
        "priceChgPct": 0.0046,
        "priceChg": 21.15,
    }


class FakeKucoinFutures(FakeExchange):
    name = "fake-kucoinfutures"

    def __init__(self) -> None:
        super().__init__()
        self.marks: dict[str, float] = {"XBTUSDTM": 61000.5, "ETHUSDTM": 3050.25}
        """The futures mark price ('value' of Get Mark Price) by contract id."""
        self.last_trades: dict[str, float] = {"XBTUSDTM": 61003.1, "ETHUSDTM": 3050.9}
        """The last trade price (Get Ticker's 'price') by contract id, apart from the mark."""
        self.margin_marks: dict[str, float] = {"BTC-USDT": 60990.0, "ETH-USDT": 3049.0, "USDT-BTC": 0.0000164}
        """KuCoin's spot-margin mark list (not the futures marks) by spot pair."""

    def set_mark(self, symbol_id: str, mark: float) -> None:
        self.marks[symbol_id] = mark

    def ccxt_config(self, timeout_ms: int = 2_000) -> dict[str, Any]:
        """The ccxt constructor settings that point kucoinfutures here (the --exchange-config 'ccxt' member)."""
        return {
            "timeout": timeout_ms,
            "urls": {"api": {"futuresPublic": self.base_url, "public": self.base_url, "ws": {"futures": self.ws_url}}},
        }

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v1/contracts/active", self._contracts)
        app.router.add_get("/api/v1/mark-price/{symbol}/current", self._mark_price)
        app.router.add_get("/api/v1/ticker", self._ticker)
        app.router.add_get("/api/v3/mark-price/all-symbols", self._margin_mark_prices)
        app.router.add_get("/api/v3/currencies", self._currencies)
        app.router.add_get("/ws", self._websocket)

    def _error_response(self, status: int) -> web.Response:
        if status == 503:
            return web.Response(text=SERVICE_UNAVAILABLE_HTML, status=503, content_type="text/html")
        return web.json_response(KUCOIN_ERRORS.get(status, {"code": "400100", "msg": "error"}), status=status)

    @staticmethod
    def _ok(data: Any) -> web.Response:
        return web.json_response({"code": "200000", "data": data})

    async def _contracts(self, request: web.Request) -> web.Response:
        return await self._fault(request) or self._ok([contract(s, m, now_ms()) for s, m in self.marks.items()])

    async def _mark_price(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        symbol = request.match_info["symbol"]
        if symbol not in self.marks:
            return web.json_response({"code": "100001", "msg": "Contract does not exist"}, status=404)
        mark = self.marks[symbol]
        return self._ok(
            {"symbol": symbol, "granularity": 1000, "timePoint": now_ms(), "value": mark, "indexPrice": mark}
        )

    async def _ticker(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        symbol = request.query.get("symbol", "")
        if symbol not in self.last_trades:
            return web.json_response({"code": "100001", "msg": "Contract does not exist"}, status=404)
        price = str(self.last_trades[symbol])
        stamp = now_ms() * 1_000_000  # KuCoin Futures' ticker 'ts' is in nanoseconds
        return self._ok(
            {
                "sequence": 1638444978558,
                "symbol": symbol,
                "side": "sell",
                "size": 4,
                "tradeId": "1722480288",
                "price": price,
                "bestBidPrice": price,
                "bestBidSize": 1000,
                "bestAskPrice": price,
                "bestAskSize": 300,
                "ts": stamp,
            }
        )

    async def _currencies(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        names = {"BTC": "Bitcoin", "ETH": "Ethereum", "USDT": "Tether"}
        return self._ok(
            [
                {
                    "currency": code,
                    "name": code,
                    "fullName": full_name,
                    "precision": 8,
                    "confirms": None,
                    "contractAddress": None,
                    "isMarginEnabled": True,
                    "isDebitEnabled": True,
                    "chains": [],
                }
                for code, full_name in names.items()
            ]
        )

    async def _margin_mark_prices(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        stamp = now_ms()
        return self._ok([{"symbol": s, "timePoint": stamp, "value": v} for s, v in self.margin_marks.items()])

    # -- websocket (unified public push) -----------------------------------------------------------

    async def _on_ws_message(self, socket: web.WebSocketResponse, data: Any, streams: set[Any]) -> None:
        if not isinstance(data, dict):
            return
        if data.get("type") == "ping":
            await socket.send_json({"id": data.get("id"), "type": "pong", "timestamp": now_ms() * 1000})
            return
        symbol = data.get("symbol")
        if data.get("channel") != "mark-price" or symbol not in self.marks:
            await socket.send_json({"id": data.get("id"), "result": False, "reason": f"invalid symbol: {symbol}"})
            return
        if data.get("action") == "subscribe":
            streams.add(symbol)
            self.subscriptions.append(dict(data))
        elif data.get("action") == "unsubscribe":
            streams.discard(symbol)
        await socket.send_json({"id": data.get("id"), "result": True})

    async def _push_events(self, socket: web.WebSocketResponse, streams: set[Any], stamp: int) -> None:
        for symbol in sorted(streams):
            if symbol in self._silent_symbols:
                continue
            mark = str(self.marks[symbol])
            data = {"s": symbol, "mp": mark, "ip": mark, "oi": "50541824", "ts": stamp}
            await socket.send_json({"T": "mark-price", "P": str(stamp * 1_000_000), "d": data})
