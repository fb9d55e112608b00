"""Which table a market uses: the one place that answers it, for every door.

Per (exchange, symbol), the first of:

1. the portfolio file's `markets` entry (always wins; `exchange:symbol` before a plain `symbol` key). An entry
   may be partial: what it leaves out (its tiers, max_leverage, taker_fee, contract_size, inverse, tick_size,
   lot_size, min_contracts) is taken from the tables below, so `{"max_leverage": 25}` alone is a valid
   Hyperliquid override;
2. the tables fetched from the exchange (engine.market.feeds.tier_fetch), stored with their fetch time
   (engine.storage.fetched_markets) and handed over in `MarketSources.fetched`;
3. the bundled tables (resources/tiers, engine.margin.tiers), each dated.

The tick, lot and minimum order follow the same order field by field, with one more source between 1 and 3: the
increments the exchange's public market list gave (`MarketSources.increments`, engine.margin.listed_increments),
for every exchange and without an API key, so a Binance symbol whose tiers are bundled still has its tick: the
file's wins over a fetched one, a fetched one over a bundled one.

Every market made here says where its tiers came from and when (MarketSpec.tiers_from, tiers_at, source), and,
for the profiles whose maintenance includes the fee to close (OKX, Gate: RuleProfile.taker_fee_in_maintenance),
why its taker fee is what it is when nobody gave one (MarketSpec.fee_note): a missing fee there is never a
silent 0, which gave an OKX book a too-favourable liquidation price.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from engine.margin.listed_increments import INCREMENT_FIELDS, Increments, with_listed_increments
from engine.margin.model import MarketSpec, PriceKey, Tier, inverse_by_symbol
from engine.margin.rules import profile_for
from engine.margin.tiers import bundled_market

TIERS_STALE_AFTER = 7 * 86_400.0
"""A table older than this (seconds) is flagged. Every online start fetches the tables again, so a fetched
table a week old means the app has not been online for a week; exchanges revise their tiers a few times a
year, announced days ahead (Bybit and Binance announce risk-limit changes in their notices), so a week keeps
the flag for a table that may really have changed. Bundled tables are always older: always flagged."""

ASSUMED_TAKER_FEES: Mapping[str, tuple[float, str]] = {
    "okx": (0.0005, "OKX's regular-user perpetual taker fee 0.05% (okx.com/fees, Lv1)"),
    "gate": (0.0005, "Gate's VIP 0 perpetual taker fee 0.05% (gate.com/fee)"),
}
"""The taker fee assumed, with its source, for a fee-in-maintenance profile when neither the file, the fetched
markets nor the bundled table gives one (a fee tier above the base one is lower: the assumption errs on the
safe side, a liquidation price nearer the mark)."""

ONE_TIER_CAP = 1e12
"""The cap of a table made from max_leverage alone (one tier from notional 0), as the bundled tables have it."""


@dataclass(frozen=True, slots=True)
class MarketEntry:
    """A portfolio file's `markets` entry as written: None for every field it leaves out (filled from the
    fetched or bundled table by resolve_market). tiers: checked (engine.margin.tiers.check_tiers) when given."""

    symbol: str
    tiers: tuple[Tier, ...] | None = None
    contract_size: float | None = None
    inverse: bool | None = None
    taker_fee: float | None = None
    max_leverage: float | None = None
    tick_size: float | None = None
    lot_size: float | None = None
    min_contracts: float | None = None

    def given(self) -> list[str]:
        """The names of the fields the entry gives, in the file's order."""
        return [f.name for f in dataclasses.fields(self) if f.name != "symbol" and getattr(self, f.name) is not None]


class MarketSources(Mapping[str, MarketEntry]):
    """A portfolio file's `markets` entries by key, carrying the fetched tables beside them.

    Every door passes a book's entries on (Portfolio.market_overrides) to resolve_market; carrying the fetched
    tables in the same object lets each door resolve a new symbol as the book was resolved, without a second
    argument threaded through each of them. fetched: (exchange, symbol) -> market, as stored.
    """

    def __init__(
        self,
        entries: Mapping[str, MarketEntry] | None = None,
        fetched: Mapping[PriceKey, MarketSpec] | None = None,
        increments: Mapping[PriceKey, Increments] | None = None,
    ) -> None:
        self._entries = dict(entries or {})
        self.fetched: Mapping[PriceKey, MarketSpec] = dict(fetched or {})
        self.increments: Mapping[PriceKey, Increments] = dict(increments or {})
        """(exchange, symbol) -> the increments the exchange's market list gave (engine.margin.listed_increments)."""

    def __getitem__(self, key: str) -> MarketEntry:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def with_fetched(
        self, fetched: Mapping[PriceKey, MarketSpec], increments: Mapping[PriceKey, Increments] | None = None
    ) -> MarketSources:
        """The same entries with these fetched tables and listed increments (added to, and replacing, the ones
        held)."""
        return MarketSources(self._entries, {**self.fetched, **fetched}, {**self.increments, **(increments or {})})


def resolve_market(
    exchange: str, symbol: str, overrides: Mapping[str, MarketEntry | MarketSpec] | None = None
) -> MarketSpec | None:
    """The market of `symbol` on `exchange` (see the module docstring for the order), or None when nothing
    gives it tiers (no table anywhere, and a file entry without 'tiers' that cannot make one).

    overrides: the file's entries (MarketSources carries the fetched tables too; a plain mapping has none).
    A complete MarketSpec in it is taken as it is (the fee rule still applies).
    """
    overrides = {} if overrides is None else overrides  # not `or`: a MarketSources without entries is empty
    raw = overrides.get(f"{exchange}:{symbol}") or overrides.get(symbol)
    fetched: Mapping[PriceKey, MarketSpec] = getattr(overrides, "fetched", {})
    listed: Increments | None = getattr(overrides, "increments", {}).get((exchange, symbol))
    base = fetched.get((exchange, symbol)) or bundled_market(exchange, symbol)
    if raw is None or isinstance(raw, MarketSpec):
        # a complete market (a caller's own) is taken as it is
        market = raw or (None if base is None else with_listed_increments(base, listed))
    else:
        entry = dataclasses.replace(raw, symbol=symbol)
        market = _merged(exchange, entry, base)
        if market is not None and listed is not None:  # the entry's own increments win
            market = with_listed_increments(market, _left_out_by(entry, listed))
    return None if market is None else _with_fee(exchange, market)


def _left_out_by(entry: MarketEntry, listed: Increments) -> Increments:
    """The listed increments without those the entry gives (0: not laid over)."""
    return dataclasses.replace(listed, **{n: 0.0 for n in INCREMENT_FIELDS if getattr(entry, n) is not None})


def entry_of(market: MarketSpec) -> MarketEntry:
    """A complete market as a file entry giving every field it knows (an increment of 0, unknown, is left out)."""
    return MarketEntry(
        market.symbol,
        market.tiers,
        market.contract_size,
        market.inverse,
        market.taker_fee,
        market.max_leverage,
        market.tick_size or None,
        market.lot_size or None,
        market.min_contracts or None,
    )


def _merged(exchange: str, entry: MarketEntry, base: MarketSpec | None) -> MarketSpec | None:
    """The entry's fields over the base's; the base's tiers when the entry has none (each tier's max leverage
    capped at the entry's max_leverage); for a profile that derives maintenance from max leverage
    (Hyperliquid) and no base, one tier from max_leverage alone."""
    cap = entry.max_leverage
    if entry.tiers is not None:
        tiers, tiers_from, tiers_at, source = entry.tiers, "file", None, "portfolio file"
    elif base is not None:
        tiers = base.tiers
        if cap:
            tiers = tuple(dataclasses.replace(t, max_leverage=min(t.max_leverage or cap, cap)) for t in tiers)
        tiers_from, tiers_at = base.tiers_from, base.tiers_at
        source = f"{base.source}; the file's entry gives {', '.join(entry.given())}"
    elif cap and profile_for(exchange).maintenance_share_of_max_leverage_margin is not None:
        rate = profile_for(exchange).maintenance_share_of_max_leverage_margin / cap  # type: ignore[operator]
        tiers = (Tier(0.0, ONE_TIER_CAP, rate, 0.0, cap),)
        tiers_from, tiers_at, source = "file", None, "portfolio file (one tier from its max_leverage)"
    else:
        return None
    by_symbol = inverse_by_symbol(entry.symbol)
    return MarketSpec(
        symbol=entry.symbol,
        tiers=tiers,
        contract_size=_first(entry.contract_size, base.contract_size if base else None, 1.0),
        inverse=bool(_first(entry.inverse, base.inverse if base else None, by_symbol, False)),
        taker_fee=_first(entry.taker_fee, base.taker_fee if base else None, 0.0),
        max_leverage=_first(cap, base.max_leverage if base else None, tiers[0].max_leverage),
        source=source,
        tiers_from=tiers_from,
        tiers_at=tiers_at,
        fee_note="" if entry.taker_fee is not None else (base.fee_note if base else ""),
        tick_size=_first(entry.tick_size, base.tick_size if base else None, 0.0),
        lot_size=_first(entry.lot_size, base.lot_size if base else None, 0.0),
        min_contracts=_first(entry.min_contracts, base.min_contracts if base else None, 0.0),
    )


def _first(*values: Any) -> Any:
    """The first value that is not None (the entry's, then the base's, then the default)."""
    return next(v for v in values if v is not None)


def _with_fee(exchange: str, market: MarketSpec) -> MarketSpec:
    """A fee-in-maintenance market without a taker fee takes the assumed one and says so (or says 0 is used)."""
    if market.taker_fee > 0 or not profile_for(exchange).taker_fee_in_maintenance:
        return market
    assumed = ASSUMED_TAKER_FEES.get(exchange)
    if assumed is None:
        note = "taker fee unknown: 0 used, so the liquidation price is optimistic; give 'taker_fee'"
        return dataclasses.replace(market, fee_note=note)
    fee, source = assumed
    return dataclasses.replace(market, taker_fee=fee, fee_note=f"taker fee not given: {source} assumed")


# -- age ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierAge:
    """Where a market's tiers came from and how old they are at `now`: source ('file', 'fetched', 'bundled'),
    age_s (seconds; None for the file's own tiers, whose age nobody knows), date (ISO, UTC; None likewise),
    stale (older than TIERS_STALE_AFTER), text (one line for a tooltip or a report)."""

    source: str
    age_s: float | None
    date: str | None
    stale: bool
    text: str = field(default="")


def tier_age(market: MarketSpec, now: float | None = None) -> TierAge:
    """Where this market's tiers came from and how old they are (see TierAge)."""
    now = time.time() if now is None else now
    source = market.tiers_from or "file"
    if market.tiers_at is None:
        said = "" if market.source in ("", "portfolio file") else f" ({market.source})"
        return TierAge(source, None, None, False, f"tiers from the portfolio file{said}")
    age = max(0.0, now - market.tiers_at)
    date = datetime.fromtimestamp(market.tiers_at, UTC).isoformat(timespec="seconds")
    stale = age > TIERS_STALE_AFTER
    flag = f"; older than {TIERS_STALE_AFTER / 86_400:g} days: check the exchange's current tiers" if stale else ""
    text = f"tiers {source} {date[:10]}, {age_text(age)} old ({market.source}){flag}"
    return TierAge(source, age, date, stale, text)


def age_text(seconds: float) -> str:
    """'42 s', '5 min', '3.2 h', '12 days'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5_400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3_600:.1f} h"
    return f"{seconds / 86_400:.0f} days"
