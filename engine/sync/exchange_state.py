"""What the exchange says an account holds, in the book's terms, read from ccxt's unified structures.

ccxt's position structure (https://docs.ccxt.com/#/?id=position-structure): symbol, side, contracts,
entryPrice, marginMode, leverage, liquidationPrice, markPrice, unrealizedPnl, initialMargin, notional,
collateral, positionMargin (isolated: the isolated wallet, without uPnL), hedged. Its balance structure:
total / free / used per currency, and the exchange's own answer in `info`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.margin.model import MarginMode, PositionMode, Side
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


@dataclass(frozen=True, slots=True)
class ExchangeState:
    """An account on the exchange at fetched_at (Unix s): its open positions, its whole wallet balance in
    `currency` (isolated margins included, uPnL not: what Binance calls walletBalance), and its position mode
    when the positions tell it (None when they do not)."""

    positions: tuple[ExchangePosition, ...]
    wallet_balance: float
    currency: str
    position_mode: PositionMode | None
    fetched_at: float


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

    Leverage where the exchange does not send it: notional / initial margin. Raises SyncError (UNREADABLE)
    for a position without a symbol, side, entry price, margin mode or leverage."""
    contracts = _number(item, "contracts")
    if not contracts:
        return None
    symbol = item.get("symbol")
    try:
        side = Side(item.get("side"))
        mode = MarginMode(item.get("marginMode"))
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
        if margin is None:  # the collateral holds the uPnL: take it out
            margin = (_number(item, "collateral") or 0.0) - (_number(item, "unrealizedPnl") or 0.0)
        isolated = max(margin, 0.0)
    liquidation = _number(item, "liquidationPrice")
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
    )


def wallet_from_ccxt(
    exchange: str, balance: Mapping[str, Any], currency: str, positions: Sequence[ExchangePosition]
) -> float:
    """The whole wallet balance in currency: the exchange's own walletBalance where its answer has one (Binance
    USDⓈ-M /fapi/v2/account `assets[].walletBalance`), else ccxt's total (the equity) less the positions' uPnL.
    Raises SyncError (UNREADABLE) when the balance has no figure for currency."""
    info = balance.get("info")
    assets = info.get("assets") if isinstance(info, Mapping) else None
    for asset in assets if isinstance(assets, list) else ():
        if isinstance(asset, Mapping) and asset.get("asset") == currency:
            wallet = _number(asset, "walletBalance")
            if wallet is not None:
                return wallet
    total = balance.get("total")
    equity = _number(total, currency) if isinstance(total, Mapping) else None
    if equity is None:
        raise _unreadable(exchange, f"the balance has no {currency}")
    return equity - sum(p.unrealized_pnl for p in positions)


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
