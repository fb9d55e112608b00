"""The plumbing every fake exchange shares: an aiohttp server on 127.0.0.1 in its own thread, REST faults
on demand, and websocket connections that push events until told to go quiet or drop.

A fake exchange subclasses FakeExchange and supplies its routes (`_add_routes`), the shape of its error
answers (`_error_response`), how a client subscribes (`_on_ws_message`) and the events of one push
cycle (`_push_events`). The controls below work the same on every fake:

    fake.fail_next(key, 503, times=2)      # the next answers to that request are HTTP errors
    fake.garbage_next(key, "[]")           # ... or HTTP 200 with a body the exchange never sends
    fake.delay(key, 1.0)                   # ... or slow
    fake.go_silent(); fake.drop_connections(); fake.send_malformed(event, ...)
    fake.silence_symbol("ETHUSDT")         # one symbol's events stop while the others go on

The key of a REST request is its path (Binance), or what the fake says it is (Hyperliquid serves every
request on POST /info, so its key is '/info <type>').
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from typing import Any, Self

from aiohttp import WSMsgType, web


def now_ms() -> int:
    return int(time.time() * 1000)


class FakeExchange:
    """A fake exchange's server and its faults; subclasses say what the exchange serves."""

    name = "fake-exchange"

    def __init__(self, push_interval: float = 0.05) -> None:
        self.push_interval = push_interval
        self.requests: Counter[str] = Counter()
        self.subscriptions: list[Any] = []
        self.connections = 0
        self._failures: dict[str, list[int]] = {}
        self._garbage: dict[str, list[str]] = {}
        self._silent_symbols: set[str] = set()
        self._delay: dict[str, float] = {}
        self._silent = False
        self._malformed: list[Any] = []
        self._sockets: set[web.WebSocketResponse] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- control, from the test thread -------------------------------------------------------------

    def fail_next(self, key: str, status: int, times: int = 1) -> None:
        self._failures.setdefault(key, []).extend([status] * times)

    def garbage_next(self, key: str, body: str, times: int = 1) -> None:
        """Answer the next requests to key with HTTP 200 and this body (not what the exchange documents)."""
        self._garbage.setdefault(key, []).extend([body] * times)

    def silence_symbol(self, symbol_id: str, silent: bool = True) -> None:
        """Stop (or resume) this one symbol's websocket events while the others go on."""
        if silent:
            self._silent_symbols.add(symbol_id)
        else:
            self._silent_symbols.discard(symbol_id)

    def reset(self) -> None:
        """Back to a healthy exchange: no pending faults, every symbol streaming."""
        self._silent = False
        self._failures.clear()
        self._garbage.clear()
        self._delay.clear()
        self._malformed.clear()
        self._silent_symbols.clear()

    def delay(self, key: str, seconds: float) -> None:
        self._delay[key] = seconds

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

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name=self.name, daemon=True)
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

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        app = web.Application()
        self._add_routes(app)
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

    # -- what a subclass supplies ------------------------------------------------------------------

    def _add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def _error_response(self, status: int) -> web.Response:
        """The exchange's answer for an HTTP error status (its body shape, its content type)."""
        return web.Response(text="", status=status)

    async def _on_ws_message(self, socket: web.WebSocketResponse, data: Any, streams: set[Any]) -> None:
        """Handle one JSON message from a client: subscribe (add to streams), unsubscribe, ping."""
        raise NotImplementedError

    async def _push_events(self, socket: web.WebSocketResponse, streams: set[Any], stamp: int) -> None:
        """Send one push cycle's events for the subscribed streams (skipping silenced symbols)."""
        raise NotImplementedError

    # -- REST --------------------------------------------------------------------------------------

    async def _fault(self, request: web.Request, key: str | None = None) -> web.Response | None:
        """Count the request under key (its path by default) and answer a pending fault, if any."""
        key = key or request.path
        self.requests[key] += 1
        if self._delay.get(key):
            await asyncio.sleep(self._delay[key])
        garbage = self._garbage.get(key)
        if garbage:
            return web.Response(text=garbage.pop(0), status=200, content_type="application/json")
        pending = self._failures.get(key)
        if pending:
            return self._error_response(pending.pop(0))
        return None

    # -- websocket ---------------------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=None)
        await socket.prepare(request)
        self._sockets.add(socket)
        self.connections += 1
        streams: set[Any] = set()
        pusher = asyncio.ensure_future(self._push(socket, streams))
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    await self._on_ws_message(socket, json.loads(message.data), streams)
        finally:
            pusher.cancel()
            self._sockets.discard(socket)
        return socket

    async def _push(self, socket: web.WebSocketResponse, streams: set[Any]) -> None:
        while not socket.closed:
            await asyncio.sleep(self.push_interval)
            if self._silent or not streams:
                continue
            if self._malformed:
                # One bad event per cycle and nothing else: ccxt coalesces a symbol's events between reads.
                event = self._malformed.pop(0)
                await socket.send_str(event if isinstance(event, str) else json.dumps(event))
                continue
            await self._push_events(socket, streams, now_ms())
