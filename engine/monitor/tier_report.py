"""Where each position's tiers came from and how old they are, as the reports and the window say it.

Per position: `tiers_source` ('file', 'fetched', 'bundled': engine.margin.market_choice), `tiers_date` (ISO,
UTC; null for the file's own tiers), `tiers_age_s`, `tiers_stale` (older than TIERS_STALE_AFTER) and
`taker_fee_note` (why the taker fee is an assumption, where the maintenance includes it; else null).
"""

from __future__ import annotations

import time
from typing import Any

from engine.book.safe_text import printable
from engine.margin.market_choice import TIERS_STALE_AFTER, TierAge, tier_age
from engine.margin.model import Book, MarketSpec, Position


def _market(book: Book, position: Position) -> MarketSpec | None:
    try:
        return book.market_of(position)
    except KeyError:
        return None


def tier_fields(book: Book, now: float | None = None) -> list[dict[str, Any]]:
    """The tier fields of each position of the book, in book order (see the module docstring)."""
    now = time.time() if now is None else now
    ages: dict[int, tuple[TierAge, str]] = {}
    out = []
    for p in book.positions:
        market = _market(book, p)
        if market is None:
            out.append(dict.fromkeys(("tiers_source", "tiers_date", "tiers_age_s", "tiers_stale", "taker_fee_note")))
            continue
        age, note = ages.get(id(market)) or ages.setdefault(id(market), (tier_age(market, now), market.fee_note))
        out.append(
            {
                "tiers_source": age.source,
                "tiers_date": age.date,
                "tiers_age_s": None if age.age_s is None else round(age.age_s, 1),
                "tiers_stale": age.stale,
                "taker_fee_note": note or None,
            }
        )
    return out


def tier_lines(book: Book, now: float | None = None) -> list[str]:
    """The text report's 'Tiers' section: one line per market the positions use, stale ones flagged."""
    now = time.time() if now is None else now
    seen: dict[tuple[str, str], MarketSpec] = {}
    for p in book.positions:
        market = _market(book, p)
        if market is not None:
            seen.setdefault((book.account(p.account).exchange, p.symbol), market)
    if not seen:
        return []
    lines = ["", f"Tiers (flagged: older than {TIERS_STALE_AFTER / 86_400:g} days):"]
    for (exchange, symbol), market in seen.items():
        age = tier_age(market, now)
        flag = "STALE " if age.stale else ""
        lines.append(f"  {flag}{printable(exchange)} {printable(symbol)}: {printable(age.text)}")
        if market.fee_note:
            lines.append(f"    {printable(market.fee_note)}")
    return lines
