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

from engine.funding.rates import FundingBook
from engine.margin.model import PriceKey


class PriceSource(StrEnum):
    """Where a mark came from: an exchange feed (live), the user (manual), or the demo's simulated feed."""

    LIVE = "live"
    MANUAL = "manual"
    SIMULATED = "simulated"


@dataclass(frozen=True, slots=True)
class MarkRecord:
    """The latest mark price of one key, with where and when it came from.

    mark and last: prices in the contract's quote currency, finite and > 0 (the store refuses others).
    """

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
        """Seconds since the price arrived (now: wall-clock seconds); never negative."""
        return max(0.0, now - self.received_at)

    def is_stale(self, now: float, max_age: float) -> bool:
        """True when a feed price is older than max_age seconds; a manual price is never stale."""
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
    """The store at one moment: the quote of every key (manual over feed), the keys changed since the reader's
    previous read, and when it was taken (wall-clock seconds)."""

    quotes: Mapping[PriceKey, MarkRecord]
    changed: frozenset[PriceKey]
    taken_at: float

    def marks(self) -> dict[PriceKey, float]:
        """The mark of every key, in its contract's quote currency."""
        return {key: q.mark for key, q in self.quotes.items()}


def _valid_price(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


FUTURE_TOLERANCE_S = 5.0
"""How far ahead of the local receive time an exchange timestamp may be and still be trusted, in seconds.

Exchanges allow about this much clock skew themselves (Binance's default recvWindow for signed requests is
5,000 ms), and an NTP-synchronised machine is well inside it. A tick dated further ahead is refused
('future-dated'): accepted, it would make every honest tick after it look out of order until the clock
caught up with the bad date. Trusting only times within the tolerance bounds that wait to 5 s.
"""

SANE_PRICE_RANGE = (1e-12, 1e12)
"""Prices outside these bounds are refused whatever came before ('outside the sane range').

No listed contract trades near them: the dearest perpetuals are priced around 1e5 (BTC) and the cheapest
around 1e-6 (exchanges list a '1000X' contract rather than go lower), so either bound leaves six orders
of magnitude of room, while 1e300 or 1e-300 (a bad frame, a unit error) never reaches the engine.
"""

JUMP_FACTOR = 5.0
"""A price more than this many times above or below the last good price of its key is refused ('jump').

A mark price is an index-based average: between two ticks it moves by a few percent, tens of percent in
the worst crashes seen, never fivefold (+400% or -80%). A decimal point shifted either way (x10, /10)
is always outside the band, even with the market's move on top. The band is symmetric in ratio, so a
wrong price that did get in (inside it) never locks the true price out.
"""

REANCHOR_AFTER_S = 60.0
"""After this many seconds in which every tick of a key was refused as a jump, the next sane price is
accepted as the new reference. Meanwhile the old price ages and shows as stale, never as live; this
only lets a feed that truly moved that far (after a long disconnection) come back by itself."""


class PriceStore:
    """Thread-safe latest-price table with per-reader change tracking.

    clock: wall-clock seconds (time.time), injected by tests. A bad tick is refused and counted (publish), never
    raised; only set_manual raises (ValueError), since a manual price is the caller's own input.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.funding = FundingBook()
        """The funding rates of the same keys (engine.funding.rates): the funding feeds write, the session reads."""
        self._feed: dict[PriceKey, MarkRecord] = {}
        self._manual: dict[PriceKey, MarkRecord] = {}
        self._version: dict[PriceKey, int] = {}
        self._counter = 0
        self._jumping_since: dict[PriceKey, float] = {}
        self._refused_since_kept: dict[PriceKey, str] = {}
        self.dropped: Counter[str] = Counter()
        """Ticks (and frames) refused, by reason: 'missing', 'not a positive number', 'outside the sane
        range', 'jump', 'future-dated', 'out of order'; feeds add (count_refused) 'malformed frame' and
        'unreadable answer'."""
        self._listeners: tuple[Callable[[], None], ...] = ()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after every write that changed a key (a price kept, a manual price set or cleared):
        on the writer's thread (a feed's), outside the lock, so it must be quick and thread-safe (the window's
        only wakes its refresh). What changed is read as before, with a reader."""
        self._listeners = (*self._listeners, listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling `listener` (no error when it was not added)."""
        self._listeners = tuple(f for f in self._listeners if f != listener)

    def _changed(self, before: int) -> None:
        if self._counter != before:
            for listener in self._listeners:
                listener()

    def publish(self, ticks: Iterable[Tick], source: PriceSource = PriceSource.LIVE) -> int:
        """Store valid ticks; drop (and count in `dropped`) the others. Returns how many were kept.

        Refused: no price; not a finite number above 0; outside SANE_PRICE_RANGE; more than JUMP_FACTOR
        times away from the key's last good price (for up to REANCHOR_AFTER_S); an exchange time more than
        FUTURE_TOLERANCE_S ahead of the receive time; an exchange time older than the one held.
        """
        now = self._clock()
        before = self._counter
        try:
            return self._publish(ticks, source, now)
        finally:  # a key bumped before an error is still news for the listeners
            self._changed(before)

    def _publish(self, ticks: Iterable[Tick], source: PriceSource, now: float) -> int:
        kept = 0
        with self._lock:
            for tick in ticks:
                reason = self._refusal(tick, now)
                if reason:
                    self.dropped[reason] += 1
                    self._refused_since_kept[tick.key] = reason
                    continue
                self._jumping_since.pop(tick.key, None)
                self._refused_since_kept.pop(tick.key, None)
                last = tick.last if _valid_price(tick.last) else None
                self._feed[tick.key] = MarkRecord(
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

    def _refusal(self, tick: Tick, now: float) -> str:
        if tick.mark is None:
            return "missing"
        if not _valid_price(tick.mark):
            return "not a positive number"
        low, high = SANE_PRICE_RANGE
        if not low <= tick.mark <= high:  # type: ignore[operator]
            return "outside the sane range"
        stamp = tick.exchange_time
        if stamp is not None and not (isinstance(stamp, int | float) and math.isfinite(stamp)):
            return "not a positive number"
        if stamp is not None and stamp > now + FUTURE_TOLERANCE_S:
            return "future-dated"
        previous = self._feed.get(tick.key)
        if previous is None:
            return ""
        if stamp is not None and previous.exchange_time is not None and stamp < previous.exchange_time:
            return "out of order"
        ratio = tick.mark / previous.mark  # type: ignore[operator]
        if not 1 / JUMP_FACTOR <= ratio <= JUMP_FACTOR:
            since = self._jumping_since.setdefault(tick.key, now)
            if now - since < REANCHOR_AFTER_S:
                return "jump"
        return ""

    def refusal_since_kept(self, key: PriceKey) -> str:
        """Why the latest tick for key was refused, if none was kept since ('' otherwise): lets a watchdog
        say 'refused: future-dated' (a local clock behind the exchange's) rather than only 'no price'."""
        with self._lock:
            return self._refused_since_kept.get(key, "")

    def count_refused(self, reason: str, count: int = 1) -> None:
        """Count input a feed refused before it became a tick (a malformed frame), beside the store's own."""
        with self._lock:
            self.dropped[reason] += count

    def _bump(self, key: PriceKey) -> None:
        self._counter += 1
        self._version[key] = self._counter

    def set_manual(self, key: PriceKey, mark: float) -> None:
        """Use this price for the key (quote currency) instead of the feed's until clear_manual.

        Raises ValueError unless mark is a finite number > 0 (a bool is not a number here).
        """
        if not _valid_price(mark):
            raise ValueError("a manual price must be a number greater than 0")
        before = self._counter
        with self._lock:
            self._manual[key] = MarkRecord(float(mark), PriceSource.MANUAL, self._clock())
            self._bump(key)
        self._changed(before)

    def clear_manual(self, keys: Iterable[PriceKey] | None = None) -> None:
        """Go back to the feed's price for these keys (all manual keys when None)."""
        before = self._counter
        with self._lock:
            for key in list(self._manual if keys is None else keys):
                if self._manual.pop(key, None) is not None:
                    self._bump(key)
        self._changed(before)

    def freeze_as_manual(self) -> None:
        """Keep every current feed price as a manual one (going offline keeps the last prices)."""
        before = self._counter
        with self._lock:
            now = self._clock()
            for key, quote in self._feed.items():
                if key not in self._manual:
                    self._manual[key] = replace(quote, source=PriceSource.MANUAL, received_at=now)
                    self._bump(key)
        self._changed(before)

    def quote(self, key: PriceKey) -> MarkRecord | None:
        """The key's current quote: the manual one if set, else the feed's; None when neither exists."""
        with self._lock:
            return self._manual.get(key) or self._feed.get(key)

    def reader(self) -> PriceReader:
        """A new consumer; its first read() reports every key with a price as changed."""
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
        """The store now, and the keys changed since this reader's previous read."""
        snapshot, self._seen = self.store._read(self._seen)
        return snapshot

    def has_news(self) -> bool:
        """Whether a key changed since this reader's previous read (a price kept, a manual price set or
        cleared), without taking the lock or copying anything: a poll that finds nothing new costs next to
        nothing. A change made while this runs is seen by the next call (the counter only grows)."""
        return self.store._counter > self._seen


@dataclass(frozen=True, slots=True)
class Shock:
    """A what-if overlay: every mark moved by all_symbols, and chosen symbols by their own fraction on top.

    Fractions, not percent: -0.1 is a 10% fall. Applied to whatever source the mark came from.
    Raises ValueError when a fraction is not finite or is <= -1 (a price at or below 0).
    """

    all_symbols: float = 0.0
    per_key: Mapping[PriceKey, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for value in (self.all_symbols, *self.per_key.values()):
            if not math.isfinite(value) or value <= -1:
                raise ValueError("a shock must be a finite fraction above -100%")

    def apply(self, marks: Mapping[PriceKey, float]) -> dict[PriceKey, float]:
        """The shocked marks: mark x (1 + all_symbols) x (1 + the key's own fraction), for every key given."""
        return {key: mark * (1 + self.all_symbols) * (1 + self.per_key.get(key, 0.0)) for key, mark in marks.items()}

    def touches(self, key: PriceKey) -> bool:
        """True when the shock moves this key's mark."""
        return self.all_symbols != 0 or self.per_key.get(key, 0.0) != 0
