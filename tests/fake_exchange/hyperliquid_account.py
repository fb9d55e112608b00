"""A wallet's account state on the fake Hyperliquid: POST /info {"type": "clearinghouseState", "user": address}.

Hyperliquid publishes every account's state by its address, no key ("Info endpoint / Perpetuals: Retrieve user's
perpetuals account summary", https://hyperliquid.gitbook.io/hyperliquid-docs/for-developers/api/info-endpoint/
perpetuals, read 2026-12-01). Shape: assetPositions[{position: {coin, szi (signed size), entryPx, leverage {type
cross|isolated, value, rawUsd}, liquidationPx (null when none), marginUsed (isolated: with its uPnL),
positionValue, unrealizedPnl, returnOnEquity, maxLeverage, cumFunding}, type: "oneWay"}], marginSummary and
crossMarginSummary {accountValue (equity: the wallet with uPnL), totalMarginUsed, totalNtlPos, totalRawUsd},
crossMaintenanceMarginUsed, withdrawable, time. An address that is not 0x and 40 hex digits is refused with 422,
as Hyperliquid does; an address it never saw has an empty state.

    with FakeHyperliquidAccount() as fake:
        fake.wallets[ADDRESS] = HyperliquidWallet("10000", {"BTC": HyperliquidPosition("0.5", "60000", 10)})
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

from tests.fake_exchange.base import now_ms
from tests.fake_exchange.hyperliquid import FakeHyperliquid

ADDRESS = "0x5e9ee1089755c3435139848e47e6635505d5a13a"
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


@dataclass
class HyperliquidPosition:
    """szi: signed size in the coin; isolated_margin: what was put up for an isolated position (USDC)."""

    szi: str
    entry: str
    leverage: int
    margin_type: str = "cross"
    isolated_margin: str = "0"
    liquidation: str | None = None


@dataclass
class HyperliquidWallet:
    """A wallet's deposits (USDC, without uPnL) and its positions by coin."""

    deposit: str
    positions: dict[str, HyperliquidPosition] = field(default_factory=dict)


def clearinghouse_state(wallet: HyperliquidWallet, marks: dict[str, str]) -> dict[str, Any]:
    rows, upnl_total, used_total, notional_total = [], Decimal(0), Decimal(0), Decimal(0)
    for coin, p in wallet.positions.items():
        size, mark, entry = Decimal(p.szi), Decimal(marks[coin]), Decimal(p.entry)
        upnl = size * (mark - entry)
        value = abs(size) * mark
        isolated = p.margin_type == "isolated"
        used = Decimal(p.isolated_margin) + upnl if isolated else value / p.leverage
        upnl_total, used_total, notional_total = upnl_total + upnl, used_total + used, notional_total + value
        rows.append(
            {
                "type": "oneWay",
                "position": {
                    "coin": coin,
                    "szi": p.szi,
                    "entryPx": p.entry,
                    "leverage": {
                        "type": p.margin_type,
                        "value": p.leverage,
                        **({"rawUsd": str(-value)} if isolated else {}),
                    },
                    "liquidationPx": p.liquidation,
                    "marginUsed": f"{used:.6f}",
                    "positionValue": f"{value:.6f}",
                    "unrealizedPnl": f"{upnl:.6f}",
                    "returnOnEquity": f"{upnl / (abs(size) * entry / p.leverage):.6f}",
                    "maxLeverage": 50,
                    "cumFunding": {"allTime": "0.0", "sinceChange": "0.0", "sinceOpen": "0.0"},
                },
            }
        )
    equity = Decimal(wallet.deposit) + upnl_total
    summary = {
        "accountValue": f"{equity:.6f}",
        "totalMarginUsed": f"{used_total:.6f}",
        "totalNtlPos": f"{notional_total:.6f}",
        "totalRawUsd": f"{equity:.6f}",
    }
    return {
        "assetPositions": rows,
        "marginSummary": summary,
        "crossMarginSummary": summary,
        "crossMaintenanceMarginUsed": "0.0",
        "withdrawable": f"{max(equity - used_total, Decimal(0)):.6f}",
        "time": now_ms(),
    }


class FakeHyperliquidAccount(FakeHyperliquid):
    """The fake Hyperliquid (tests/fake_exchange/hyperliquid.py) with wallets' clearinghouse state; `bodies`
    holds every POST /info body, in order (what a sync asked)."""

    name = "fake-hyperliquid-account"

    def __init__(self, push_interval: float = 0.05) -> None:
        super().__init__(push_interval)
        self.wallets: dict[str, HyperliquidWallet] = {}
        self.bodies: list[dict[str, Any]] = []

    def reset(self) -> None:
        super().reset()
        self.wallets.clear()
        self.bodies.clear()

    def _add_routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/exchange", self._exchange)  # the signed actions: never to be called
        super()._add_routes(app)

    async def _exchange(self, request: web.Request) -> web.Response:
        self.bodies.append({"path": "/exchange", "body": await request.text()})
        return web.json_response({"status": "err", "response": "refused by the fake"}, status=400)

    async def _info(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text() or "null")
        self.bodies.append(body)
        if not isinstance(body, dict) or body.get("type") != "clearinghouseState":
            return await super()._info(request)
        fault = await self._fault(request, "/info clearinghouseState")
        if fault:
            return fault
        user = body.get("user")
        if not isinstance(user, str) or not _ADDRESS.fullmatch(user):
            return web.Response(text="Failed to deserialize the JSON body into the target type", status=422)
        wallet = self.wallets.get(user.lower(), HyperliquidWallet("0"))
        return web.json_response(clearinghouse_state(wallet, self.marks))
