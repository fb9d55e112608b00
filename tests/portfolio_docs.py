"""Builders for small portfolio documents (the JSON of a portfolio file) used across the tests."""

from __future__ import annotations

from typing import Any


def position_doc(
    symbol: str = "BTC/USDT:USDT",
    side: str = "long",
    contracts: float = 0.5,
    entry_price: float = 60_000,
    margin_mode: str = "cross",
    leverage: float = 10,
    account: str = "main",
    **extra: Any,
) -> dict[str, Any]:
    return {
        "account": account,
        "symbol": symbol,
        "side": side,
        "contracts": contracts,
        "entry_price": entry_price,
        "margin_mode": margin_mode,
        "leverage": leverage,
        **extra,
    }


def portfolio_doc(
    *positions: dict[str, Any],
    name: str = "main",
    exchange: str = "binanceusdm",
    wallet_balance: float = 10_000,
    prices: dict[str, float] | None = None,
    **top: Any,
) -> dict[str, Any]:
    """One account holding the given positions (by default one BTC long, 0.5 @ 60,000, cross 10x)."""
    doc: dict[str, Any] = {
        "accounts": [{"name": name, "exchange": exchange, "wallet_balance": wallet_balance}],
        "positions": [dict(p, account=name) for p in positions] or [position_doc(account=name)],
        **top,
    }
    if prices is not None:
        doc["prices"] = prices
    return doc
