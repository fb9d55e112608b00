"""How a price's origin and age read in a cell: 'live 0.4 s', 'manual', 'simulated 2.0 s', 'STALE 21 s'."""

from __future__ import annotations

from engine.prices import PriceSource, Quote


def source_label(quote: Quote | None, now: float, stale: bool) -> str:
    """'live 0.4 s', 'manual', 'simulated', 'STALE 21 s' or 'missing'."""
    if quote is None:
        return "missing"
    if quote.source is PriceSource.MANUAL:
        return "manual"
    age = quote.age(now)
    label = "STALE" if stale else quote.source.value
    return f"{label} {age:.1f} s" if age < 60 else f"{label} {age / 60:.0f} min"
