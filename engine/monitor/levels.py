"""Risk levels and their crossings: ok, warning, danger, liquidated, with hysteresis.

A position's level comes from its distance to liquidation, an account's from its margin ratio.
Rising to a worse level happens at once; falling back needs the value to recover past the threshold
by the hysteresis band, so a price hovering at a boundary does not flicker between levels. Liquidated
is a level like the others: a mark that crossed the liquidation price must come back by the band
(a distance above `hysteresis`, a margin ratio below 1 - `hysteresis`) before the level drops to danger.

The thresholds (engine.book.thresholds) may differ per row: a position or account with its own. The
vectorised path takes them as RowThresholds, one array per field, resolved once per book.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from engine.book.thresholds import Thresholds


class Level(IntEnum):
    """A risk level, ordered: a higher value is worse (comparisons and max() read as 'worse than')."""

    OK = 0
    WARNING = 1
    DANGER = 2
    LIQUIDATED = 3

    @property
    def label(self) -> str:
        """The level as the alerts write it: 'ok', 'warning', 'danger', 'liquidated'."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class RowThresholds:
    """Per-row distance thresholds for the vectorised path (ThresholdOverrides resolved once per book, not per
    tick): float arrays of one shape, fractions of the mark, each row's Thresholds field of that name."""

    distance_warning: np.ndarray
    distance_danger: np.ndarray
    hysteresis: np.ndarray


def row_thresholds(rows: Sequence[Thresholds]) -> RowThresholds:
    """The RowThresholds of one Thresholds per row (a sequence of length n gives arrays of shape (n,))."""
    n = len(rows)
    return RowThresholds(
        np.fromiter((t.distance_warning for t in rows), dtype=np.float64, count=n),
        np.fromiter((t.distance_danger for t in rows), dtype=np.float64, count=n),
        np.fromiter((t.hysteresis for t in rows), dtype=np.float64, count=n),
    )


def distance_level(distance: float | None, t: Thresholds, slack: float = 0.0) -> Level:
    """Level of a distance to liquidation; slack > 0 demands that much more room (for leaving a level)."""
    if distance is None:
        return Level.OK
    if distance <= slack:
        return Level.LIQUIDATED
    if distance < t.distance_danger + slack:
        return Level.DANGER
    if distance < t.distance_warning + slack:
        return Level.WARNING
    return Level.OK


def distance_levels(
    distances: np.ndarray, t: Thresholds | RowThresholds, slack: float | np.ndarray = 0.0
) -> np.ndarray:
    """distance_level of every element (NaN: no distance, OK), as Level values in an int8 array of the
    same shape as `distances` (float, signed fractions of the mark). t: one Thresholds for every row, or
    RowThresholds (each row its own warning and danger; slack then an array of the same shape, or a float)."""
    levels = np.zeros(distances.shape, dtype=np.int8)
    levels[distances < t.distance_warning + slack] = Level.WARNING
    levels[distances < t.distance_danger + slack] = Level.DANGER
    levels[distances <= slack] = Level.LIQUIDATED
    return levels


def ratio_level(ratio: float | None, t: Thresholds, slack: float = 0.0, equity_gone: bool = False) -> Level:
    """Level of an account's cross margin ratio (a fraction; liquidated at >= 1); None (no ratio) is OK unless
    equity_gone (the cross balance is gone: liquidated). slack > 0 demands that much lower a ratio."""
    if equity_gone:
        return Level.LIQUIDATED
    if ratio is None:
        return Level.OK
    if ratio >= 1 - slack:
        return Level.LIQUIDATED
    if ratio >= t.ratio_danger - slack:
        return Level.DANGER
    if ratio >= t.ratio_warning - slack:
        return Level.WARNING
    return Level.OK


_LEVELS = tuple(Level)


@dataclass(frozen=True, slots=True)
class Crossing:
    """A key's level changed from old to new (a rise when new > old)."""

    key: Hashable
    old: Level
    new: Level


class LevelTracker:
    """Remembers each key's level and reports the crossings, with hysteresis on the way down."""

    def __init__(self, thresholds: Thresholds | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self.levels: dict[Hashable, Level] = {}
        """Each key's level (a key never seen is ok); read it, change it only through this class."""
        self._aligned: tuple[Sequence[Hashable], int, np.ndarray, list[Level]] | None = None
        """The last positions() call's keys (the object) and count, and their levels as an int8 array and as a
        list: the next call with the same keys object reads them instead of the dict (ten thousand lookups),
        unless a level changed elsewhere since (update() drops them)."""

    def update(self, key: Hashable, raw: Level, relaxed: Level) -> Crossing | None:
        """raw: the level at the plain thresholds; relaxed: the level with the hysteresis slack.

        The new level is raw when it is worse than the current one, relaxed when that is better,
        and otherwise unchanged.
        """
        old = self.levels.get(key, Level.OK)
        if raw > old:
            new = raw
        elif relaxed < old:
            new = relaxed
        else:
            new = old
        self.levels[key] = new
        if new == old:
            return None
        self._aligned = None
        return Crossing(key, old, new)

    def position(self, key: Hashable, distance: float | None, t: Thresholds | None = None) -> Crossing | None:
        """update() for a position's distance to liquidation (a signed fraction; None: no liquidation price),
        under t (None: self.thresholds)."""
        t = t or self.thresholds
        return self.update(key, distance_level(distance, t), distance_level(distance, t, t.hysteresis))

    def positions(
        self,
        keys: Sequence[Hashable],
        distances: np.ndarray,
        known: np.ndarray | None = None,
        per_row: RowThresholds | None = None,
    ) -> tuple[list[Level], list[Crossing]]:
        """position() for many keys at once (distances NaN where there is none): every key's level now,
        and the crossings in key order. Only the keys whose level changed go through Python.

        known: per key, whether its distance could be evaluated at all; a key whose mark is missing keeps
        the level it had (an unknown is never taken for 'no liquidation price', which is OK).
        distances: float, shape (len(keys),); known: bool, the same shape; per_row: each key's own thresholds
        (engine.book.thresholds overrides resolved), None: self.thresholds for every key. keys: distinct; pass
        the same sequence object while it is unchanged (it is then not read again) and a new one after a change."""
        levels, crossings, _ = self.positions_with_rows(keys, distances, known, per_row)
        return levels, crossings

    def positions_with_rows(
        self,
        keys: Sequence[Hashable],
        distances: np.ndarray,
        known: np.ndarray | None = None,
        per_row: RowThresholds | None = None,
    ) -> tuple[list[Level], list[Crossing], list[int]]:
        """positions(), and the index in keys of each crossing (ascending, parallel to the crossings)."""
        t: Thresholds | RowThresholds = self.thresholds if per_row is None else per_row
        aligned = self._aligned
        if aligned is not None and aligned[0] is keys and aligned[1] == len(keys):
            old, old_list = aligned[2], aligned[3]
        else:
            old = np.fromiter((self.levels.get(k, Level.OK) for k in keys), dtype=np.int8, count=len(keys))
            old_list = None
        raw = distance_levels(distances, t)
        relaxed = distance_levels(distances, t, t.hysteresis)
        new = np.where(raw > old, raw, np.where(relaxed < old, relaxed, old))
        if known is not None:
            new = np.where(known, new, old)
        rows = np.flatnonzero(new != old).tolist()
        levels = [_LEVELS[v] for v in new.tolist()] if old_list is None else old_list.copy()
        crossings = []
        for i in rows:
            crossing = Crossing(keys[i], _LEVELS[int(old[i])], _LEVELS[int(new[i])])  # the members by value
            self.levels[keys[i]] = levels[i] = crossing.new
            crossings.append(crossing)
        self._aligned = (keys, len(keys), new, levels)
        return levels.copy(), crossings, rows

    def account(
        self, key: Hashable, ratio: float | None, equity_gone: bool = False, t: Thresholds | None = None
    ) -> Crossing | None:
        """update() for an account's cross margin ratio (ratio_level), under t (None: self.thresholds)."""
        t = t or self.thresholds
        return self.update(
            key, ratio_level(ratio, t, equity_gone=equity_gone), ratio_level(ratio, t, t.hysteresis, equity_gone)
        )
