"""Maintenance-margin tier tables: parsing ccxt's leverage-tier structure and the bundled tables.

The bundled tables live in resources/tiers/<exchange>.json, each with its source and date:
{"exchange", "source", "date", "note", "tiers": {symbol: [ccxt tier dicts]}, "markets": {symbol: {...}}}; a
`markets` entry may give contract_size, inverse, taker_fee, max_leverage, tick_size, lot_size and min_contracts
(the increments' source in the table's "increments_source").
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from engine.margin.bundled import load_json, resource
from engine.margin.model import MarketSpec, Tier


class TierTableError(ValueError):
    """A tier table that cannot be used (gaps, overlaps, negative rates)."""


def check_tiers(tiers: Sequence[Tier], where: str) -> tuple[Tier, ...]:
    """The tiers sorted by min_notional, once checked usable: from notional 0, contiguous, rates in [0, 1),
    amounts >= 0 and small enough that no tier's maintenance margin is negative at its lower bound.

    where: names the table in the messages ('binanceusdm BTC/USDT:USDT').
    Raises TierTableError (a ValueError) naming the first problem found.
    """
    if not tiers:
        raise TierTableError(f"{where}: no tiers")
    ordered = tuple(sorted(tiers, key=lambda t: t.min_notional))
    if ordered[0].min_notional != 0:
        raise TierTableError(f"{where}: the first tier must start at notional 0")
    for previous, tier in itertools.pairwise(ordered):
        if tier.min_notional != previous.max_notional:
            raise TierTableError(
                f"{where}: tiers must be contiguous (one ends at {previous.max_notional:g}, "
                f"the next starts at {tier.min_notional:g})"
            )
    for tier in ordered:
        if tier.maintenance_amount < 0:
            raise TierTableError(f"{where}: maintenance_amount must not be negative")
        if not 0 <= tier.maintenance_margin_rate < 1:
            raise TierTableError(f"{where}: maintenance_margin_rate must be in [0, 1)")
        if tier.max_notional <= tier.min_notional:
            raise TierTableError(f"{where}: max_notional must exceed min_notional")
        floor_margin = tier.min_notional * tier.maintenance_margin_rate - tier.maintenance_amount
        if floor_margin < -1e-9 * max(1.0, tier.min_notional):
            raise TierTableError(
                f"{where}: maintenance_amount {tier.maintenance_amount:g} is too large: the maintenance "
                f"margin would be negative at notional {tier.min_notional:g}"
            )
    return ordered


def tier_at(market: MarketSpec, notional: float) -> Tier:
    """The tier holding this notional (settlement currency); above the last cap the last tier applies.

    IndexError when the market has no tiers (check_tiers refuses such tables)."""
    for tier in market.tiers:
        if notional < tier.max_notional:
            return tier
    return market.tiers[-1]


def max_leverage_at(market: MarketSpec, notional: float) -> float:
    """The highest leverage the market allows at this notional: its tier's, capped by the market's own
    maximum; 0 when neither states one."""
    tier_max = tier_at(market, notional).max_leverage
    bounds = [b for b in (tier_max, market.max_leverage) if b > 0]
    return min(bounds) if bounds else 0.0


def tiers_from_ccxt(rows: Sequence[Mapping[str, Any]], where: str) -> tuple[Tier, ...]:
    """Tiers from ccxt's fetch_leverage_tiers() structure; the maintenance amount is in `info`.

    rows: ccxt tier dicts (minNotional, maxNotional (None: no cap), maintenanceMarginRate, maxLeverage,
    info.cum (Binance) or info.mmDeduction (Bybit)), notionals in the settlement currency.
    Raises TierTableError (check_tiers) for an unusable table; KeyError, TypeError or ValueError for a row
    missing a field or holding a non-number (the bundled tables turn those into TierTableError).
    """
    return check_tiers([Tier(*values) for values in tier_values(rows)], where)


def tier_values(rows: Sequence[Mapping[str, Any]]) -> list[tuple[float, float, float, float, float]]:
    """Each ccxt tier dict's fields in Tier's order (min_notional, max_notional (inf: no cap), maintenance rate,
    maintenance amount, max leverage (0: not given)), as floats; see tiers_from_ccxt for the rows and errors."""
    values = []
    for row in rows:
        info = row.get("info") or {}
        amount = info.get("cum", info.get("mmDeduction", 0.0)) or 0.0
        cap = row.get("maxNotional")
        values.append(
            (
                float(row["minNotional"]),
                float(cap) if cap is not None else float("inf"),
                float(row["maintenanceMarginRate"]),
                float(amount),
                float(row.get("maxLeverage") or 0.0),
            )
        )
    return values


def _table_key(values: list[tuple[float, float, float, float, float]]) -> bytes:
    """A key equal for two tables exactly when their values are, bit for bit (-0.0 == 0.0, but the tiers made keep
    the sign they were given): the doubles packed."""
    return struct.pack(f"{5 * len(values)}d", *itertools.chain.from_iterable(values))


def date_seconds(date: str) -> float | None:
    """A bundled table's date ('2024-10-24' or '2024-10': the first of the month) as Unix seconds (UTC midnight);
    None when unreadable. Read by hand: the first strptime of a process imports _strptime (2 ms of start-up)."""
    parts = date.split("-")
    if len(parts) not in (2, 3) or not all(part.isascii() and part.isdigit() for part in parts) or len(parts[0]) != 4:
        return None
    year, month, day = [int(part) for part in parts] + [1] * (3 - len(parts))  # no day: the first
    try:
        return datetime(year, month, day, tzinfo=UTC).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class BundledTable:
    """One shipped tier table: its exchange, where and when it was read, and its markets by symbol
    (each checked when first read: reading one may raise TierTableError)."""

    exchange: str
    source: str
    date: str
    markets: Mapping[str, MarketSpec]


class _MarketsReadOnDemand(Mapping[str, MarketSpec]):
    """A bundled table's markets, each made into a MarketSpec (tiers checked) the first time it is read:
    a book uses a few hundred of an exchange's markets, and start-up should not pay for the rest."""

    def __init__(self, exchange: str, data: Mapping[str, Any]) -> None:
        self._exchange = exchange
        self._data = data
        self._rows: Mapping[str, Sequence[Mapping[str, Any]]] = data["tiers"]
        self._extras: Mapping[str, Mapping[str, Any]] = data.get("markets", {})
        self._made: dict[str, MarketSpec] = {}
        self._tables: dict[bytes, tuple[Tier, ...]] = {}
        """Checked tiers by their values (_table_key): many markets share one table, made and checked once."""
        self._source = f"{data['source']} ({data['date']})"
        self._tiers_at = date_seconds(str(data["date"]))  # once per table, not per market

    def __getitem__(self, symbol: str) -> MarketSpec:
        market = self._made.get(symbol)
        if market is None:
            rows = self._rows[symbol]  # KeyError for a market the table does not have
            extra = self._extras.get(symbol, {})
            try:
                values = tier_values(rows)
            except (KeyError, TypeError) as e:  # not a KeyError out of here: that would read "no such market"
                raise TierTableError(f"{self._exchange} {symbol}: a bundled tier row is malformed ({e!r})") from e
            key = _table_key(values)
            tiers = self._tables.get(key)  # type: ignore[assignment]
            if tiers is None:  # a table that fails its check is checked again (its message names its market)
                tiers = check_tiers([Tier(*v) for v in values], f"{self._exchange} {symbol}")
                self._tables[key] = tiers
            market = self._made[symbol] = MarketSpec(
                symbol=symbol,
                tiers=tiers,
                contract_size=float(extra.get("contract_size", 1.0)),
                inverse=bool(extra.get("inverse", False)),
                taker_fee=float(extra.get("taker_fee", 0.0)),
                max_leverage=float(extra.get("max_leverage", tiers[0].max_leverage)),
                source=self._source,
                tiers_from="bundled",
                tiers_at=self._tiers_at,
                tick_size=float(extra.get("tick_size", 0.0)),
                lot_size=float(extra.get("lot_size", 0.0)),
                min_contracts=float(extra.get("min_contracts", 0.0)),
            )
        return market

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._rows  # without making the market

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def bundled_table(exchange: str) -> BundledTable | None:
    """The bundled table of an exchange, or None when none is shipped."""
    # Only the shipped names: an exchange id is user input (a form asks on every keystroke), and
    # '../demo/book' is a file too. The shipped ones are read once each.
    return _read_table(exchange) if exchange in bundled_exchanges() else None


@cache
def _read_table(exchange: str) -> BundledTable:
    data = load_json("tiers", f"{exchange}.json")
    return BundledTable(exchange, data["source"], data["date"], _MarketsReadOnDemand(exchange, data))


def bundled_market(exchange: str, symbol: str) -> MarketSpec | None:
    """The shipped market of this exchange and symbol; None when no table or no such market is shipped.

    Raises TierTableError when the shipped rows for the symbol are malformed or unusable."""
    table = bundled_table(exchange)
    return table.markets.get(symbol) if table else None


@cache
def bundled_exchanges() -> tuple[str, ...]:
    """The exchanges with a bundled table (the resources do not change while the app runs)."""
    return tuple(sorted(p.name.removesuffix(".json") for p in resource("tiers").iterdir() if p.name.endswith(".json")))
