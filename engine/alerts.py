"""Which level changes become alerts: every rise, rate-limited per position, danger always gets through.

A rise to warning is an alert unless the same position alerted less than `repeat_after` seconds ago;
a rise to danger or liquidated is always an alert. A price going stale on a position that is already
in warning or worse is an alert too, once per stale spell.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from engine.levels import Crossing, Level


@dataclass(frozen=True, slots=True)
class Alert:
    at: float
    """Wall-clock seconds."""
    subject: str
    old: Level
    new: Level
    distance: float | None
    mark: float | None
    stale: bool = False

    def describe(self) -> str:
        if self.stale:
            return f"{self.subject}: price is stale while {self.new.label}"
        if self.distance is None and self.mark is None:  # an account: its subject carries the margin ratio
            return f"{self.subject}: {self.old.label} → {self.new.label}"
        distance = "n/a" if self.distance is None else f"{self.distance * 100:+.2f}%"
        return f"{self.subject}: {self.old.label} → {self.new.label}, {distance} to liquidation"


class AlertPolicy:
    def __init__(self, repeat_after: float = 300.0) -> None:
        self.repeat_after = repeat_after
        self._last: dict[Hashable, float] = {}
        self._stale: set[Hashable] = set()

    def on_crossing(
        self,
        key: Hashable,
        crossing: Crossing | None,
        now: float,
        subject: str,
        distance: float | None,
        mark: float | None,
    ) -> Alert | None:
        if crossing is None or crossing.new <= crossing.old:
            return None
        urgent = crossing.new >= Level.DANGER
        last = self._last.get(key)
        if not urgent and last is not None and now - last < self.repeat_after:
            return None
        self._last[key] = now
        return Alert(now, subject, crossing.old, crossing.new, distance, mark)

    def stale_spells(self) -> bool:
        """True while any key is in a stale spell."""
        return bool(self._stale)

    def in_stale_spell(self, key: Hashable) -> bool:
        """True while the key's stale price has been alerted and not yet recovered."""
        return key in self._stale

    def on_price_age(
        self,
        key: Hashable,
        level: Level,
        stale: bool,
        now: float,
        subject: str,
        distance: float | None,
        mark: float | None,
    ) -> Alert | None:
        if not stale:
            self._stale.discard(key)
            return None
        if level < Level.WARNING or key in self._stale:
            return None
        self._stale.add(key)
        return Alert(now, subject, level, level, distance, mark, stale=True)
