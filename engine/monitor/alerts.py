"""Which level changes become alerts: every rise, rate-limited and grouped per subject and level.

A subject's (a position's or an account's) first rise to a level is an alert, and so is a rise to a
level worse than any it alerted in the last `repeat_after` seconds: escalation always gets through.
Every level, liquidated included, is rate-limited the same way: a rise to a level the subject already
alerted at (or above) in the last `repeat_after` seconds is not a new alert. When it is a rise to the
very level of a recent alert, it is counted into that alert's group (`Alert.count`, `Alert.at` the
last time): a price oscillating around a liquidation price makes one alert "×4 in 7 s", not four.
A price going stale on a position that is already in warning or worse is an alert too, once per
stale spell.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any

from engine.book.price_alert_rules import PriceAlert
from engine.margin.crosscheck import LiquidationCheck
from engine.monitor.levels import Crossing, Level
from engine.monitor.report import finite_or_none, price

_ALL_LEVELS = tuple(Level)
"""Every level in order: a tuple, not the enum's iterator, for each crossing."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: `subject` ('Bybit swing BTC/USDT:USDT long', or an account with its ratio) rose from `old`
    to `new` (or, when stale, its price went stale at that level). distance: signed fraction of the mark
    (None for an account); mark: the price in the contract's quote currency (None for an account)."""

    at: float
    """Wall-clock seconds."""
    subject: str
    old: Level
    new: Level
    distance: float | None
    mark: float | None
    stale: bool = False
    count: int = 1
    """Crossings grouped into this alert (1: a new alert; more: a repeat counted into an earlier one)."""
    first_at: float | None = None
    """Wall-clock seconds of the group's first crossing (None: `at`, a group of one)."""
    key: Hashable = None
    """The subject's key in the level tracker (what repeats are grouped by, with the level)."""
    liquidation: float | None = None
    """The position's liquidation price in the contract's quote currency (None: an account, or none)."""
    note: str = ""
    """Said after the level when an override set it: 'position threshold 8%' (engine.book.thresholds)."""
    rule: PriceAlert | None = None
    """A price alert's rule (engine.monitor.price_alerts; `mark` the mark that fired it, `old`/`new` ok/warning);
    None for a level alert."""
    already: bool = False
    """A price alert whose mark was already beyond the level when first seen (at start-up or when added)."""
    check: LiquidationCheck | None = None
    """A sync's cross-check that disagrees beyond the tolerance (engine.sync.check_alerts: our liquidation price
    and the exchange's, quote currency; `mark` the exchange's mark); None for the other alerts."""

    @property
    def kind(self) -> str:
        """'price' for a price alert, 'check' for a sync's liquidation check, 'level' for a position's or an
        account's level (or its stale price)."""
        if self.check is not None:
            return "check"
        return "level" if self.rule is None else "price"

    @property
    def repeat(self) -> bool:
        """True when this is a repeated crossing counted into an alert already raised (no new alert)."""
        return self.count > 1

    @property
    def group(self) -> tuple[Hashable, Level]:
        """What repeats are grouped by: the subject's key and the level risen to."""
        return self.key, self.new

    def describe(self) -> str:
        """The alert in words, without the mark: 'X: ok → danger ×3 in 7 s, +4.20% to liquidation' (with an
        override: 'X: ok → warning (position threshold 8%), +7.10% to liquidation')."""
        if self.stale:
            return f"{self.subject}: price is stale while {self.new.label}"
        if self.check is not None:  # 'main BTC/USDT:USDT long: liquidation CHECK, ours 40,160.64 USDT, the …'
            return f"{self.subject}: liquidation CHECK, {self.note}"
        if self.rule is not None:  # a price alert: 'BTC/USDT:USDT on binanceusdm fell below 85,000.00 USDT'
            moved = "is already" if self.already else ("rose" if self.rule.direction.value == "above" else "fell")
            return f"{self.subject} {moved} {self.rule.level_text()}{self._times()}"
        times = self._times()
        new = f"{self.new.label} ({self.note})" if self.note else self.new.label
        if self.distance is None and self.mark is None:  # an account: its subject carries the margin ratio
            return f"{self.subject}: {self.old.label} → {new}{times}"
        distance = "n/a" if self.distance is None else f"{self.distance * 100:+.2f}%"
        return f"{self.subject}: {self.old.label} → {new}{times}, {distance} to liquidation"

    def _times(self) -> str:
        """' ×3 in 7 s' for a group of repeats, '' for one alert."""
        if self.count <= 1:
            return ""
        span = self.at - (self.first_at if self.first_at is not None else self.at)
        return f" ×{self.count} in {span:.0f} s" if span < 120 else f" ×{self.count} in {span / 60:.0f} min"

    def line(self) -> str:
        """The alert's words with the mark, as the window's list and `watch` both show them (no time)."""
        mark = "" if self.mark is None else f", mark {price(self.mark)}"
        return f"{self.describe()}{mark}"


def check_record(alert: Alert, stamp: str) -> dict[str, Any]:
    """A liquidation-check alert (alert.check set) as `watch --json` prints it: {time (stamp), subject, mark,
    liquidation_price (ours), exchange_liquidation_price, difference (ours minus the exchange's), text}; prices
    in the contract's quote currency, null where there is none."""
    check = alert.check
    assert check is not None
    return {
        "time": stamp,
        "subject": alert.subject,
        "mark": finite_or_none(alert.mark),
        "liquidation_price": finite_or_none(check.ours),
        "exchange_liquidation_price": finite_or_none(check.exchange),
        "difference": finite_or_none(check.difference),
        "text": alert.line(),
    }


class AlertPolicy:
    """Turns level crossings into alerts (see the module docstring). Keys are the tracker's keys; times
    are wall-clock seconds; repeat_after is the rate-limit window in seconds."""

    def __init__(self, repeat_after: float = 300.0) -> None:
        self.repeat_after = repeat_after
        self._groups: dict[tuple[Hashable, Level], Alert] = {}
        """Per key and level, the last alert raised at that level (its group, with the repeats counted)."""
        self._stale: set[Hashable] = set()

    def on_crossing(
        self,
        key: Hashable,
        crossing: Crossing | None,
        now: float,
        subject: str,
        distance: float | None,
        mark: float | None,
        liquidation: float | None = None,
    ) -> Alert | None:
        """The alert for a rise (None for a fall, no change, or a rise muted by a recent worse alert);
        a repeat within the window comes back as its group's alert with `count` raised (`repeat` True).
        liquidation: the position's liquidation price (quote currency), carried for the channels."""
        if crossing is None or crossing.new <= crossing.old:
            return None
        recent = [
            level
            for level in _ALL_LEVELS
            if level >= crossing.new
            and (group := self._groups.get((key, level))) is not None
            and now - (group.first_at if group.first_at is not None else group.at) < self.repeat_after
        ]
        if not recent:
            alert = Alert(now, subject, crossing.old, crossing.new, distance, mark, key=key, liquidation=liquidation)
            self._groups[(key, crossing.new)] = alert
            return alert
        if crossing.new not in recent:  # a worse level alerted lately: this lesser rise adds nothing
            return None
        group = self._groups[(key, crossing.new)]
        first = group.first_at if group.first_at is not None else group.at
        alert = replace(
            group,
            at=now,
            old=crossing.old,
            distance=distance,
            mark=mark,
            liquidation=liquidation,
            count=group.count + 1,
            first_at=first,
        )
        self._groups[(key, crossing.new)] = alert
        return alert

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
        liquidation: float | None = None,
    ) -> Alert | None:
        """The alert for a price going stale on a key in warning or worse, once per stale spell (None
        otherwise); a fresh price ends the spell."""
        if not stale:
            self._stale.discard(key)
            return None
        if level < Level.WARNING or key in self._stale:
            return None
        self._stale.add(key)
        return Alert(now, subject, level, level, distance, mark, stale=True, key=key, liquidation=liquidation)
