"""The portfolio file's `markets` section: entries read as written (partial ones too) and written back alike.

An entry may give any of contract_size, inverse, taker_fee, max_leverage, tick_size (the price increment, quote
currency), lot_size (the contracts increment), min_contracts (the smallest order) and tiers; what it leaves out comes
from the fetched or bundled table (engine.margin.market_choice.resolve_market). Its `volatility` (the
probability of liquidation's) is read here too and kept apart (engine.book.market_volatility).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.book.book_rules import MARKET_KEYS, TIER_KEYS
from engine.book.document_reader import Reader, market_inverse
from engine.book.funding_fields import FUNDING_KEYS
from engine.book.market_volatility import read_volatility
from engine.book.safe_text import printable
from engine.margin.market_choice import MarketEntry, entry_of
from engine.margin.model import MarketSpec, Tier
from engine.margin.tiers import TierTableError, check_tiers


def market_key_symbol(key: str) -> str:
    """'bybit:ETH/USDT:USDT' -> 'ETH/USDT:USDT'; a plain unified symbol is returned as it is.

    A ccxt unified symbol always has its '/' before the first ':', so a prefix without '/' is an
    exchange id: such an entry applies on that exchange only, and wins over a plain symbol entry.
    """
    prefix, sep, rest = key.partition(":")
    return rest if sep and "/" not in prefix and "/" in rest else key


def parse_market(reader: Reader, key: str, item: Any) -> MarketEntry | None:
    """A `markets` entry as written: every field optional, 'tiers' a non-empty list when given (what the entry
    leaves out comes from the fetched or bundled table: engine.margin.market_choice)."""
    symbol = market_key_symbol(key)
    where = f"markets.{printable(key)}"
    before = len(reader.violations)
    if not isinstance(item, Mapping):
        reader.add(where, None, f"{where}: must be an object")
        return None
    # the funding fields were taken out before (engine.book.funding_fields.split_funding) but are fields too
    reader.keys(item, (*MARKET_KEYS, *FUNDING_KEYS), f"a market ({where})", None)
    if not any(k in item for k in MARKET_KEYS):
        reader.add(where, None, f"{where}: give at least one of {', '.join(MARKET_KEYS)}")
        return None
    read_volatility(reader, item, where)  # kept apart: Portfolio.volatilities (engine.book.market_volatility)
    if set(item) == {"volatility"}:  # a volatility alone: no market entry
        return None
    ordered: tuple[Tier, ...] | None = None
    if "tiers" in item:
        ordered = _parse_tiers(reader, item["tiers"], where)
    numbers = {
        name: reader.number(item, name, None, default=None, prefix=f"{where}: ", **bound) if name in item else None
        for name, bound in (
            ("contract_size", {"positive": True}),
            ("taker_fee", {"non_negative": True}),
            ("max_leverage", {"non_negative": True}),
            ("tick_size", {"positive": True}),
            ("lot_size", {"positive": True}),
            ("min_contracts", {"positive": True}),
        )
    }
    inverse = market_inverse(reader, item, symbol, where) if "inverse" in item else None
    if len(reader.violations) > before:
        return None
    size, fee, cap = numbers["contract_size"], numbers["taker_fee"], numbers["max_leverage"]
    steps = numbers["tick_size"], numbers["lot_size"], numbers["min_contracts"]
    return MarketEntry(symbol, ordered, size, inverse, fee, cap, *steps)


def _parse_tiers(reader: Reader, tiers_raw: Any, where: str) -> tuple[Tier, ...] | None:
    if not isinstance(tiers_raw, list) or not tiers_raw:
        reader.add(f"{where}.tiers", None, f"{where}: 'tiers' must be a non-empty list")
        return None
    before = len(reader.violations)
    tiers = []
    for k, t in enumerate(tiers_raw):
        tw = f"{where}.tiers[{k + 1}]"
        if not isinstance(t, Mapping):
            reader.add(tw, None, f"{tw}: must be an object")
            continue
        reader.keys(t, TIER_KEYS, f"a tier ({tw})", None)
        values = (
            reader.number(t, "min_notional", None, non_negative=True, prefix=f"{tw}: "),
            reader.number(t, "max_notional", None, positive=True, prefix=f"{tw}: "),
            reader.number(t, "maintenance_margin_rate", None, non_negative=True, prefix=f"{tw}: "),
            reader.number(t, "maintenance_amount", None, default=0.0, prefix=f"{tw}: "),
            reader.number(t, "max_leverage", None, non_negative=True, default=0.0, prefix=f"{tw}: "),
        )
        if all(v is not None for v in values):
            tiers.append(Tier(*values))  # type: ignore[arg-type]
    if len(reader.violations) > before:
        return None
    try:
        return check_tiers(tiers, where)
    except TierTableError as e:
        reader.add(f"{where}.tiers", None, str(e))
        return None


def entry_to_dict(entry: MarketEntry | MarketSpec) -> dict[str, Any]:
    """A `markets` entry as the file has it: only the fields it gives (a complete market gives them all)."""
    if isinstance(entry, MarketSpec):
        entry = entry_of(entry)
    out: dict[str, Any] = {name: getattr(entry, name) for name in entry.given() if name != "tiers"}
    if entry.tiers is not None:
        out["tiers"] = [
            {
                "min_notional": t.min_notional,
                "max_notional": t.max_notional,
                "maintenance_margin_rate": t.maintenance_margin_rate,
                "maintenance_amount": t.maintenance_amount,
                "max_leverage": t.max_leverage,
            }
            for t in entry.tiers
        ]
    return out
