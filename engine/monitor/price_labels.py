"""How a price's origin and age read in a cell: 'LIVE 0.4 s', 'MANUAL', 'SIMULATED 2.0 s', 'STALE 21 s'."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from engine.margin.model import PriceKey
from engine.market.prices import MarkRecord, PriceSource

STATUS_SYMBOLS_NAMED = 3
"""Manual prices named in the status bar before the rest are counted ('and 4 more')."""


def source_label(
    quote: MarkRecord | None, now: float, stale: bool, shocked: bool = False, offline: bool = False
) -> str:
    """'LIVE 0.4 s', 'MANUAL', 'MANUAL (OFFLINE)', 'SIMULATED 0.2 s', 'STALE 21 s', 'MISSING'; a feed
    price that is the last trade standing in for the mark says so: 'LIVE 0.4 s (last trade)'; under a
    shock preview 'SHOCKED (LIVE 0.4 s)', so a preview never hides where the price came from or that it
    is stale."""
    if quote is None:
        return "MISSING"
    if quote.source is PriceSource.MANUAL:
        label = "MANUAL (OFFLINE)" if offline else "MANUAL"
    else:
        age = quote.age(now)
        kind = "STALE" if stale else quote.source.value.upper()
        label = f"{kind} {age:.1f} s" if age < 60 else f"{kind} {age / 60:.0f} min"
        if quote.mark_is_last_trade:  # the exchange sent no mark: liquidation is judged at one, not at this
            label += " (last trade)"
    return f"SHOCKED ({label})" if shocked else label


def price_source(
    quote: MarkRecord | None, now: float, stale_after: float, shocked: bool = False, offline: bool = False
) -> tuple[str, bool]:
    """(the label, whether the price is stale): one judgement of staleness for every table that shows
    a price's origin (a manual price is never stale)."""
    stale = quote is not None and quote.is_stale(now, stale_after)
    return source_label(quote, now, stale, shocked, offline), stale


def prices_status(
    feeds: Sequence[str], offline: bool, manual: Sequence[str], priced: int, from_book: bool, shocked: str = ""
) -> list[str]:
    """The status bar's words on where the book's prices come from, from what is in use right now.

    feeds: each running feed's own description ('binanceusdm: live', 'demo: simulated (…)');
    offline: the user works offline (no feed runs); manual: the symbol of each price key whose price
    in use is a manual one; priced: how many of the book's price keys have a price (manual or not);
    from_book: every manual price is the book's own (none typed, none kept from the feeds); shocked:
    the shock preview's description, '' for none. Never claims a source that is not in use: no
    'simulated' without the simulated feed (nor unqualified when every price is manual), no 'from the
    book' once a price was typed or kept from a feed.
    """
    every_price_manual = bool(manual) and len(manual) == priced
    # A running feed whose prices are all overridden is not what the book is evaluated at: say so.
    parts = [f"{feed}, not in use (every price is manual)" if every_price_manual else feed for feed in feeds]
    if offline:
        parts.append("OFFLINE: no feed runs (File ▸ Work offline to go back online)")
    if manual:
        origin = " (from the book)" if from_book else ""
        if every_price_manual:
            parts.append(f"prices: all manual{origin}, not live")
        else:
            symbols = list(dict.fromkeys(manual))  # a symbol on two exchanges is named once
            named = ", ".join(symbols[:STATUS_SYMBOLS_NAMED])
            more = len(symbols) - STATUS_SYMBOLS_NAMED
            parts.append(f"MANUAL prices{origin}, not live: {named}" + (f" and {more} more" if more > 0 else ""))
    if shocked:
        parts.append(f"SHOCK PREVIEW ({shocked}): figures are hypothetical")
    return parts


def oldest_price_age(quotes: Mapping[PriceKey, MarkRecord], keys: Sequence[PriceKey], now: float) -> float | None:
    """Age in seconds of the oldest feed price among these keys (manual prices have no age); None for none."""
    ages = [q.age(now) for key in keys if (q := quotes.get(key)) is not None and q.source is not PriceSource.MANUAL]
    return max(ages) if ages else None


def status_line(
    quotes: Mapping[PriceKey, MarkRecord],
    keys: Sequence[PriceKey],
    feeds: Sequence[str],
    *,
    working_offline: bool,
    prices_typed: bool,
    shock: str,
    storage_note: str,
    history_error: str,
    stale_after: float,
    missing: Sequence[PriceKey],
    empty_book: bool,
    now: float | None = None,
) -> str:
    """The window's status bar: where prices come from (prices_status), the oldest price's age (STALE past
    stale_after seconds), the saved book's problem first (storage_note), history not saved, the symbols still
    waiting for a price, and how to start on an empty book. Parts are joined with ' · '."""
    now = time.time() if now is None else now
    priced = [key for key in keys if key in quotes]
    manual = [key[1] for key in priced if quotes[key].source is PriceSource.MANUAL]
    parts = prices_status(feeds, working_offline, manual, len(priced), not prices_typed, shock)
    if storage_note:
        parts.insert(0, storage_note)
    oldest = oldest_price_age(quotes, keys, now)
    if oldest is not None:
        age = f"{oldest:.1f} s" if oldest < 60 else f"{oldest / 60:.0f} min"
        parts.append(("STALE: " if oldest > stale_after else "") + f"oldest price {age} old")
    if history_error:
        parts.append(f"history not saved: {history_error}")
    if missing:
        parts.append("waiting for prices: " + ", ".join(symbol for _, symbol in missing))
    if empty_book and not storage_note:
        parts.append("empty book: Edit ▸ New account…, then New position… (or 'marginwatch import FILE')")
    return "   ·   ".join(parts)
