"""Tier tables from the exchange through ccxt's public calls, each made a MarketSpec with its fetch time.

Which call (ccxt 4.5, read in the installed package):
- `fetch_leverage_tiers(symbols)` where ccxt offers it (Bybit: /v5/market/risk-limit, public; Gate; Binance,
  whose brackets need an API key: then the bundled tables stay, and the note says why);
- else `fetch_market_leverage_tiers(symbol)`, once per symbol (OKX: /api/v5/public/position-tiers; Bitget);
- Hyperliquid: ccxt has neither; its markets carry `limits.leverage.max`, and the `meta` info request
  (ccxt's public `publicPostInfo`) carries each coin's `marginTableId` and the `marginTables` (notional lower
  bounds with the max leverage above each: Hyperliquid docs "Margin tiers", read 2026-12-01). Maintenance
  there is half the initial margin at the tier's max leverage (RuleProfile.maintenance_share_of_max_leverage_margin),
  the deduction derived by engine.margin.liquidation.applied_tiers.

OKX's position tiers are in contracts (minSz/maxSz), not notional: they are converted to notional at the price
when fetched (contracts x contract size x last price), and the source says so; the boundaries move with the
price until the next fetch. The taker fee, contract size, inverse and max leverage come from ccxt's market
(`taker`, `contractSize`, `inverse`, `limits.leverage.max`), the tick, lot and minimum order from its
`precision` and `limits.amount.min` (engine.market.feeds.market_increments).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from engine.margin.model import MarketSpec, Tier
from engine.margin.tiers import TierTableError, check_tiers
from engine.market.feeds.ccxt_faults import describe_error
from engine.market.feeds.market_increments import Increments, market_increments

log = logging.getLogger(__name__)
T = TypeVar("T")
Race = Callable[[Awaitable[Any]], Awaitable[Any]]

TIERS_IN_CONTRACTS = frozenset({"okx"})
"""Exchanges whose tier bounds ccxt passes on in contracts, not notional (OKX position tiers: minSz/maxSz)."""

HYPERLIQUID_CAP = 1e12
"""The last Hyperliquid tier has no cap: the bundled tables' 1e12 stands for none."""


@dataclass(frozen=True)
class TierFetch:
    """What one fetch gave: markets by symbol (tiers_from 'fetched', tiers_at the fetch time) and a note in
    words (how many symbols, or why none: no endpoint, a key needed, a failure)."""

    markets: Mapping[str, MarketSpec] = field(default_factory=dict)
    note: str = ""


async def _direct(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def fetch_tier_tables(
    exchange: Any, symbols: Sequence[str], race: Race = _direct, clock: Callable[[], float] = time.time
) -> TierFetch:
    """The tier tables of these symbols (listed in exchange.markets, loaded) through ccxt's public calls.

    race: awaits one call (the feed's, so that stop() cancels it). Never raises for an exchange's answer:
    ccxt errors and unreadable tables become the note (a symbol whose table is unusable is left out); the
    caller's cancellation (the feed's _Stopped) passes through.
    """
    import ccxt

    exchange_id = str(exchange.id)
    has = exchange.has
    now = clock()
    rows: dict[str, Any] = {}
    try:
        if exchange_id == "hyperliquid":
            rows = await _hyperliquid_rows(exchange, symbols, race)
            how = "meta margin tables"
        elif has.get("fetchLeverageTiers") is True:
            served = await race(exchange.fetch_leverage_tiers(list(symbols)))
            rows = {s: served[s] for s in symbols if isinstance(served, Mapping) and served.get(s)}
            how = "fetch_leverage_tiers"
        elif has.get("fetchMarketLeverageTiers") is True:
            for symbol in symbols:
                rows[symbol] = await race(exchange.fetch_market_leverage_tiers(symbol))
            how = "fetch_market_leverage_tiers"
        else:
            return TierFetch({}, f"bundled tables: {exchange_id} has no public leverage-tier call in ccxt")
        prices = await _prices(exchange, symbols, race) if exchange_id in TIERS_IN_CONTRACTS else {}
    except (ccxt.AuthenticationError, ccxt.PermissionDenied, ccxt.NotSupported) as e:
        note = f"bundled tables: {exchange_id} serves leverage tiers only with an API key"
        log.info("feed %s: %s (%s)", exchange_id, note, describe_error(e))
        return TierFetch({}, note)
    except ccxt.BaseError as e:
        return TierFetch({}, f"bundled tables: fetching tiers failed ({describe_error(e)})")
    date = datetime.fromtimestamp(now, UTC).isoformat(timespec="minutes")
    markets: dict[str, MarketSpec] = {}
    for symbol in symbols:
        table = rows.get(symbol)
        if not table:
            continue
        market = exchange.markets.get(symbol) or {}
        where = f"{exchange_id} {symbol}"
        try:
            if exchange_id == "hyperliquid":
                tiers = table
                source = f"{exchange_id} {how}, fetched {date}"
            else:
                scale = _contract_value(market, prices.get(symbol)) if exchange_id in TIERS_IN_CONTRACTS else 1.0
                tiers = _contiguous(tiers_from_ccxt_scaled(table, scale, where), where)
                converted = f", bounds in contracts x {scale:g} per contract" if scale != 1.0 else ""
                source = f"{exchange_id} {how}, fetched {date}{converted}"
        except (TierTableError, KeyError, TypeError, ValueError) as e:
            log.info("feed %s: unusable tier table for %s (%s)", exchange_id, symbol, e)
            continue
        markets[symbol] = _market(symbol, tiers, market, source, now, market_increments(exchange, market))
    return TierFetch(markets, f"{len(markets)} of {len(symbols)} symbols' tiers from {exchange_id} ({how})")


def tiers_from_ccxt_scaled(rows: Sequence[Mapping[str, Any]], scale: float, where: str) -> tuple[Tier, ...]:
    """tiers_from_ccxt with every bound multiplied by scale (contracts to notional; 1.0 leaves them), checked
    after the bounds are made contiguous (see _contiguous). Raises TierTableError, KeyError, TypeError, ValueError."""
    ordered = sorted(rows, key=lambda r: float(r["minNotional"] or 0))
    scaled = []
    for k, row in enumerate(ordered):
        upper = row.get("maxNotional")
        scaled.append(
            {
                **row,
                # The exchange's upper bound is the next tier's lower one (OKX's minSz of tier 2 is maxSz + 1).
                "minNotional": 0.0 if k == 0 else float(ordered[k - 1]["maxNotional"]) * scale,
                "maxNotional": None if upper is None else float(upper) * scale,
            }
        )
    return tuple(
        Tier(
            float(r["minNotional"]),
            float(r["maxNotional"]) if r.get("maxNotional") is not None else float("inf"),
            float(r["maintenanceMarginRate"]),
            float((r.get("info") or {}).get("cum", (r.get("info") or {}).get("mmDeduction", 0.0)) or 0.0),
            float(r.get("maxLeverage") or 0.0),
        )
        for r in scaled
    )


def _contiguous(tiers: tuple[Tier, ...], where: str) -> tuple[Tier, ...]:
    last = tiers[-1]
    if last.max_notional == float("inf"):
        tiers = (*tiers[:-1], Tier(last.min_notional, HYPERLIQUID_CAP, *_rest(last)))
    return check_tiers(tiers, where)


def _rest(tier: Tier) -> tuple[float, float, float]:
    return (tier.maintenance_margin_rate, tier.maintenance_amount, tier.max_leverage)


def _contract_value(market: Mapping[str, Any], price: float | None) -> float:
    """Notional of one contract at this price (settlement currency); ValueError without a price."""
    if not price or price <= 0:
        raise ValueError("no price to convert tier bounds in contracts to notional")
    size = float(market.get("contractSize") or 1.0)
    return size / price if market.get("inverse") else size * price


async def _prices(exchange: Any, symbols: Sequence[str], race: Race) -> dict[str, float]:
    """Last prices to convert tier bounds in contracts (one fetch_tickers call)."""
    tickers = await race(exchange.fetch_tickers(list(symbols)))
    out = {}
    for symbol in symbols:
        ticker = tickers.get(symbol) if isinstance(tickers, Mapping) else None
        price = (ticker or {}).get("markPrice") or (ticker or {}).get("last")
        if isinstance(price, int | float) and price > 0:
            out[symbol] = float(price)
    return out


async def _hyperliquid_rows(exchange: Any, symbols: Sequence[str], race: Race) -> dict[str, tuple[Tier, ...]]:
    """Each symbol's Hyperliquid tiers: its margin table from `meta`, else one tier at limits.leverage.max."""
    meta = await race(exchange.publicPostInfo({"type": "meta"}))
    tables = hyperliquid_margin_tables(meta)
    table_of = {
        str(u.get("name")): u.get("marginTableId")
        for u in (meta.get("universe") if isinstance(meta, Mapping) else None) or []
        if isinstance(u, Mapping)
    }
    out: dict[str, tuple[Tier, ...]] = {}
    for symbol in symbols:
        market = exchange.markets.get(symbol) or {}
        name = str((market.get("info") or {}).get("name") or market.get("baseName") or market.get("base"))
        bands = tables.get(table_of.get(name))  # type: ignore[arg-type]
        if bands is None:
            cap = ((market.get("limits") or {}).get("leverage") or {}).get("max")
            if not cap:
                continue
            bands = ((0.0, float(cap)),)
        try:
            out[symbol] = hyperliquid_tiers(bands, f"hyperliquid {symbol}")
        except TierTableError as e:
            log.info("feed hyperliquid: unusable margin table for %s (%s)", symbol, e)
    return out


def hyperliquid_margin_tables(meta: Any) -> dict[int, tuple[tuple[float, float], ...]]:
    """`meta`'s marginTables as id -> ((lower bound, max leverage), ...), ascending; {} when it has none.

    Shape (Hyperliquid info endpoint, perpetuals "meta"): [[id, {"description", "marginTiers": [{"lowerBound":
    "0.0", "maxLeverage": 40}, ...]}], ...]. An entry it cannot read is left out."""
    out: dict[int, tuple[tuple[float, float], ...]] = {}
    raw = meta.get("marginTables") if isinstance(meta, Mapping) else None
    for item in raw or []:
        try:
            table_id, body = item
            bands = tuple(sorted((float(t["lowerBound"]), float(t["maxLeverage"])) for t in body["marginTiers"]))
        except (KeyError, TypeError, ValueError):
            continue
        if bands:
            out[int(table_id)] = bands
    return out


def hyperliquid_tiers(bands: Sequence[tuple[float, float]], where: str) -> tuple[Tier, ...]:
    """Tiers from (lower bound, max leverage) bands: rate 1/(2 x max leverage), amount 0 (the deduction is
    derived where the profile is applied). Raises TierTableError for bands that are not a usable table."""
    tiers = []
    for k, (lower, leverage) in enumerate(bands):
        if not leverage > 0:
            raise TierTableError(f"{where}: a margin tier without max leverage")
        upper = bands[k + 1][0] if k + 1 < len(bands) else HYPERLIQUID_CAP
        tiers.append(Tier(lower, upper, 0.5 / leverage, 0.0, leverage))
    return check_tiers(tiers, where)


def _market(
    symbol: str, tiers: tuple[Tier, ...], market: Mapping[str, Any], source: str, now: float, steps: Increments
) -> MarketSpec:
    cap = ((market.get("limits") or {}).get("leverage") or {}).get("max")
    taker = market.get("taker")
    return MarketSpec(
        symbol=symbol,
        tiers=tiers,
        contract_size=float(market.get("contractSize") or 1.0),
        inverse=bool(market.get("inverse")),
        taker_fee=float(taker) if isinstance(taker, int | float) and taker >= 0 else 0.0,
        max_leverage=float(cap) if isinstance(cap, int | float) and cap > 0 else tiers[0].max_leverage,
        source=source,
        tiers_from="fetched",
        tiers_at=now,
        tick_size=steps.tick_size,
        lot_size=steps.lot_size,
        min_contracts=steps.min_contracts,
    )


def fetch_tables_now(
    keys: Sequence[tuple[str, str]], ccxt_settings: Mapping[str, Mapping[str, Any]] | None = None, timeout: float = 30.0
) -> dict[str, TierFetch]:
    """Fetch the tier tables of these (exchange, symbol) keys now, in the caller's thread (a command that cannot
    start without them: `watch` on a book whose markets no table has yet). exchange -> what its fetch gave;
    an exchange that could not be reached says so in its note. ccxt_settings: exchange -> ccxt constructor
    settings (the --exchange-config 'ccxt' member). Never raises for the network."""
    import asyncio

    by_exchange: dict[str, list[str]] = {}
    for exchange, symbol in keys:
        by_exchange.setdefault(exchange, []).append(symbol)

    async def one(exchange_id: str, symbols: list[str]) -> TierFetch:
        import ccxt.async_support as ccxt_async

        cls = getattr(ccxt_async, exchange_id, None)
        if cls is None:
            return TierFetch({}, f"ccxt has no exchange '{exchange_id}'")
        exchange = cls({"enableRateLimit": True, "timeout": 10_000, **dict((ccxt_settings or {}).get(exchange_id, {}))})
        try:
            await exchange.load_markets()
            listed = [s for s in symbols if s in exchange.markets]
            return await fetch_tier_tables(exchange, listed)
        except Exception as e:  # the network, or an answer ccxt cannot read: said, never raised
            return TierFetch({}, f"tier tables from {exchange_id} not fetched: {describe_error(e)}")
        finally:
            await exchange.close()

    async def every() -> dict[str, TierFetch]:
        jobs = {ex: asyncio.wait_for(one(ex, syms), timeout) for ex, syms in by_exchange.items()}
        results = await asyncio.gather(*jobs.values(), return_exceptions=True)
        return {
            ex: r if isinstance(r, TierFetch) else TierFetch({}, f"tier tables from {ex} not fetched: {r!r}")
            for ex, r in zip(jobs, results, strict=True)
        }

    return asyncio.run(every())
