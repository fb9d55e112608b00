"""The plumbing every fake exchange shares: an aiohttp server on 127.0.0.1 in its own thread and asyncio
loop (so tests stay synchronous), request counts, and faults on demand (an HTTP error, a garbage body, a
delay, for the next requests to a path). Each venue's module adds its routes and payloads.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from typing import Any, Self

from aiohttp import web


def now_ms() -> int:
    return int(time.time() * 1000)


class FakeExchange:
    """A fake exchange's server; subclasses add routes (add_routes) and may render errors their own way."""

    name = "fake"

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        self._failures: dict[str, list[int]] = {}
        self._garbage: dict[str, list[str]] = {}
        self._delay: dict[str, float] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- faults, from the test thread --------------------------------------------------------------

    def fail_next(self, path: str, status: int, times: int = 1) -> None:
        self._failures.setdefault(path, []).extend([status] * times)

    def garbage_next(self, path: str, body: str, times: int = 1) -> None:
        """Answer the next requests to path with HTTP 200 and this body (not what the exchange documents)."""
        self._garbage.setdefault(path, []).extend([body] * times)

    def delay(self, path: str, seconds: float) -> None:
        self._delay[path] = seconds

    def error_response(self, status: int) -> web.Response:
        """The body the exchange sends with this HTTP status (subclasses: in the exchange's own shape)."""
        return web.json_response({"error": status}, status=status)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def start(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name=f"fake-{self.name}", daemon=True)
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
        self.add_routes(app)
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
        """Count the request; the pending fault for its path, if any (else None: answer normally)."""
        path = request.path
        self.requests[path] += 1
        if self._delay.get(path):
            await asyncio.sleep(self._delay[path])
        garbage = self._garbage.get(path)
        if garbage:
            return web.Response(text=garbage.pop(0), status=200, content_type="application/json")
        pending = self._failures.get(path)
        if pending:
            return self.error_response(pending.pop(0))
        return None

    async def answer(self, request: web.Request, body: Any) -> web.Response:
        """The pending fault, or body as JSON."""
        return await self._fault(request) or web.json_response(body)
