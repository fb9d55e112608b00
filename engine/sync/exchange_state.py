"""What the exchange says an account holds, in the book's terms, read from ccxt's unified structures.

ccxt's position structure (https://docs.ccxt.com/#/?id=position-structure): symbol, side, contracts,
entryPrice, marginMode, leverage, liquidationPrice, markPrice, unrealizedPnl, initialMargin, notional,
collateral, positionMargin (isolated: the isolated wallet, without uPnL), hedged, takeProfitPrice and
stopLossPrice. Its balance structure: total / free / used per currency, and the exchange's own answer in `info`.

Take-profit and stop-loss: ccxt 4.5 fills takeProfitPrice / stopLossPrice from the position where the exchange
reports them on it (Bybit v5 /v5/position/list `takeProfit` / `stopLoss`, "0" or "" when not set); Binance,
Hyperliquid, OKX, Gate and Bitget keep TP/SL as separate orders, and ccxt leaves the keys None (or out) there.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.margin.model import MarginMode, MarketSpec, PositionMode, PriceKey, Side
from engine.sync.errors import SyncError, SyncFailure


@dataclass(frozen=True, slots=True)
class ExchangePosition:
    """One open position as the exchange reports it. Prices in the quote currency, money in the settlement
    currency; liquidation_price None when the exchange reports none (Binance sends "0")."""

    symbol: str
    side: Side
    contracts: float
    entry_price: float
    margin_mode: MarginMode
    leverage: float
    isolated_margin: float
    liquidation_price: float | None
    mark_price: float | None
    unrealized_pnl: float
    reports_stops: bool = False
    """The exchange said whether the position has a take-profit and stop-loss (ccxt's keys were not None):
    then take_profit / stop_loss are its (None: not set); else they are unknown and a sync keeps the book's."""
    take_profit: float | None = None
    stop_loss: float | None = None


@dataclass(frozen=True, slots=True)
class ExchangeState:
    """An account on the exchange at fetched_at (Unix s): its open positions, its whole wallet balance in
    `currency` (isolated margins included, uPnL not: what Binance calls walletBalance), and its position mode
    when the positions tell it (None when they do not). markets: tier tables fetched with it for positions
    that no table gave yet ((exchange, symbol) -> market; engine.sync.run.missing_tables)."""

    positions: tuple[ExchangePosition, ...]
    wallet_balance: float
    currency: str
    position_mode: PositionMode | None
    fetched_at: float
    markets: Mapping[PriceKey, MarketSpec] = field(default_factory=dict)


def _number(item: Mapping[str, Any], key: str) -> float | None:
    value = item.get(key)
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _unreadable(exchange: str, what: str) -> SyncError:
    return SyncError(SyncFailure.UNREADABLE, f"{exchange} answered in a way that cannot be read: {what}")


def position_from_ccxt(exchange: str, item: Mapping[str, Any]) -> ExchangePosition | None:
    """One ccxt position as an ExchangePosition; None for a flat one (no contracts: Binance lists every symbol).

    Leverage where the exchange does not send it: notional / initial margin. Margin mode where ccxt leaves it
    None: Bybit's classic `tradeMode` in the raw answer. Isolated margin: positionMargin, else the collateral
    less the uPnL, else the initial margin (Bybit's unified account sends positionIM only). Raises SyncError
    (UNREADABLE) for a position without a symbol, side, entry price, margin mode or leverage."""
    contracts = _number(item, "contracts")
    if not contracts:
        return None
    symbol = item.get("symbol")
    try:
        side = Side(item.get("side"))
        mode = MarginMode(item.get("marginMode") or _trade_mode(item))
    except ValueError:
        raise _unreadable(exchange, f"a position of {symbol} has no side or margin mode") from None
    entry = _number(item, "entryPrice")
    leverage = _number(item, "leverage")
    if leverage is None:
        notional, initial = _number(item, "notional"), _number(item, "initialMargin")
        leverage = round(abs(notional) / initial, 2) if notional and initial else None
    if not isinstance(symbol, str) or not entry or entry <= 0 or not leverage or leverage <= 0:
        raise _unreadable(exchange, f"a position of {symbol} lacks its entry price or leverage")
    isolated = 0.0
    if mode is MarginMode.ISOLATED:
        margin = _number(item, "positionMargin")
        collateral = _number(item, "collateral")
        if margin is None and collateral is not None:  # the collateral holds the uPnL: take it out
            margin = collateral - (_number(item, "unrealizedPnl") or 0.0)
        if margin is None:  # Bybit's unified account: positionIM, ccxt's initialMargin, is the position's margin
            margin = _number(item, "initialMargin") or 0.0
        isolated = max(margin, 0.0)
    liquidation = _number(item, "liquidationPrice")
    reports_stops, take_profit, stop_loss = _stops(item)
    return ExchangePosition(
        symbol,
        side,
        abs(contracts),
        entry,
        mode,
        leverage,
        isolated,
        liquidation if liquidation and liquidation > 0 else None,
        _number(item, "markPrice"),
        _number(item, "unrealizedPnl") or 0.0,
        reports_stops,
        take_profit,
        stop_loss,
    )


TRADE_MODES = {"0": MarginMode.CROSS.value, "1": MarginMode.ISOLATED.value}
"""Bybit's classic `tradeMode` of a position (V5 "Get Position Info", GET /v5/position/list, read 2026-12-01:
0 cross margin, 1 isolated margin, on a classic account; deprecated and always 0 on a unified account, whose
margin mode the reader asks of GET /v5/account/info first)."""


def _trade_mode(item: Mapping[str, Any]) -> str | None:
    """The margin mode in the raw answer's Bybit `tradeMode` (a number or a string), or None."""
    info = item.get("info")
    value = info.get("tradeMode") if isinstance(info, Mapping) else None
    return None if value is None or isinstance(value, bool) else TRADE_MODES.get(str(value).strip())


def _stops(item: Mapping[str, Any]) -> tuple[bool, float | None, float | None]:
    """(whether the exchange reported them, take-profit, stop-loss) of a ccxt position; a price of 0 (Bybit's
    "0.00") is 'not set'."""
    reported = item.get("takeProfitPrice") is not None or item.get("stopLossPrice") is not None
    prices = [_number(item, key) for key in ("takeProfitPrice", "stopLossPrice")]
    take_profit, stop_loss = (value if value is not None and value > 0 else None for value in prices)
    return reported, take_profit, stop_loss


def wallet_from_ccxt(
    exchange: str, balance: Mapping[str, Any], currency: str, positions: Sequence[ExchangePosition]
) -> float:
    """The whole wallet balance in currency: the exchange's own walletBalance where its answer has one (Binance
    USDⓈ-M /fapi/v2/account `assets[].walletBalance`, Bybit's wallet-balance coins), else ccxt's total (the
    equity) less the positions' uPnL. Raises SyncError (UNREADABLE) when the balance has no figure for currency."""
    wallet = _exchange_wallet(balance.get("info"), currency)
    if wallet is not None:
        return wallet
    total = balance.get("total")
    equity = _number(total, currency) if isinstance(total, Mapping) else None
    if equity is None:
        raise _unreadable(exchange, f"the balance has no {currency}")
    return equity - sum(p.unrealized_pnl for p in positions)


def _exchange_wallet(info: Any, currency: str) -> float | None:
    """The exchange's own walletBalance of currency in its answer: Binance USDⓈ-M `assets[]` (asset,
    walletBalance), Bybit V5 /v5/account/wallet-balance `result.list[].coin[]` (coin, walletBalance: "Get
    Wallet Balance", read 2026-12-01, the wallet without the uPnL; ccxt's total is that same figure), or None."""
    if not isinstance(info, Mapping):
        return None
    rows: list[tuple[Any, str]] = [(a, "asset") for a in _list(info.get("assets"))]
    result = info.get("result")
    for account in _list(result.get("list") if isinstance(result, Mapping) else None):
        if isinstance(account, Mapping):
            rows.extend((coin, "coin") for coin in _list(account.get("coin")))
    for row, key in rows:
        if isinstance(row, Mapping) and row.get(key) == currency:
            wallet = _number(row, "walletBalance")
            if wallet is not None:
                return wallet
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def state_from_ccxt(
    exchange: str, positions: Sequence[Mapping[str, Any]], balance: Mapping[str, Any], currency: str, now: float
) -> ExchangeState:
    """The account's state from ccxt's fetch_positions and fetch_balance answers; SyncError (UNREADABLE)."""
    if not isinstance(positions, Sequence) or not isinstance(balance, Mapping):
        raise _unreadable(exchange, "positions or balance of the wrong shape")
    held = tuple(p for p in (position_from_ccxt(exchange, item) for item in positions) if p is not None)
    hedged = {bool(item.get("hedged")) for item in positions if _number(item, "contracts")}
    mode = None if len(hedged) != 1 else PositionMode.HEDGE if hedged.pop() else PositionMode.ONEWAY
    return ExchangeState(held, wallet_from_ccxt(exchange, balance, currency, held), currency, mode, now)
