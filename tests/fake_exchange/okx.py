"""A fake OKX (v5 API, USDT-margined perpetual swaps) on 127.0.0.1 that real ccxt talks to, unmodified.

Payloads in the shapes OKX documents and serves (OKX API v5 docs, "Get instruments", "Get position tiers",
"Get tickers", "Get mark price", read 2026-12-01): {"code": "0", "msg": "", "data": [...]}, numbers as
strings. Position tiers of a swap are bounded in contracts (minSz/maxSz; tier k+1 starts one contract above
tier k's maxSz), not notional; values are a realistic snapshot, not a live copy.

    with FakeOkx() as fake:
        config = fake.ccxt_config()
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fake_exchange.base import FakeExchange, now_ms

# instId -> (family, contract value in base, tick, max leverage)
SWAPS = {"BTC-USDT-SWAP": ("BTC-USDT", "0.01", "0.1", "100"), "ETH-USDT-SWAP": ("ETH-USDT", "0.1", "0.01", "100")}
# family -> [(max contracts, mmr, imr, max leverage)], ascending
TIERS = {
    "BTC-USDT": [("3000", "0.004", "0.01", "100"), ("9000", "0.005", "0.0133", "75"), ("24000", "0.008", "0.02", "50")],
    "ETH-USDT": [("5000", "0.004", "0.01", "100"), ("15000", "0.005", "0.0133", "75")],
}


def envelope(data: list[dict[str, Any]]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def instrument(inst_id: str) -> dict[str, Any]:
    family, value, tick, leverage = SWAPS[inst_id]
    return {
        "alias": "",
        "baseCcy": "",
        "category": "1",
        "ctMult": "1",
        "ctType": "linear",
        "ctVal": value,
        "ctValCcy": family.split("-")[0],
        "expTime": "",
        "instFamily": family,
        "instId": inst_id,
        "instType": "SWAP",
        "lever": leverage,
        "listTime": "1573557408000",
        "lotSz": "0.01",
        "maxIcebergSz": "100000000",
        "maxLmtAmt": "20000000",
        "maxLmtSz": "100000000",
        "maxMktAmt": "",
        "maxMktSz": "12000",
        "maxStopSz": "12000",
        "maxTriggerSz": "100000000",
        "maxTwapSz": "100000000",
        "minSz": "0.01",
        "optType": "",
        "quoteCcy": "",
        "settleCcy": "USDT",
        "state": "live",
        "stk": "",
        "tickSz": tick,
        "uly": family,
    }


def position_tiers(family: str) -> list[dict[str, Any]]:
    rows, low = [], "0"
    for k, (high, mmr, imr, leverage) in enumerate(TIERS[family]):
        rows.append(
            {
                "baseMaxLoan": "",
                "imr": imr,
                "instFamily": family,
                "instId": "",
                "maxLever": leverage,
                "maxSz": high,
                "minSz": low,
                "mmr": mmr,
                "optMgnFactor": "0",
                "quoteMaxLoan": "",
                "tier": str(k + 1),
                "uly": family,
            }
        )
        low = str(int(high) + 1)
    return rows


def ticker(inst_id: str, last: str) -> dict[str, Any]:
    return {
        "instType": "SWAP",
        "instId": inst_id,
        "last": last,
        "lastSz": "1",
        "askPx": last,
        "askSz": "10",
        "bidPx": last,
        "bidSz": "5",
        "open24h": last,
        "high24h": last,
        "low24h": last,
        "volCcy24h": "12345.6",
        "vol24h": "1234560",
        "ts": str(now_ms()),
        "sodUtc0": last,
        "sodUtc8": last,
    }


class FakeOkx(FakeExchange):
    name = "okx"

    def __init__(self) -> None:
        super().__init__()  # REST only: no websocket routes
        self.prices: dict[str, str] = {"BTC-USDT-SWAP": "61000.5", "ETH-USDT-SWAP": "3050.25"}

    def ccxt_config(self, timeout_ms: int = 2_000) -> dict[str, Any]:
        """The ccxt constructor settings that point okx here; only its swaps are loaded."""
        return {"timeout": timeout_ms, "urls": {"api": {"rest": self.base_url}}, "options": {"fetchMarkets": ["swap"]}}

    def _error_response(self, status: int) -> web.Response:
        return web.json_response({"code": "50011", "msg": "Too Many Requests", "data": []}, status=status)

    async def _answer(self, request: web.Request, body: Any) -> web.Response:
        """The pending fault for this request's path, or body as JSON."""
        return await self._fault(request) or web.json_response(body)

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/api/v5/public/instruments", self._instruments)
        app.router.add_get("/api/v5/public/position-tiers", self._position_tiers)
        app.router.add_get("/api/v5/market/tickers", self._tickers)
        app.router.add_get("/api/v5/public/mark-price", self._mark_price)

    async def _instruments(self, request: web.Request) -> web.Response:
        rows = [instrument(i) for i in SWAPS] if request.query.get("instType") == "SWAP" else []
        return await self._answer(request, envelope(rows))

    async def _position_tiers(self, request: web.Request) -> web.Response:
        family = request.query.get("instFamily", "")
        return await self._answer(request, envelope(position_tiers(family) if family in TIERS else []))

    async def _tickers(self, request: web.Request) -> web.Response:
        return await self._answer(request, envelope([ticker(i, p) for i, p in self.prices.items()]))

    async def _mark_price(self, request: web.Request) -> web.Response:
        rows = [{"instType": "SWAP", "instId": i, "markPx": p, "ts": str(now_ms())} for i, p in self.prices.items()]
        return await self._answer(request, envelope(rows))
