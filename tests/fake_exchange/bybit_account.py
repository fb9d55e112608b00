"""The signed side of the fake Bybit (v5): one account's positions, wallet and margin mode behind HMAC-signed
GET endpoints that are checked as Bybit checks them.

Bybit V5 "Integration Guidance" (Authentication, https://bybit-exchange.github.io/docs/v5/guide, read
2026-12-01): the key travels in X-BAPI-API-KEY, the time stamp (ms) in X-BAPI-TIMESTAMP, the window in
X-BAPI-RECV-WINDOW (default 5000) and X-BAPI-SIGN is the hex HMAC-SHA256, with the secret, of
timestamp + api_key + recv_window + queryString (GET); the request is served only when
server_time - recv_window <= timestamp < server_time + 1000. Errors ("Error Codes"): 10002 the time stamp is
outside the window, 10003 the API key is invalid, 10004 the signature is wrong.

Payload shapes as documented (read 2026-12-01): GET /v5/position/list ("Get Position Info": on a unified
account `tradeMode` is deprecated and always 0, the margin mode is the account's), GET
/v5/account/wallet-balance ("Get Wallet Balance"), GET /v5/account/info ("Get Account Info": marginMode
ISOLATED_MARGIN / REGULAR_MARGIN / PORTFOLIO_MARGIN, unifiedMarginStatus 1 classic, 3-4 UTA 1.0, 5-6 UTA 2.0),
GET /v5/user/query-api ("Get API Key Information": any permission may call it; ccxt asks it before the
balance to learn whether the account is unified). Values realistic, not a live copy.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KEY = "fakeBybitReadOnlyKey7c1e0b9d"
SECRET = "fakeBybitSecret4b2d9e7a1c6f3058e2a9d7c4b1f6e3a8d5c2"
READ_PATHS = {"/v5/position/list", "/v5/account/wallet-balance", "/v5/account/info", "/v5/user/query-api"}


@dataclass
class BybitPosition:
    """One linear position: side "Buy" (long) or "Sell" (short), strings as Bybit sends them. position_im is
    the position's initial margin (Bybit's positionIM: in isolated margin the position's own margin)."""

    side: str
    size: str
    avg_price: str
    leverage: str = "10"
    liq_price: str = ""
    position_im: str = "0"
    trade_mode: int | str = 0
    position_idx: int = 0


@dataclass
class BybitAccount:
    """The account behind the signed endpoints. Tests set `margin_mode` (Bybit's account-level mode),
    `unified_status` (unifiedMarginStatus), `positions` (symbol id -> BybitPosition), `wallet` (USDT) and read
    `signed` ((method, path) of every signed request that reached the server, refused ones included)."""

    api_key: str = KEY
    secret: str = SECRET
    wallet: str = "10000.00"
    margin_mode: str = "REGULAR_MARGIN"
    unified_status: int = 5
    positions: dict[str, BybitPosition] = field(default_factory=dict)
    clock_offset_ms: int = 0
    signed: list[tuple[str, str]] = field(default_factory=list)

    def server_ms(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def reset(self) -> None:
        self.api_key, self.secret, self.wallet = KEY, SECRET, "10000.00"
        self.margin_mode, self.unified_status = "REGULAR_MARGIN", 5
        self.positions.clear()
        self.clock_offset_ms = 0
        self.signed.clear()

    def refusal(self, method: str, path: str, headers: Any, query_string: str, body: str) -> dict[str, Any] | None:
        """Bybit's answer to a signed request it refuses (retCode and retMsg), or None when it passes."""
        self.signed.append((method, path))
        key = headers.get("X-BAPI-API-KEY", "")
        if key != self.api_key:
            return _refused(10003, "API key is invalid.")
        stamp, window = headers.get("X-BAPI-TIMESTAMP", ""), headers.get("X-BAPI-RECV-WINDOW", "5000")
        if not (stamp.isdigit() and window.isdigit()):
            return _refused(10001, "params error: X-BAPI-TIMESTAMP or X-BAPI-RECV-WINDOW")
        now = self.server_ms()
        if not (now - int(window) <= int(stamp) < now + 1000):
            return _refused(
                10002,
                f"invalid request, please check your server timestamp or recv_window param. "
                f"req_timestamp[{stamp}],server_timestamp[{now}],recv_window[{window}]",
            )
        payload = stamp + key + window + (query_string if method == "GET" else body)
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, headers.get("X-BAPI-SIGN", "")):
            return _refused(10004, "Error sign, please check your signature generation algorithm.")
        return None

    # -- payloads ---------------------------------------------------------------------------------

    def position_list(self, marks: dict[str, str]) -> dict[str, Any]:
        """GET /v5/position/list?category=linear&settleCoin=USDT: the open positions only (size > 0)."""
        rows = [_position_row(symbol, p, marks[symbol], self.server_ms()) for symbol, p in self.positions.items()]
        return {"category": "linear", "list": rows, "nextPageCursor": ""}

    def wallet_balance(self, marks: dict[str, str]) -> dict[str, Any]:
        """GET /v5/account/wallet-balance?accountType=UNIFIED (CONTRACT if classic): the USDT coin with its
        walletBalance (the uPnL out)."""
        upnl = sum((_upnl(p, marks[s]) for s, p in self.positions.items()), Decimal(0))
        im = sum((Decimal(p.position_im) for p in self.positions.values()), Decimal(0))
        wallet = Decimal(self.wallet)
        coin = {
            "coin": "USDT",
            "equity": str(wallet + upnl),
            "usdValue": str(wallet + upnl),
            "walletBalance": str(wallet),
            "free": "",
            "locked": "0",
            "spotHedgingQty": "0",
            "borrowAmount": "0",
            "accruedInterest": "0",
            "totalOrderIM": "0",
            "totalPositionIM": str(im),
            "totalPositionMM": "0",
            "unrealisedPnl": str(upnl),
            "cumRealisedPnl": "-12.5",
            "bonus": "0",
            "marginCollateral": True,
            "collateralSwitch": True,
            "availableToWithdraw": "",
        }
        account = {
            "accountType": self.account_type,
            "accountIMRate": "0.0102",
            "accountMMRate": "0.0011",
            "totalEquity": str(wallet + upnl),
            "totalWalletBalance": str(wallet),
            "totalMarginBalance": str(wallet + upnl),
            "totalAvailableBalance": str(wallet + upnl - im),
            "totalPerpUPL": str(upnl),
            "totalInitialMargin": str(im),
            "totalMaintenanceMargin": "0",
            "accountLTV": "0",
            "coin": [coin],
        }
        return {"list": [account]}

    @property
    def account_type(self) -> str:
        """The wallet ccxt asks for: UNIFIED, or CONTRACT (derivatives) on a classic account."""
        return "CONTRACT" if self.unified_status == 1 else "UNIFIED"

    def account_info(self) -> dict[str, Any]:
        """GET /v5/account/info."""
        return {
            "marginMode": self.margin_mode,
            "updatedTime": "1697078946000",
            "unifiedMarginStatus": self.unified_status,
            "dcpStatus": "OFF",
            "timeWindow": 0,
            "smpGroup": 0,
            "isMasterTrader": False,
            "spotHedgingStatus": "OFF",
        }

    def query_api(self) -> dict[str, Any]:
        """GET /v5/user/query-api: a read-only key (readOnly 1) on a unified account (uta 1) unless classic."""
        return {
            "id": "13770661",
            "note": "margin watch",
            "apiKey": self.api_key,
            "readOnly": 1,
            "secret": "",
            "permissions": {
                "ContractTrade": ["Order", "Position"],
                "Spot": [],
                "Wallet": [],
                "Options": [],
                "Derivatives": ["DerivativesTrade"],
                "CopyTrading": [],
                "BlockTrade": [],
                "Exchange": [],
                "NFT": [],
                "Affiliate": [],
            },
            "ips": ["*"],
            "type": 1,
            "deadlineDay": 83,
            "expiredAt": "2027-02-22T03:21:05Z",
            "createdAt": "2026-11-30T02:24:40Z",
            "unified": 0,
            "uta": 0 if self.unified_status == 1 else 1,
            "userID": 24600000,
            "inviterID": 0,
            "vipLevel": "No VIP",
            "mktMakerLevel": "0",
            "affiliateID": 0,
            "rsaPublicKey": "",
            "isMaster": True,
        }


def _upnl(p: BybitPosition, mark: str) -> Decimal:
    sign = 1 if p.side == "Buy" else -1
    return sign * Decimal(p.size) * (Decimal(mark) - Decimal(p.avg_price))


def _position_row(symbol: str, p: BybitPosition, mark: str, now_ms: int) -> dict[str, Any]:
    return {
        "positionIdx": p.position_idx,
        "riskId": 1,
        "riskLimitValue": "2000000",
        "symbol": symbol,
        "side": p.side,
        "size": p.size,
        "avgPrice": p.avg_price,
        "positionValue": f"{Decimal(p.size) * Decimal(p.avg_price):.4f}",
        "tradeMode": p.trade_mode,
        "autoAddMargin": 0,
        "positionStatus": "Normal",
        "leverage": p.leverage,
        "markPrice": mark,
        "liqPrice": p.liq_price,
        "bustPrice": "",
        "positionIM": p.position_im,
        "positionIMByMp": p.position_im,
        "positionMM": "0",
        "positionMMByMp": "0",
        "positionBalance": "",
        "takeProfit": "",
        "stopLoss": "",
        "trailingStop": "0",
        "sessionAvgPrice": "",
        "unrealisedPnl": f"{_upnl(p, mark):.4f}",
        "curRealisedPnl": "-1.2",
        "cumRealisedPnl": "-12.5",
        "adlRankIndicator": 2,
        "createdTime": str(now_ms - 86_400_000),
        "updatedTime": str(now_ms),
        "tpslMode": "Full",
        "isReduceOnly": False,
        "mmrSysUpdatedTime": "",
        "leverageSysUpdatedTime": "",
        "seq": 8172241024,
    }


def _refused(code: int, message: str) -> dict[str, Any]:
    return {"retCode": code, "retMsg": message, "result": {}, "retExtInfo": {}, "time": int(time.time() * 1000)}
