"""A fake Binance USDⓈ-M on 127.0.0.1 that real ccxt talks to, unmodified, with faults on demand.

    with FakeBinance() as fake:
        config = fake.ccxt_config()            # what a user would put in --exchange-config
        fake.set_mark("BTCUSDT", "61000.5")
        fake.fail_next("/fapi/v1/premiumIndex", 503, times=2)
        fake.go_silent(); fake.drop_connections(); fake.send_malformed(...)
        fake.garbage_next("/fapi/v1/premiumIndex", "[]"); fake.silence_symbol("ETHUSDT")
        fake.stamp_events = False              # mark events without their event time "E"

The server plumbing (thread, loop, faults) is tests/fake_exchange/base.py, shared with the other venues
(bybit.py, okx.py).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import WSMsgType, web

from tests.fake_exchange import binance_payloads as payloads
from tests.fake_exchange.base import FakeExchange, now_ms

BINANCE_ERRORS = {
    429: {"code": -1003, "msg": "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute."},
    418: {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until 1700000000000."},
}
# A 503 comes from Binance's edge as an HTML page, without a Binance error code.
SERVICE_UNAVAILABLE_HTML = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"


class FakeBinance(FakeExchange):
    name = "binance"

    def __init__(self, push_interval: float = 0.05) -> None:
        super().__init__()
        self.push_interval = push_interval
        self.marks: dict[str, str] = {
            "BTCUSDT": "61000.50",
            "ETHUSDT": "3050.25",
            "SOLUSDT": "142.3100",
            "DOGEUSDT": "0.162150",
        }
        self.subscriptions: list[list[str]] = []
        self.connections = 0
        self._silent_symbols: set[str] = set()
        self.stamp_events = True
        """False: websocket events carry no "E" (some exchanges' tickers have no timestamp)."""
        self._silent = False
        self._malformed: list[Any] = []

    # -- control, from the test thread -------------------------------------------------------------

    def set_mark(self, symbol_id: str, mark: str) -> None:
        self.marks[symbol_id] = mark

    def silence_symbol(self, symbol_id: str, silent: bool = True) -> None:
        """Stop (or resume) this one symbol's websocket events while the others go on."""
        if silent:
            self._silent_symbols.add(symbol_id)
        else:
            self._silent_symbols.discard(symbol_id)

    def reset(self) -> None:
        """Back to a healthy exchange: no pending faults, every symbol streaming with its event time."""
        self._silent = False
        self._failures.clear()
        self._garbage.clear()
        self._delay.clear()
        self._malformed.clear()
        self._silent_symbols.clear()
        self.stamp_events = True

    def go_silent(self, silent: bool = True) -> None:
        """Keep websocket connections open but send nothing (a frozen stream)."""
        self._silent = silent

    def send_malformed(self, *events: Any) -> None:
        """Push these raw events (dicts, or strings as they are), one per push cycle, then resume."""
        self._malformed.extend(events)

    def drop_connections(self) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._close_sockets(), self._loop).result(5)

    def ccxt_config(self, timeout_ms: int = 2_000) -> dict[str, Any]:
        """The ccxt constructor settings that point binanceusdm here (the --exchange-config 'ccxt' member)."""
        return {
            "timeout": timeout_ms,
            "urls": {
                "api": {
                    "fapiPublic": f"{self.base_url}/fapi/v1",
                    "fapiPublicV2": f"{self.base_url}/fapi/v2",
                    "fapiPublicV3": f"{self.base_url}/fapi/v3",
                    "fapiData": f"{self.base_url}/futures/data",
                    "ws": {"linear": f"ws://127.0.0.1:{self.port}/ws"},
                }
            },
        }

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/fapi/v1/exchangeInfo", self._exchange_info)
        app.router.add_get("/fapi/v1/premiumIndex", self._premium_index)
        app.router.add_get("/fapi/v1/ticker/24hr", self._ticker_24hr)
        app.router.add_get("/{prefix:(market/)?}ws/{stream}", self._websocket)
        app.router.add_get("/{prefix:(market/)?}ws", self._websocket)

    # -- REST --------------------------------------------------------------------------------------

    def error_response(self, status: int) -> web.Response:
        if status == 503:  # from Binance's edge, as an HTML page without a Binance error code
            return web.Response(text=SERVICE_UNAVAILABLE_HTML, status=503, content_type="text/html")
        return web.json_response(BINANCE_ERRORS.get(status, {"code": -1000, "msg": "unknown"}), status=status)

    async def _exchange_info(self, request: web.Request) -> web.Response:
        return await self._fault(request) or web.json_response(payloads.exchange_info(now_ms()))

    async def _premium_index(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        symbol = request.query.get("symbol")
        if symbol:
            return web.json_response(payloads.premium_index(symbol, self.marks[symbol], now_ms()))
        return web.json_response([payloads.premium_index(s, m, now_ms()) for s, m in self.marks.items()])

    async def _ticker_24hr(self, request: web.Request) -> web.Response:
        fault = await self._fault(request)
        if fault:
            return fault
        return web.json_response([payloads.ticker_24hr(s, m, now_ms()) for s, m in self.marks.items()])

    # -- websocket ---------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        self._sockets.add(socket)
        self.connections += 1
        streams: set[str] = set()
        pusher = asyncio.ensure_future(self._push(socket, streams))
        try:
            async for message in socket:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                if data.get("method") == "SUBSCRIBE":
                    streams.update(data.get("params", []))
                    self.subscriptions.append(list(data.get("params", [])))
                    await socket.send_json({"result": None, "id": data.get("id")})
                elif data.get("method") == "UNSUBSCRIBE":
                    streams.difference_update(data.get("params", []))
                    await socket.send_json({"result": None, "id": data.get("id")})
        finally:
            pusher.cancel()
            self._sockets.discard(socket)
        return socket

    async def _push(self, socket: web.WebSocketResponse, streams: set[str]) -> None:
        while not socket.closed:
            await asyncio.sleep(self.push_interval)
            if self._silent or not streams:
                continue
            if self._malformed:
                # One bad event per cycle and nothing else: ccxt coalesces a symbol's events between reads.
                event = self._malformed.pop(0)
                await socket.send_str(event if isinstance(event, str) else json.dumps(event))
                continue
            stamp = now_ms()
            for stream in sorted(streams):
                symbol_id = stream.split("@", 1)[0].upper()
                if symbol_id in self._silent_symbols:
                    continue
                if symbol_id in self.marks and "@markPrice" in stream:
                    event = payloads.mark_price_event(symbol_id, self.marks[symbol_id], stamp)
                    if not self.stamp_events:
                        del event["E"]
                    await socket.send_json(event)
