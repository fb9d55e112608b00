"""The signed side of the fake Binance USDⓈ-M: one account's positions and wallet behind HMAC-signed endpoints
that are checked as Binance checks them, with faults on demand.

Binance USDⓈ-M "General Info" ("SIGNED (TRADE, USER_DATA) Endpoint security", "Timing security",
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info, read 2026-12-01): the key
travels in the X-MBX-APIKEY header; `signature` is the hex HMAC-SHA256 of the total parameters (query string,
then body) with the secret; `timestamp` (ms) is required and the request is served only when
timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow (default 5000, at most 60000). Errors
(same site, "Error Codes"): -2014 API-key format invalid, -2015 Invalid API-key, IP, or permissions for action,
-1021 timestamp outside the recvWindow, -1022 signature not valid, -1102 a mandatory parameter missing.

Payload shapes: GET /fapi/v2/positionRisk, GET /fapi/v3/account, GET /fapi/v1/leverageBracket as documented
("Position Information V2", "Account Information V3", "Notional and Leverage Brackets"), values realistic.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any

from aiohttp import web

KEY = "fake-read-only-key-7c1e0b9d5a3f42e8a6d1c4b7e9f20a35"
SECRET = "fake-secret-4b2d9e7a1c6f3058e2a9d7c4b1f6e3a8d5c2b9f7e4a1d8c6"
READ_PATHS = {"/fapi/v2/positionRisk", "/fapi/v3/account", "/fapi/v2/account", "/fapi/v1/leverageBracket"}


@dataclass
class FakePosition:
    """One position on the fake exchange: amount signed (+ long, - short), strings as Binance sends them."""

    amount: str
    entry: str
    leverage: int = 10
    margin_type: str = "cross"
    isolated_wallet: str = "0"
    liquidation: str = "0"
    position_side: str = "BOTH"


@dataclass
class BinanceAccount:
    """The account behind the signed endpoints. Tests set `positions` ((symbol id, positionSide) ->
    FakePosition), `wallet` (USDT), `clock_offset_ms` (the server's clock against this machine's), `allowed_ips`
    (None: any), and read `signed` ((method, path) of every signed request that reached the server, refused
    ones included)."""

    api_key: str = KEY
    secret: str = SECRET
    wallet: str = "10000.00"
    positions: dict[tuple[str, str], FakePosition] = field(default_factory=dict)
    clock_offset_ms: int = 0
    allowed_ips: set[str] | None = None
    signed: list[tuple[str, str]] = field(default_factory=list)

    def server_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def reset(self) -> None:
        self.api_key, self.secret, self.wallet = KEY, SECRET, "10000.00"
        self.positions.clear()
        self.clock_offset_ms = 0
        self.allowed_ips = None
        self.signed.clear()

    # -- Binance's checks -------------------------------------------------------------------------

    def refusal(self, request: web.Request, body: str) -> web.Response | None:
        """Binance's answer to a signed request it refuses, or None when the request passes every check."""
        self.signed.append((request.method, request.path))
        key = request.headers.get("X-MBX-APIKEY", "")
        if not key or len(key) > 64 or not key.isprintable():
            return _error(401, -2014, "API-key format invalid.")
        ip = request.remote or ""
        if key != self.api_key or (self.allowed_ips is not None and ip not in self.allowed_ips):
            return _error(401, -2015, f"Invalid API-key, IP, or permissions for action, request ip: {ip}")
        raw = request.query_string
        total, _, signature = raw.rpartition("&signature=") if "&signature=" in raw else (raw, "", "")
        total += body
        params = dict(request.query)
        if "timestamp" not in params:
            return _error(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        window = int(params.get("recvWindow", 5000))
        if window > 60000:
            return _error(400, -1131, "recvWindow must be less than 60000")
        stamp, now = int(params["timestamp"]), self.server_ms()
        if not (stamp < now + 1000 and now - stamp <= window):
            return _error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        expected = hmac.new(self.secret.encode(), total.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return _error(400, -1022, "Signature for this request is not valid.")
        return None

    # -- payloads ---------------------------------------------------------------------------------

    def position_risk(self, marks: dict[str, str]) -> list[dict[str, Any]]:
        """GET /fapi/v2/positionRisk: every symbol, flat ones with amount 0 (as Binance lists them)."""
        rows = []
        held = {symbol for symbol, _ in self.positions}
        for (symbol, _side), p in self.positions.items():
            rows.append(_risk_row(symbol, p, marks[symbol]))
        for symbol in marks:
            if symbol not in held:
                rows.append(_risk_row(symbol, FakePosition("0.000", "0.0", 20), marks[symbol]))
        return rows

    def account_v3(self, marks: dict[str, str]) -> dict[str, Any]:
        """GET /fapi/v3/account: the USDT asset with its walletBalance, and the open positions."""
        upnl = sum((_upnl(p, marks[s]) for (s, _), p in self.positions.items()), Decimal(0))
        wallet = Decimal(self.wallet)
        asset = {
            "asset": "USDT",
            "walletBalance": str(wallet),
            "unrealizedProfit": str(upnl),
            "marginBalance": str(wallet + upnl),
            "maintMargin": "0",
            "initialMargin": "0",
            "positionInitialMargin": "0",
            "openOrderInitialMargin": "0",
            "crossWalletBalance": str(wallet),
            "crossUnPnl": str(upnl),
            "availableBalance": str(wallet + upnl),
            "maxWithdrawAmount": str(wallet),
            "updateTime": self.server_ms(),
        }
        return {
            "totalInitialMargin": "0",
            "totalMaintMargin": "0",
            "totalWalletBalance": str(wallet),
            "totalUnrealizedProfit": str(upnl),
            "totalMarginBalance": str(wallet + upnl),
            "totalPositionInitialMargin": "0",
            "totalOpenOrderInitialMargin": "0",
            "totalCrossWalletBalance": str(wallet),
            "totalCrossUnPnl": str(upnl),
            "availableBalance": str(wallet + upnl),
            "maxWithdrawAmount": str(wallet),
            "assets": [asset],
            "positions": [],
        }


def leverage_brackets(symbol_ids: list[str]) -> list[dict[str, Any]]:
    """GET /fapi/v1/leverageBracket, from the bundled Binance table (the same figures Binance served)."""
    table = json.loads(resources.files("marginwatch_resources").joinpath("tiers/binanceusdm.json").read_text())
    out = []
    for symbol_id in symbol_ids:
        tiers = table["tiers"][f"{symbol_id[:-4]}/USDT:USDT"]
        brackets = [
            {
                "bracket": int(t["tier"]),
                "initialLeverage": int(t["maxLeverage"]),
                "notionalCap": int(t["maxNotional"]),
                "notionalFloor": int(t["minNotional"]),
                "maintMarginRatio": t["maintenanceMarginRate"],
                "cum": float(t["info"]["cum"]),
            }
            for t in tiers
        ]
        out.append({"symbol": symbol_id, "notionalCoef": 1.0, "brackets": brackets})
    return out


def _upnl(p: FakePosition, mark: str) -> Decimal:
    return Decimal(p.amount) * (Decimal(mark) - Decimal(p.entry))


def _risk_row(symbol: str, p: FakePosition, mark: str) -> dict[str, Any]:
    upnl = _upnl(p, mark)
    isolated = p.margin_type == "isolated"
    return {
        "symbol": symbol,
        "positionAmt": p.amount,
        "entryPrice": p.entry,
        "breakEvenPrice": p.entry,
        "markPrice": mark,
        "unRealizedProfit": f"{upnl:.8f}",
        "liquidationPrice": p.liquidation,
        "leverage": str(p.leverage),
        "maxNotionalValue": "4000000",
        "marginType": p.margin_type,
        "isolatedMargin": f"{Decimal(p.isolated_wallet) + upnl:.8f}" if isolated else "0.00000000",
        "isAutoAddMargin": "false",
        "positionSide": p.position_side,
        "notional": f"{Decimal(p.amount) * Decimal(mark):.8f}",
        "isolatedWallet": p.isolated_wallet if isolated else "0",
        "updateTime": int(time.time() * 1000),
        "isolated": isolated,
        "adlQuantile": 1,
    }


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "msg": message}, status=status)
