"""A fake Bybit (v5 API, USDT perpetuals) on 127.0.0.1 that real ccxt talks to, unmodified.

Payloads in the shapes Bybit documents and serves (Bybit V5 API docs, "Get Instruments Info", "Get Risk
Limit", "Get Tickers", read 2026-12-01): every answer is {"retCode": 0, "retMsg": "OK", "result": {...},
"retExtInfo": {}, "time": ms}; numbers as strings. Risk limits carry Bybit's `mmDeduction` (the maintenance
amount), continuous at each tier's lower bound; values are a realistic snapshot, not a live copy.

    with FakeBybit() as fake:
        config = fake.ccxt_config()          # what a user would put in --exchange-config
        fake.set_mark("BTCUSDT", "61000.5")
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from tests.fake_exchange.base import FakeExchange, now_ms
from tests.fake_exchange.bybit_account import BybitAccount

# symbol id -> (base, tick size, qty step, max leverage)
PERPETUALS = {
    "BTCUSDT": ("BTC", "0.10", "0.001", "100.00"),
    "ETHUSDT": ("ETH", "0.01", "0.01", "100.00"),
}
# symbol id -> [(risk limit value USDT, maintenance rate, initial rate, max leverage)], ascending
RISK_LIMITS = {
    "BTCUSDT": [
        ("2000000", "0.005", "0.01", "100.00"),
        ("2600000", "0.0055", "0.0125", "80.00"),
        ("3200000", "0.006", "0.015", "66.67"),
    ],
    "ETHUSDT": [
        ("1000000", "0.005", "0.01", "100.00"),
        ("1500000", "0.0055", "0.0125", "80.00"),
    ],
}


def envelope(result: dict[str, Any]) -> dict[str, Any]:
    return {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms()}


def instrument(symbol_id: str) -> dict[str, Any]:
    base, tick, step, leverage = PERPETUALS[symbol_id]
    return {
        "symbol": symbol_id,
        "contractType": "LinearPerpetual",
        "status": "Trading",
        "baseCoin": base,
        "quoteCoin": "USDT",
        "launchTime": "1585526400000",
        "deliveryTime": "0",
        "deliveryFeeRate": "",
        "priceScale": "2",
        "leverageFilter": {"minLeverage": "1", "maxLeverage": leverage, "leverageStep": "0.01"},
        "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
        "lotSizeFilter": {
            "maxOrderQty": "1190.000",
            "minOrderQty": step,
            "qtyStep": step,
            "postOnlyMaxOrderQty": "1190.000",
            "maxMktOrderQty": "500.000",
            "minNotionalValue": "5",
        },
        "unifiedMarginTrade": True,
        "fundingInterval": 480,
        "settleCoin": "USDT",
        "copyTrading": "both",
        "upperFundingRate": "0.00375",
        "lowerFundingRate": "-0.00375",
        "isPreListing": False,
        "preListingInfo": None,
    }


def risk_limits(symbol_id: str) -> list[dict[str, Any]]:
    """Bybit's risk-limit rows of a symbol: mmDeduction_k = mmDeduction_(k-1) + lower_k x (mmr_k - mmr_(k-1))."""
    rows, deduction, previous_rate, lower = [], 0.0, None, 0.0
    for k, (value, mmr, imr, leverage) in enumerate(RISK_LIMITS[symbol_id]):
        if previous_rate is not None:
            deduction += lower * (float(mmr) - previous_rate)
        rows.append(
            {
                "id": k + 1,
                "symbol": symbol_id,
                "riskLimitValue": value,
                "maintenanceMargin": mmr,
                "initialMargin": imr,
                "isLowestRisk": 1 if k == 0 else 0,
                "maxLeverage": leverage,
                "mmDeduction": "" if k == 0 else f"{deduction:g}",
            }
        )
        previous_rate, lower = float(mmr), float(value)
    return rows


def ticker(symbol_id: str, mark: str) -> dict[str, Any]:
    last = f"{float(mark) - 0.5:.2f}"
    return {
        "symbol": symbol_id,
        "lastPrice": last,
        "indexPrice": mark,
        "markPrice": mark,
        "prevPrice24h": last,
        "price24hPcnt": "0.0012",
        "highPrice24h": mark,
        "lowPrice24h": last,
        "prevPrice1h": last,
        "openInterest": "51234.567",
        "openInterestValue": "3125000000.00",
        "turnover24h": "5123456789.1234",
        "volume24h": "84000.123",
        "fundingRate": "0.0001",
        "nextFundingTime": str(now_ms() + 3_600_000),
        "predictedDeliveryPrice": "",
        "basisRate": "",
        "deliveryFeeRate": "",
        "deliveryTime": "0",
        "ask1Size": "1.2",
        "bid1Price": last,
        "ask1Price": mark,
        "bid1Size": "3.4",
        "basis": "",
    }


class FakeBybit(FakeExchange):
    name = "bybit"

    def __init__(self) -> None:
        super().__init__()  # REST only: no websocket routes
        self.marks: dict[str, str] = {"BTCUSDT": "61000.50", "ETHUSDT": "3050.25"}
        self.account = BybitAccount()
        """The signed side: one account's positions, wallet and margin mode (tests/fake_exchange/bybit_account.py)."""

    def reset(self) -> None:
        super().reset()
        self.account.reset()

    def set_mark(self, symbol_id: str, mark: str) -> None:
        self.marks[symbol_id] = mark

    def ccxt_config(self, timeout_ms: int = 2_000) -> dict[str, Any]:
        """The ccxt constructor settings that point bybit here; only its linear markets are loaded."""
        api = dict.fromkeys(("spot", "futures", "v2", "public", "private"), self.base_url)
        return {"timeout": timeout_ms, "urls": {"api": api}, "options": {"fetchMarkets": {"types": ["linear"]}}}

    def _error_response(self, status: int) -> web.Response:
        return web.json_response({"retCode": 10006, "retMsg": "Too many visits!", "result": {}}, status=status)

    async def _answer(self, request: web.Request, body: Any) -> web.Response:
        """The pending fault for this request's path, or body as JSON."""
        return await self._fault(request) or web.json_response(body)

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_get("/v5/market/instruments-info", self._instruments)
        app.router.add_get("/v5/market/risk-limit", self._risk_limit)
        app.router.add_get("/v5/market/tickers", self._tickers)
        app.router.add_get("/v5/market/time", self._time)
        app.router.add_route("*", "/v5/{rest:.*}", self._signed)  # every other path: checked, recorded

    def _linear(self, request: web.Request) -> bool:
        return request.query.get("category", "linear") == "linear"

    async def _instruments(self, request: web.Request) -> web.Response:
        rows = [instrument(s) for s in PERPETUALS] if self._linear(request) else []
        category = request.query.get("category")
        return await self._answer(request, envelope({"category": category, "list": rows, "nextPageCursor": ""}))

    async def _risk_limit(self, request: web.Request) -> web.Response:
        wanted = request.query.get("symbol")
        rows = [r for s in RISK_LIMITS if wanted in (None, s) for r in risk_limits(s)] if self._linear(request) else []
        return await self._answer(request, envelope({"category": "linear", "list": rows, "nextPageCursor": ""}))

    async def _tickers(self, request: web.Request) -> web.Response:
        wanted = request.query.get("symbol")
        rows = [ticker(s, m) for s, m in self.marks.items() if wanted in (None, s)] if self._linear(request) else []
        return await self._answer(request, envelope({"category": "linear", "list": rows}))

    async def _time(self, request: web.Request) -> web.Response:
        """GET /v5/market/time ("Get Bybit Server Time"): the account's server clock, offset included."""
        ms = self.account.server_ms()
        result = {"timeSecond": str(ms // 1000), "timeNano": str(ms * 1_000_000)}
        return await self._fault(request) or web.json_response({**envelope(result), "time": ms})

    async def _signed(self, request: web.Request) -> web.Response:
        """A signed endpoint: Bybit's checks (BybitAccount.refusal), then the account's figures; a path the fake
        does not serve is answered as Bybit does after being recorded (a test of what a sync calls sees it)."""
        body = await request.text()
        fault = await self._fault(request)
        if fault:
            self.account.signed.append((request.method, request.path))
            return fault
        refused = self.account.refusal(request.method, request.path, request.headers, request.query_string, body)
        if refused:
            return web.json_response(refused)
        if request.method == "GET":
            path, query = request.path, request.query
            if path == "/v5/position/list" and query.get("category") == "linear" and query.get("settleCoin"):
                return web.json_response(envelope(self.account.position_list(self.marks)))
            if path == "/v5/account/wallet-balance" and query.get("accountType") == self.account.account_type:
                return web.json_response(envelope(self.account.wallet_balance(self.marks)))
            if path == "/v5/account/info":
                return web.json_response(envelope(self.account.account_info()))
            if path == "/v5/user/query-api":
                return web.json_response(envelope(self.account.query_api()))
        return web.json_response({"retCode": 10001, "retMsg": "params error", "result": {}}, status=404)
