"""The price store: every source writes marks into it, the engine and the views read from it.

Per (exchange, symbol) it keeps the latest mark (and last trade) price, the exchange's timestamp,
the local receive time and the source. Writers are feed threads; readers get a consistent snapshot
plus the keys changed since their own previous read, so any tick rate coalesces into one recompute
per refresh. A manual price overrides the feed for its key until it is cleared: live ticks keep
arriving underneath, and replace it only when the user says so.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from engine.model import PriceKey


class PriceSource(StrEnum):
    LIVE = "live"
    MANUAL = "manual"
    SIMULATED = "simulated"


@dataclass(frozen=True, slots=True)
class Quote:
    mark: float
    source: PriceSource
    received_at: float
    """Local wall-clock time (seconds since the epoch) when the price arrived."""
    exchange_time: float | None = None
    """The exchange's own timestamp of the price, seconds since the epoch, when it sent one."""
    last: float | None = None
    mark_is_last_trade: bool = False
    """True when the exchange gave no mark price and the last trade price stands in for it."""

    def age(self, now: float) -> float:
        return max(0.0, now - self.received_at)

    def is_stale(self, now: float, max_age: float) -> bool:
        return self.source is not PriceSource.MANUAL and self.age(now) > max_age


@dataclass(frozen=True, slots=True)
class Tick:
    """One price as a source delivers it, before validation."""

    key: PriceKey
    mark: float | None
    exchange_time: float | None = None
    last: float | None = None
    mark_is_last_trade: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    quotes: Mapping[PriceKey, Quote]
    changed: frozenset[PriceKey]
    taken_at: float

    def marks(self) -> dict[PriceKey, float]:
        return {key: q.mark for key, q in self.quotes.items()}


def _valid_price(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


class PriceStore:
    """Thread-safe latest-price table with per-reader change tracking."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._feed: dict[PriceKey, Quote] = {}
        self._manual: dict[PriceKey, Quote] = {}
        self._version: dict[PriceKey, int] = {}
        self._counter = 0
        self.dropped: Counter[str] = Counter()
        """Ticks refused, by reason: 'missing', 'not a positive number', 'out of order'."""

    def publish(self, ticks: Iterable[Tick], source: PriceSource = PriceSource.LIVE) -> int:
        """Store valid ticks; drop (and count) malformed, absurd and out-of-order ones. Returns how many were kept."""
        now = self._clock()
        kept = 0
        with self._lock:
            for tick in ticks:
                reason = self._refusal(tick)
                if reason:
                    self.dropped[reason] += 1
                    continue
                last = tick.last if _valid_price(tick.last) else None
                self._feed[tick.key] = Quote(
                    float(tick.mark),
                    source,
                    now,
                    tick.exchange_time,
                    last,
                    tick.mark_is_last_trade,  # type: ignore[arg-type]
                )
                if tick.key not in self._manual:
                    self._bump(tick.key)
                kept += 1
        return kept

    def _refusal(self, tick: Tick) -> str:
        if tick.mark is None:
            return "missing"
        if not _valid_price(tick.mark):
            return "not a positive number"
        previous = self._feed.get(tick.key)
        if (
            previous is not None
            and tick.exchange_time is not None
            and previous.exchange_time is not None
            and tick.exchange_time < previous.exchange_time
        ):
            return "out of order"
        return ""

    def _bump(self, key: PriceKey) -> None:
        self._counter += 1
        self._version[key] = self._counter

    def set_manual(self, key: PriceKey, mark: float) -> None:
        if not _valid_price(mark):
            raise ValueError("a manual price must be a number greater than 0")
        with self._lock:
            self._manual[key] = Quote(float(mark), PriceSource.MANUAL, self._clock())
            self._bump(key)

    def clear_manual(self, keys: Iterable[PriceKey] | None = None) -> None:
        """Go back to the feed's price for these keys (all manual keys when None)."""
        with self._lock:
            for key in list(self._manual if keys is None else keys):
                if self._manual.pop(key, None) is not None:
                    self._bump(key)

    def freeze_as_manual(self) -> None:
        """Keep every current feed price as a manual one (going offline keeps the last prices)."""
        with self._lock:
            now = self._clock()
            for key, quote in self._feed.items():
                if key not in self._manual:
                    self._manual[key] = replace(quote, source=PriceSource.MANUAL, received_at=now)
                    self._bump(key)

    def quote(self, key: PriceKey) -> Quote | None:
        with self._lock:
            return self._manual.get(key) or self._feed.get(key)

    def reader(self) -> PriceReader:
        return PriceReader(self)

    def _read(self, seen: int) -> tuple[Snapshot, int]:
        with self._lock:
            quotes = {**self._feed, **self._manual}
            changed = frozenset(k for k, v in self._version.items() if v > seen)
            return Snapshot(quotes, changed, self._clock()), self._counter


@dataclass
class PriceReader:
    """One consumer's view: each read() returns the keys changed since this reader's previous read."""

    store: PriceStore
    _seen: int = field(default=0)

    def read(self) -> Snapshot:
        snapshot, self._seen = self.store._read(self._seen)
        return snapshot


@dataclass(frozen=True, slots=True)
class Shock:
    """A what-if overlay: every mark moved by all_symbols, and chosen symbols by their own fraction on top.

    Fractions, not percent: -0.1 is a 10% fall. Applied to whatever source the mark came from.
    """

    all_symbols: float = 0.0
    per_key: Mapping[PriceKey, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for value in (self.all_symbols, *self.per_key.values()):
            if not math.isfinite(value) or value <= -1:
                raise ValueError("a shock must be a finite fraction above -100%")

    def apply(self, marks: Mapping[PriceKey, float]) -> dict[PriceKey, float]:
        return {key: mark * (1 + self.all_symbols) * (1 + self.per_key.get(key, 0.0)) for key, mark in marks.items()}

    def touches(self, key: PriceKey) -> bool:
        return self.all_symbols != 0 or self.per_key.get(key, 0.0) != 0
