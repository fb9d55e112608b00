"""Tier tables the feeds fetched, taken into a running book: stored for the next (offline) start, and the book's
markets resolved again with them (the file's `markets` entries still win: engine.margin.market_choice).

Both `marginwatch watch` (engine.monitor.watch) and the window (desktop.window.tier_updates) poll their feeds
with a FetchedTables and apply what it returns with with_fetched; the window also takes the tick, lot and minimum
order each feed read from its exchange's public market list (FetchedTables.new_increments), which its what-if
rounds to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from engine.book.book_rules import build_book
from engine.book.portfolio import Portfolio
from engine.margin.listed_increments import Increments
from engine.margin.market_choice import MarketSources
from engine.margin.model import MarketSpec, PriceKey


class FetchedTables:
    """Which feeds fetched new tables since the last look (a feed's `tiers_version` moved), and which read their
    exchange's market list (its `increments_version` moved)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, int], int] = {}

    def new(self, feeds: Iterable[Any]) -> dict[str, dict[str, MarketSpec]]:
        """exchange -> {symbol: market} of the feeds whose fetch ended since the last call (none: {})."""
        return self._since_last(feeds, "tiers")

    def new_increments(self, feeds: Iterable[Any]) -> dict[str, dict[str, Increments]]:
        """exchange -> {symbol: increments} of the feeds that read their exchange's market list since the last
        call (none: {})."""
        return self._since_last(feeds, "increments")

    def _since_last(self, feeds: Iterable[Any], what: str) -> dict[str, dict[str, Any]]:
        """exchange -> the feeds' `what` mapping, for the feeds whose `{what}_version` moved since the last call."""
        out: dict[str, dict[str, Any]] = {}
        for feed in feeds:
            version = getattr(feed, f"{what}_version", 0)
            if version and self._seen.get((what, id(feed))) != version:
                self._seen[(what, id(feed))] = version
                found = dict(getattr(feed, what, {}))
                if found:
                    out.setdefault(feed.exchange_id, {}).update(found)
        return out


def with_fetched(
    portfolio: Portfolio,
    fetched: Mapping[str, Mapping[str, MarketSpec]],
    increments: Mapping[str, Mapping[str, Increments]] | None = None,
) -> tuple[Portfolio, list[str]]:
    """The portfolio with its markets resolved again, these fetched tables (exchange -> symbol -> market) and
    the increments of the exchanges' market lists (exchange -> symbol -> increments) added to the ones it had;
    and the rules the book now breaks under them, one line each (the book is kept whole: a leverage above a
    fetched tier's maximum is said, not a reason to keep the older table).
    """
    flat: dict[PriceKey, MarketSpec] = {(ex, s): m for ex, by in fetched.items() for s, m in by.items()}
    steps: dict[PriceKey, Increments] = {(ex, s): i for ex, by in (increments or {}).items() for s, i in by.items()}
    overrides = portfolio.market_overrides
    held = overrides if isinstance(overrides, MarketSources) else MarketSources(overrides)
    sources = held.with_fetched(flat, steps)
    book = portfolio.book
    checked = build_book(book.accounts, book.positions, sources)
    rebuilt = checked.book or checked.draft
    if rebuilt is None:  # a market went missing: cannot happen with tables added, but never lose the book
        return portfolio, [v.text() for v in checked.violations]
    return replace(portfolio, book=rebuilt, market_overrides=sources), [v.text() for v in checked.violations]
