"""How a price's origin and age read in a cell: 'LIVE 0.4 s', 'MANUAL', 'SIMULATED 2.0 s', 'STALE 21 s'."""

from __future__ import annotations

from engine.prices import PriceSource, Quote


def source_label(quote: Quote | None, now: float, stale: bool, shocked: bool = False) -> str:
    """'LIVE 0.4 s', 'MANUAL', 'SIMULATED 0.2 s', 'STALE 21 s', 'MISSING'; under a shock preview
    'SHOCKED (LIVE 0.4 s)', so a preview never hides where the price came from or that it is stale."""
    if quote is None:
        return "MISSING"
    if quote.source is PriceSource.MANUAL:
        label = "MANUAL"
    else:
        age = quote.age(now)
        kind = "STALE" if stale else quote.source.value.upper()
        label = f"{kind} {age:.1f} s" if age < 60 else f"{kind} {age / 60:.0f} min"
    return f"SHOCKED ({label})" if shocked else label


def price_source(quote: Quote | None, now: float, stale_after: float, shocked: bool = False) -> tuple[str, bool]:
    """(the label, whether the price is stale): one judgement of staleness for every table that shows
    a price's origin (a manual price is never stale)."""
    stale = quote is not None and quote.is_stale(now, stale_after)
    return source_label(quote, now, stale, shocked), stale
