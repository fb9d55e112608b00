"""How a price's origin and age read in a cell: 'LIVE 0.4 s', 'MANUAL', 'SIMULATED 2.0 s', 'STALE 21 s'."""

from __future__ import annotations

from collections.abc import Sequence

from engine.market.prices import PriceSource, Quote

STATUS_SYMBOLS_NAMED = 3
"""Manual prices named in the status bar before the rest are counted ('and 4 more')."""


def source_label(quote: Quote | None, now: float, stale: bool, shocked: bool = False, offline: bool = False) -> str:
    """'LIVE 0.4 s', 'MANUAL', 'MANUAL (OFFLINE)', 'SIMULATED 0.2 s', 'STALE 21 s', 'MISSING'; under a
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
    return f"SHOCKED ({label})" if shocked else label


def price_source(
    quote: Quote | None, now: float, stale_after: float, shocked: bool = False, offline: bool = False
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
