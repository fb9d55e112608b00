"""A fake Hyperliquid on 127.0.0.1 that real ccxt talks to, unmodified: POST /info and its websocket.

    with FakeHyperliquid() as fake:
        config = fake.ccxt_config()              # the --exchange-config 'ccxt' member for 'hyperliquid'
        fake.set_mark("BTC", "61000.5")          # markPx; the mid (midPx, allMids) stays apart from it
        fake.fail_next("/info metaAndAssetCtxs", 503)
        fake.go_silent(); fake.drop_connections(); fake.silence_symbol("ETH")

Every REST request is POST /info with a JSON body {"type": ...}; the fault key of a request is
'/info <type>' (fake.requests counts them by that key). It answers what ccxt's load_markets asks
(spotMeta, spotMetaAndAssetCtxs, metaAndAssetCtxs, perpDexs), fetch_tickers and fetch_funding_rates
(metaAndAssetCtxs) and 'meta', whose margin tables (marginTables, each universe entry's marginTableId)
are the tier tables. The websocket serves the per-coin asset context (activeAssetCtx: markPx, midPx,
oraclePx...) and allMids (mids only), with subscriptionResponse acknowledgements and ping/pong.
Hyperliquid's tickers carry no timestamp, so this fake also exercises the feed's no-timestamp path.
Shapes: tests/fake_exchange/hyperliquid_payloads.py.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tests.fake_exchange import hyperliquid_payloads as payloads
from tests.fake_exchange.base import FakeExchange

SERVICE_UNAVAILABLE_HTML = "<html><head><title>503 Service Temporarily Unavailable</title></head></html>"

DEFAULT_MARKS = {"BTC": "61000.5", "ETH": "3050.25", "SOL": "142.31", "DOGE": "0.16215", "HPOS": "0.0215"}
DEFAULT_MIDS = {"BTC": "61012.5", "ETH": "3051.05", "SOL": "142.365", "DOGE": "0.162185", "HPOS": "0.02152"}


class FakeHyperliquid(FakeExchange):
    name = "fake-hyperliquid"

    def __init__(self, push_interval: float = 0.05) -> None:
        super().__init__(push_interval)
        self.marks: dict[str, str] = dict(DEFAULT_MARKS)
        """markPx by coin: the mark price, which liquidation is judged at."""
        self.mids: dict[str, str] = dict(DEFAULT_MIDS)
        """midPx and allMids by coin: the order book's mid, deliberately not the mark."""
        self.info_types: list[str] = []
        """The 'type' of every POST /info, in order."""

    def set_mark(self, coin: str, mark: str, mid: str | None = None) -> None:
        self.marks[coin] = mark
        if mid is not None:
            self.mids[coin] = mid

    def ccxt_config(self, timeout_ms: int = 2_000) -> dict[str, Any]:
        """The ccxt constructor settings that point hyperliquid here (the --exchange-config 'ccxt' member)."""
        return {
            "timeout": timeout_ms,
            "urls": {"api": {"public": self.base_url, "private": self.base_url, "ws": {"public": self.ws_url}}},
        }

    def contexts(self) -> dict[str, dict[str, Any]]:
        """Every perpetual's asset context now, by coin."""
        # The oracle price stands at the mark: only the mark and the mid need to differ for the tests.
        return {coin: payloads.asset_ctx(self.marks[coin], self.mids[coin], self.marks[coin]) for coin in self.marks}

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_post("/info", self._info)
        app.router.add_get("/ws", self._websocket)

    def _error_response(self, status: int) -> web.Response:
        if status == 503:
            return web.Response(text=SERVICE_UNAVAILABLE_HTML, status=503, content_type="text/html")
        return web.Response(text="null", status=status, content_type="application/json")

    # -- REST --------------------------------------------------------------------------------------

    async def _info(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.Response(text="Failed to deserialize the JSON body into the target type", status=422)
        kind = body.get("type") if isinstance(body, dict) else None
        self.info_types.append(str(kind))
        fault = await self._fault(request, f"/info {kind}")
        if fault:
            return fault
        answers = {
            "meta": payloads.meta,
            "metaAndAssetCtxs": lambda: payloads.meta_and_asset_ctxs(self.contexts()),
            "spotMeta": payloads.spot_meta,
            "spotMetaAndAssetCtxs": payloads.spot_meta_and_asset_ctxs,
            "perpDexs": payloads.perp_dexs,
            "allMids": lambda: dict(self.mids),
        }
        answer = answers.get(str(kind))
        if answer is None:
            return web.Response(text="Failed to deserialize the JSON body into the target type", status=422)
        if body.get("dex"):  # only the first perp dex exists here
            return web.json_response(None)
        return web.json_response(answer())

    # -- websocket ---------------------------------------------------------------------------------

    async def _on_ws_message(self, socket: web.WebSocketResponse, data: Any, streams: set[Any]) -> None:
        method = data.get("method") if isinstance(data, dict) else None
        if method == "ping":
            await socket.send_json({"channel": "pong"})
            return
        subscription = data.get("subscription") if isinstance(data, dict) else None
        if method not in ("subscribe", "unsubscribe") or not isinstance(subscription, dict):
            error = f"Error parsing JSON into valid websocket request: {json.dumps(data)}"
            await socket.send_json({"channel": "error", "data": error})
            return
        stream = (subscription.get("type"), subscription.get("coin"))
        if method == "subscribe":
            if stream in streams:
                await socket.send_json({"channel": "error", "data": f"Already subscribed: {json.dumps(subscription)}"})
                return
            streams.add(stream)
            self.subscriptions.append(dict(subscription))
        else:
            streams.discard(stream)
        await socket.send_json(payloads.subscription_response(method, subscription))

    async def _push_events(self, socket: web.WebSocketResponse, streams: set[Any], stamp: int) -> None:
        contexts = self.contexts()
        for kind, coin in sorted(streams, key=str):
            if kind == "activeAssetCtx" and coin in contexts and coin not in self._silent_symbols:
                await socket.send_json(payloads.active_asset_ctx_event(coin, contexts[coin]))
            elif kind == "allMids":
                mids = {c: m for c, m in self.mids.items() if c not in self._silent_symbols}
                await socket.send_json(payloads.all_mids_event(mids))
