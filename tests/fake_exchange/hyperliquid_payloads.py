"""Hyperliquid public payloads, in the shapes Hyperliquid documents and serves.

Sources (read 2026-12-01): Hyperliquid docs, "Info endpoint > Perpetuals" (meta: universe with
szDecimals, name, maxLeverage, marginTableId, onlyIsolated, and marginTables as [id, {description,
marginTiers: [{lowerBound, maxLeverage}]}] pairs; metaAndAssetCtxs: [meta, [asset context]]; perpDexs),
"Info endpoint > Spot" (spotMeta, spotMetaAndAssetCtxs), "Websocket > Subscriptions" (activeAssetCtx:
{"channel": "activeAssetCtx", "data": {"coin", "ctx"}}; allMids: {"channel": "allMids", "data": {"mids"}};
subscriptionResponse; pong), and "Trading > Margin tiers" (mainnet tiers: BTC 40x to 150M then 20x,
ETH 25x to 100M then 15x, SOL 20x to 70M then 10x, DOGE 10x to 20M then 5x). The same shapes are in
ccxt's own comments (ccxt/hyperliquid.py fetch_swap_markets, parse_ticker; ccxt/pro/hyperliquid.py
handle_active_asset_ctx, handle_ws_tickers).

Margin table ids: 56 ('tiered 40x', BTC) and 55 ('tiered 25x') as Hyperliquid serves them; the public
pages do not give the SOL and DOGE tables' ids, so 54 and 52 here are the fake's own. An id below 50 is
a single tier whose max leverage is the id (HPOS, 3x, isolated only).
"""

from __future__ import annotations

from typing import Any

# coin -> (szDecimals, maxLeverage, marginTableId, onlyIsolated)
PERPETUALS: dict[str, tuple[int, int, int, bool]] = {
    "BTC": (5, 40, 56, False),
    "ETH": (4, 25, 55, False),
    "SOL": (2, 20, 54, False),
    "DOGE": (0, 10, 52, False),
    "HPOS": (0, 3, 3, True),
}

MARGIN_TABLES: dict[int, tuple[str, list[tuple[str, int]]]] = {
    56: ("tiered 40x", [("0.0", 40), ("150000000.0", 20)]),
    55: ("tiered 25x", [("0.0", 25), ("100000000.0", 15)]),
    54: ("tiered 20x", [("0.0", 20), ("70000000.0", 10)]),
    52: ("tiered 10x", [("0.0", 10), ("20000000.0", 5)]),
    3: ("", [("0.0", 3)]),
}

SPOT_TOKENS = [
    {
        "name": "USDC",
        "szDecimals": 8,
        "weiDecimals": 8,
        "index": 0,
        "tokenId": "0x6d1e7cde53ba9467b783cb7c530ce054",
        "isCanonical": True,
        "evmContract": None,
        "fullName": None,
    },
    {
        "name": "PURR",
        "szDecimals": 0,
        "weiDecimals": 5,
        "index": 1,
        "tokenId": "0xc1fb593aeffbeb02f85e0308e9956a90",
        "isCanonical": True,
        "evmContract": None,
        "fullName": None,
    },
]
SPOT_UNIVERSE = [{"name": "PURR/USDC", "tokens": [1, 0], "index": 0, "isCanonical": True}]


def meta() -> dict[str, Any]:
    """POST /info {"type": "meta"}: the perpetuals' universe and margin tables."""
    universe = []
    for coin, (sz_decimals, max_leverage, table_id, only_isolated) in PERPETUALS.items():
        entry: dict[str, Any] = {
            "szDecimals": sz_decimals,
            "name": coin,
            "maxLeverage": max_leverage,
            "marginTableId": table_id,
        }
        if only_isolated:
            entry["onlyIsolated"] = True
        universe.append(entry)
    tables = [
        [table_id, {"description": description, "marginTiers": [{"lowerBound": b, "maxLeverage": x} for b, x in tiers]}]
        for table_id, (description, tiers) in MARGIN_TABLES.items()
    ]
    return {"universe": universe, "marginTables": tables, "collateralToken": 0}


def asset_ctx(mark: str, mid: str, oracle: str) -> dict[str, Any]:
    """One perpetual's asset context (metaAndAssetCtxs' second element, activeAssetCtx's 'ctx')."""
    return {
        "funding": "0.0000125",
        "openInterest": "688.11",
        "prevDayPx": mark,
        "dayNtlVlm": "1169046.29406",
        "premium": "0.00031774",
        "oraclePx": oracle,
        "markPx": mark,
        "midPx": mid,
        "impactPxs": [mid, mid],
        "dayBaseVlm": "12.5",
    }


def meta_and_asset_ctxs(ctxs: dict[str, dict[str, Any]]) -> list[Any]:
    """POST /info {"type": "metaAndAssetCtxs"}: [meta, contexts in the universe's order]."""
    return [meta(), [ctxs[coin] for coin in PERPETUALS]]


def spot_meta() -> dict[str, Any]:
    """POST /info {"type": "spotMeta"}."""
    return {"tokens": SPOT_TOKENS, "universe": SPOT_UNIVERSE}


def spot_meta_and_asset_ctxs() -> list[Any]:
    """POST /info {"type": "spotMetaAndAssetCtxs"}."""
    ctx = {
        "prevDayPx": "0.20432",
        "dayNtlVlm": "8906.0",
        "markPx": "0.14",
        "midPx": "0.209265",
        "circulatingSupply": "598924043.3876",
        "coin": "PURR/USDC",
        "dayBaseVlm": "42000.0",
    }
    return [spot_meta(), [ctx]]


def perp_dexs() -> list[Any]:
    """POST /info {"type": "perpDexs"}: the first perp dex (null) and no builder-deployed ones."""
    return [None]


def active_asset_ctx_event(coin: str, ctx: dict[str, Any]) -> dict[str, Any]:
    return {"channel": "activeAssetCtx", "data": {"coin": coin, "ctx": ctx}}


def all_mids_event(mids: dict[str, str]) -> dict[str, Any]:
    return {"channel": "allMids", "data": {"mids": mids}}


def subscription_response(method: str, subscription: dict[str, Any]) -> dict[str, Any]:
    return {"channel": "subscriptionResponse", "data": {"method": method, "subscription": subscription}}
