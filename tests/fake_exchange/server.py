"""A fake Binance USDⓈ-M on 127.0.0.1 that real ccxt talks to, unmodified, with faults on demand.

    with FakeBinance() as fake:
        config = fake.ccxt_config()            # what a user would put in --exchange-config
        fake.set_mark("BTCUSDT", "61000.5")
        fake.fail_next("/fapi/v1/premiumIndex", 503, times=2)
        fake.go_silent(); fake.drop_connections(); fake.send_malformed(...)
        fake.garbage_next("/fapi/v1/premiumIndex", "[]"); fake.silence_symbol("ETHUSDT")
        fake.stamp_events = False              # mark events without their event time "E"
        fake.candle_volatility["BTCUSDT"] = 0.6  # hourly klines: a seeded walk of this volatility ending at the mark

The server plumbing and the faults are tests/fake_exchange/base.py's; this module says what Binance
serves and how it fails. The server runs its own asyncio loop in a thread, so tests stay synchronous.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from aiohttp import web

from tests.fake_exchange import binance_payloads as payloads
from tests.fake_exchange.base import FakeExchange, now_ms
from tests.fake_exchange.binance_account import BinanceAccount, leverage_brackets

__all__ = ["FakeBinance", "now_ms"]

BINANCE_ERRORS = {
    429: {"code": -1003, "msg": "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute."},
    418: {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until 1700000000000."},
}
# A 503 comes from Binance's edge as an HTML page, without a Binance error code.
SERVICE_UNAVAILABLE_HTML = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"


class FakeBinance(FakeExchange):
    name = "fake-binance"

    def __init__(self, push_interval: float = 0.05) -> None:
        super().__init__(push_interval)
        self.marks: dict[str, str] = {
            "BTCUSDT": "61000.50",
            "ETHUSDT": "3050.25",
            "SOLUSDT": "142.3100",
            "DOGEUSDT": "0.162150",
        }
        self.candle_volatility: dict[str, float] = {"BTCUSDT": 0.6, "ETHUSDT": 0.8, "SOLUSDT": 1.0, "DOGEUSDT": 1.3}
        """Annualised volatility of each symbol's hourly klines (365-day year)."""
        self.candle_correlation = 0.8
        """Correlation of every two symbols' hourly log returns (one common factor)."""
        self.funding_rates: dict[str, str] = {}
        """lastFundingRate per symbol id in /fapi/v1/premiumIndex (Binance's default 0.00010000 when absent)."""
        self.stamp_events = True
        """False: websocket events carry no "E" (some exchanges' tickers have no timestamp)."""
        self.account = BinanceAccount()
        """The signed side: one account's positions and wallet (tests/fake_exchange/binance_account.py)."""

    def set_mark(self, symbol_id: str, mark: str) -> None:
        self.marks[symbol_id] = mark

    def reset(self) -> None:
        """Back to a healthy exchange: no pending faults, every symbol streaming with its event time."""
        super().reset()
        self.stamp_events = True
        self.funding_rates.clear()
        self.account.reset()

    def ccxt_config(self, timeout_ms: int = 2_000) -> dict[str, Any]:
        """The ccxt constructor settings that point binanceusdm here (the --exchange-config 'ccxt' member)."""
        return {
            "timeout": timeout_ms,
            "urls": {
                "api": {
                    "fapiPublic": f"{self.base_url}/fapi/v1",
                    "fapiPublicV2": f"{self.base_url}/fapi/v2",
                    "fapiPublicV3": f"{self.base_url}/fapi/v3",
                    "fapiPrivate": f"{self.base_url}/fapi/v1",
                    "fapiPrivateV2": f"{self.base_url}/fapi/v2",
                    "fapiPrivateV3": f"{self.base_url}/fapi/v3",
                    "fapiData": f"{self.base_url}/futures/data",
                    "ws": {"linear": self.ws_url},
                }
            },
        }

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/fapi/v1/exchangeInfo", self._exchange_info)
        app.router.add_get("/fapi/v1/premiumIndex", self._premium_index)
        app.router.add_get("/fapi/v1/ticker/24hr", self._ticker_24hr)
        app.router.add_get("/fapi/v1/klines", self._klines)
        app.router.add_get("/fapi/v1/time", self._time)
        app.router.add_route("*", "/fapi/{rest:.*}", self._signed)  # every other path: checked, recorded
        app.router.add_get("/{prefix:(market/)?}ws/{stream}", self._websocket)
        app.router.add_get("/{prefix:(market/)?}ws", self._websocket)

    def _error_response(self, status: int) -> web.Response:
        if status == 503:
            return web.Response(text=SERVICE_UNAVAILABLE_HTML, status=503, content_type="text/html")
        return web.json_response(BINANCE_ERRORS.get(status, {"code": -1000, "msg": "unknown"}), status=status)

    # -- REST --------------------------------------------------------------------------------------

    async def _exchange_info(self, request: web.Request) -> web.Response:
        return await self._fault(request) or web.json_response(payloads.exchange_info(now_ms()))

    async def _premium_index(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        symbol = request.query.get("symbol")
        rates = self.funding_rates
        if symbol:
            return web.json_response(
                payloads.premium_index(symbol, self.marks[symbol], now_ms(), rates.get(symbol, "0.00010000"))
            )
        return web.json_response(
            [payloads.premium_index(s, m, now_ms(), rates.get(s, "0.00010000")) for s, m in self.marks.items()]
        )

    async def _ticker_24hr(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        return web.json_response([payloads.ticker_24hr(s, m, now_ms()) for s, m in self.marks.items()])

    def candle_closes(self, symbol_id: str, hours: int = 2000) -> tuple[int, np.ndarray]:
        """The first hour (Unix s / 3600) and the hourly closes of a symbol's klines up to the current hour: a
        seeded driftless walk at candle_volatility whose last close is the mark (the same on every request)."""
        now_hour = now_ms() // 3_600_000
        common = np.random.default_rng(2026).standard_normal(hours)
        own = np.random.default_rng(sorted(payloads.PERPETUALS).index(symbol_id)).standard_normal(hours)
        loading = math.sqrt(self.candle_correlation)  # two symbols share loading^2 of their variance
        z = loading * common + math.sqrt(1 - self.candle_correlation) * own
        steps = self.candle_volatility[symbol_id] * math.sqrt(1 / 8760) * z
        log_price = np.cumsum(steps) - np.sum(steps) + math.log(float(self.marks[symbol_id]))
        return now_hour - hours + 1, np.exp(log_price)

    async def _klines(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        symbol = request.query.get("symbol", "")
        if symbol not in self.marks:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        if request.query.get("interval") != "1h":
            return web.json_response({"code": -1120, "msg": "Invalid interval."}, status=400)
        limit = min(int(request.query.get("limit", "500")), 1500)
        first_hour, closes = self.candle_closes(symbol)
        start = int(request.query.get("startTime", "0")) // 3_600_000
        end = int(request.query.get("endTime", str(now_ms()))) // 3_600_000
        rows = []
        for k, close in enumerate(closes):
            hour = first_hour + k
            if start <= hour <= end and len(rows) < limit:
                opened = closes[k - 1] if k else close
                rows.append(
                    payloads.kline(hour * 3_600_000, opened, max(opened, close), min(opened, close), close, 1000.0)
                )
        return web.json_response(rows)

    async def _time(self, request: web.Request) -> web.Response:
        return await self._fault(request) or web.json_response({"serverTime": self.account.server_ms()})

    async def _signed(self, request: web.Request) -> web.Response:
        """A signed endpoint: Binance's checks (BinanceAccount.refusal), then the account's figures; a path the
        fake does not serve is 404 after being recorded (a test of what a sync calls sees it)."""
        body = await request.text()
        fault = await self._fault(request)
        if fault:
            self.account.signed.append((request.method, request.path))
            return fault
        refused = self.account.refusal(request, body)
        if refused:
            return refused
        path = request.path
        if request.method == "GET" and path == "/fapi/v2/positionRisk":
            return web.json_response(self.account.position_risk(self.marks))
        if request.method == "GET" and path in ("/fapi/v3/account", "/fapi/v2/account"):
            return web.json_response(self.account.account_v3(self.marks))
        if request.method == "GET" and path == "/fapi/v1/leverageBracket":
            return web.json_response(leverage_brackets(list(self.marks)))
        return web.json_response({"code": -5000, "msg": "Path not found"}, status=404)

    # -- websocket ---------------------------------------------------------------------------------

    async def _on_ws_message(self, socket: web.WebSocketResponse, data: Any, streams: set[Any]) -> None:
        if data.get("method") == "SUBSCRIBE":
            streams.update(data.get("params", []))
            self.subscriptions.append(list(data.get("params", [])))
            await socket.send_json({"result": None, "id": data.get("id")})
        elif data.get("method") == "UNSUBSCRIBE":
            streams.difference_update(data.get("params", []))
            await socket.send_json({"result": None, "id": data.get("id")})

    async def _push_events(self, socket: web.WebSocketResponse, streams: set[Any], stamp: int) -> None:
        for stream in sorted(streams):
            symbol_id = stream.split("@", 1)[0].upper()
            if symbol_id in self._silent_symbols:
                continue
            if symbol_id in self.marks and "@markPrice" in stream:
                rate = self.funding_rates.get(symbol_id, "0.00010000")
                event = payloads.mark_price_event(symbol_id, self.marks[symbol_id], stamp, rate)
                if not self.stamp_events:
                    del event["E"]
                await socket.send_json(event)
