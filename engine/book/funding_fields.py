"""The portfolio file's funding fields: `funding_rate` (a fraction per interval, positive: longs pay shorts) and
`funding_interval_hours` in a `markets` entry, for working offline.

A markets entry may hold only these two fields: the market itself (tiers, contract size) is then the bundled
one, and the entry only gives its funding rate. An entry keyed 'exchange:symbol' applies on that exchange
and wins over a plain symbol entry, as for markets (engine.book.portfolio.market_key_symbol).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.book.document_reader import Reader
from engine.book.safe_text import printable
from engine.funding.rates import FundingRate, RateSource, venue_funding
from engine.margin.model import Book

FUNDING_KEYS = ("funding_rate", "funding_interval_hours")
MAX_INTERVAL_HOURS = 24.0
MIN_INTERVAL_HOURS = 1 / 60
"""One minute. No venue funds more often than hourly (Hyperliquid, some Binance symbols); below a minute the
figures per day stop meaning anything (5e-324 hours overflowed the next-funding arithmetic)."""


def rate_in_bounds(rate: float) -> bool:
    """A funding rate per interval (fraction) any venue could set: -1 < rate < 1 (-100% to 100%, excluded).
    The one bound of every door: the file, a rate typed in the window (engine.book.typed_funding)."""
    return -1 < rate < 1


def interval_in_bounds(hours: float) -> bool:
    """A funding interval in hours: MIN_INTERVAL_HOURS (a minute) <= hours <= MAX_INTERVAL_HOURS (no venue funds
    less than daily)."""
    return MIN_INTERVAL_HOURS <= hours <= MAX_INTERVAL_HOURS


@dataclass(frozen=True, slots=True)
class FileFunding:
    """A funding rate written in the file: rate per interval (fraction); interval_hours None: the venue's."""

    rate: float
    interval_hours: float | None = None


def funding_only(item: Any) -> bool:
    """A markets entry that gives nothing but funding fields (the bundled market keeps its tiers)."""
    return isinstance(item, Mapping) and bool(item) and all(key in FUNDING_KEYS for key in item)


def read_funding(reader: Reader, where: str, item: Mapping[str, Any]) -> FileFunding | None:
    """The entry's funding fields, or None when it has none or they are bad (a Violation naming the field is
    added then: 'markets.BTC/USDT:USDT: 'funding_rate' must be between -1 and 1 ...')."""
    if "funding_rate" not in item:
        if "funding_interval_hours" in item:
            reader.add(f"{where}.funding_rate", None, f"{where}: 'funding_interval_hours' needs a 'funding_rate'")
        return None
    prefix = f"{where}: "
    nulls = [key for key in FUNDING_KEYS if key in item and item[key] is None]
    for key in nulls:  # present but null: not 'missing' (the reader's word for an absent field)
        reader.add(key, None, f"{prefix}'{key}' must be a number, not null")
    if nulls:
        return None
    rate = reader.number(item, "funding_rate", None, prefix=prefix)
    hours = None
    if "funding_interval_hours" in item:
        hours = reader.number(item, "funding_interval_hours", None, positive=True, prefix=prefix)
        if hours is None:
            return None
        if not interval_in_bounds(hours):
            message = f"{prefix}'funding_interval_hours' must be from 1 minute (0.0167) to 24 hours, not {hours:g}"
            reader.add("funding_interval_hours", None, message)
            return None
    if rate is None:
        return None
    if not rate_in_bounds(rate):
        reader.add(
            "funding_rate", None, f"{prefix}'funding_rate' must be a fraction per interval between -1 and 1 "
            f"(0.0001 = 0.01%), not {rate:g}",
        )  # fmt: skip
        return None
    return FileFunding(rate + 0.0, hours)  # + 0.0: a -0 is 0 (not shown as -0.0000%)


def funding_to_dict(funding: FileFunding) -> dict[str, float]:
    """The fields written back for a FileFunding (what read_funding reads unchanged)."""
    out = {"funding_rate": funding.rate}
    if funding.interval_hours is not None:
        out["funding_interval_hours"] = funding.interval_hours
    return out


def file_rates(book: Book, funding: Mapping[str, FileFunding], now: float) -> list[FundingRate]:
    """A FundingRate (source: file) per book price key the file gives a rate for; 'exchange:symbol' entries
    win over plain symbol ones; the interval is the entry's, else the venue's (engine.funding.rates)."""
    rates = []
    for exchange, symbol in book.price_keys():
        entry = funding.get(f"{exchange}:{symbol}") or funding.get(symbol)
        if entry is None:
            continue
        hours = entry.interval_hours or venue_funding(exchange).interval_hours
        rates.append(FundingRate(exchange, symbol, entry.rate, hours, None, now, RateSource.FILE))
    return rates


def split_funding(reader: Reader, markets: Mapping[str, Any]) -> tuple[dict[str, FileFunding], dict[str, Any]]:
    """Every markets entry's funding fields (read_funding), by markets key, and the entries without them for the
    market parser (an entry of funding fields only is left out: the bundled market stays). Bad fields are
    Violations; a repeated key inside an entry stays marked for the market parser to name."""
    funding: dict[str, FileFunding] = {}
    rest: dict[str, Any] = {}
    for key, item in markets.items():
        if not isinstance(item, Mapping):
            rest[key] = item
            continue
        if entry := read_funding(reader, f"markets.{printable(key)}", item):
            funding[key] = entry
        if not funding_only(item):
            bare = copy.copy(item)  # the same kind of dict (json_object's keeps its repeated keys)
            for name in FUNDING_KEYS:
                bare.pop(name, None)
            rest[key] = bare
    return funding, rest


def merge_funding(doc: dict[str, Any], funding: Mapping[str, FileFunding]) -> dict[str, Any]:
    """The portfolio document with each funding entry's fields written into its markets entry (a new entry of
    funding fields only where the file had no market); returns doc itself."""
    if funding:
        markets = doc.setdefault("markets", {})
        for key, entry in funding.items():
            markets.setdefault(key, {}).update(funding_to_dict(entry))
    return doc
