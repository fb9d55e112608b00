"""A fake Binance USDⓈ-M on 127.0.0.1 that real ccxt talks to, unmodified, with faults on demand.

    with FakeBinance() as fake:
        config = fake.ccxt_config()            # what a user would put in --exchange-config
        fake.set_mark("BTCUSDT", "61000.5")
        fake.fail_next("/fapi/v1/premiumIndex", 503, times=2)
        fake.go_silent(); fake.drop_connections(); fake.send_malformed(...)
        fake.garbage_next("/fapi/v1/premiumIndex", "[]"); fake.silence_symbol("ETHUSDT")
        fake.stamp_events = False              # mark events without their event time "E"
        fake.candle_volatility["BTCUSDT"] = 0.6  # hourly klines: a seeded walk of this volatility ending at the mark

The server runs its own asyncio loop in a thread, so tests stay synchronous.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import Counter
from typing import Any

import numpy as np
from aiohttp import WSMsgType, web

from tests.fake_exchange import binance_payloads as payloads

BINANCE_ERRORS = {
    429: {"code": -1003, "msg": "Too many requests; current limit of IP(127.0.0.1) is 2400 requests per minute."},
    418: {"code": -1003, "msg": "Way too many requests; IP(127.0.0.1) banned until 1700000000000."},
}
# A 503 comes from Binance's edge as an HTML page, without a Binance error code.
SERVICE_UNAVAILABLE_HTML = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"


def now_ms() -> int:
    return int(time.time() * 1000)


class FakeBinance:
    def __init__(self, push_interval: float = 0.05) -> None:
        self.push_interval = push_interval
        self.marks: dict[str, str] = {
            "BTCUSDT": "61000.50",
            "ETHUSDT": "3050.25",
            "SOLUSDT": "142.3100",
            "DOGEUSDT": "0.162150",
        }
        self.requests: Counter[str] = Counter()
        self.candle_volatility: dict[str, float] = {"BTCUSDT": 0.6, "ETHUSDT": 0.8, "SOLUSDT": 1.0, "DOGEUSDT": 1.3}
        """Annualised volatility of each symbol's hourly klines (365-day year)."""
        self.candle_correlation = 0.8
        """Correlation of every two symbols' hourly log returns (one common factor)."""
        self.subscriptions: list[list[str]] = []
        self.connections = 0
        self._failures: dict[str, list[int]] = {}
        self._garbage: dict[str, list[str]] = {}
        self._silent_symbols: set[str] = set()
        self.stamp_events = True
        """False: websocket events carry no "E" (some exchanges' tickers have no timestamp)."""
        self._delay: dict[str, float] = {}
        self._silent = False
        self._malformed: list[Any] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- control, from the test thread -------------------------------------------------------------

    def set_mark(self, symbol_id: str, mark: str) -> None:
        self.marks[symbol_id] = mark

    def fail_next(self, path: str, status: int, times: int = 1) -> None:
        self._failures.setdefault(path, []).extend([status] * times)

    def garbage_next(self, path: str, body: str, times: int = 1) -> None:
        """Answer the next requests to path with HTTP 200 and this body (not what Binance documents)."""
        self._garbage.setdefault(path, []).extend([body] * times)

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

    def delay(self, path: str, seconds: float) -> None:
        self._delay[path] = seconds

    def go_silent(self, silent: bool = True) -> None:
        """Keep websocket connections open but send nothing (a frozen stream)."""
        self._silent = silent

    def send_malformed(self, *events: Any) -> None:
        """Push these raw events (dicts, or strings as they are), one per push cycle, then resume."""
        self._malformed.extend(events)

    def drop_connections(self) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(self._close_sockets(), self._loop).result(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> FakeBinance:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name="fake-binance", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake exchange did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application()
        app.router.add_get("/fapi/v1/exchangeInfo", self._exchange_info)
        app.router.add_get("/fapi/v1/premiumIndex", self._premium_index)
        app.router.add_get("/fapi/v1/ticker/24hr", self._ticker_24hr)
        app.router.add_get("/fapi/v1/klines", self._klines)
        app.router.add_get("/{prefix:(market/)?}ws/{stream}", self._websocket)
        app.router.add_get("/{prefix:(market/)?}ws", self._websocket)
        self._runner = web.AppRunner(app, handle_signals=False)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _shutdown(self) -> None:
        await self._close_sockets()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _close_sockets(self) -> None:
        for socket in list(self._sockets):
            await socket.close()

    # -- REST --------------------------------------------------------------------------------------

    async def _fault(self, request: web.Request) -> web.Response | None:
        path = request.path
        self.requests[path] += 1
        if self._delay.get(path):
            await asyncio.sleep(self._delay[path])
        garbage = self._garbage.get(path)
        if garbage:
            return web.Response(text=garbage.pop(0), status=200, content_type="application/json")
        pending = self._failures.get(path)
        if pending:
            status = pending.pop(0)
            if status == 503:
                return web.Response(text=SERVICE_UNAVAILABLE_HTML, status=503, content_type="text/html")
            return web.json_response(BINANCE_ERRORS.get(status, {"code": -1000, "msg": "unknown"}), status=status)
        return None

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
