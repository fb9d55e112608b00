"""Risk levels and their crossings: ok, warning, danger, liquidated, with hysteresis.

A position's level comes from its distance to liquidation, an account's from its margin ratio.
Rising to a worse level happens at once; falling back needs the value to recover past the threshold
by the hysteresis band, so a price hovering at a boundary does not flicker between levels. Liquidated
is a level like the others: a mark that crossed the liquidation price must come back by the band
(a distance above `hysteresis`, a margin ratio below 1 - `hysteresis`) before the level drops to danger.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np


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
class Thresholds:
    """Where the levels start, as fractions: distances to liquidation (0.15 = 15% of the mark) below which a
    position is in warning / danger, and margin ratios (0.70 = 70%) from which an account is; at distance
    <= 0 or ratio >= 1 it is liquidated.

    Raises ValueError unless 0 < distance_danger < distance_warning, 0 < ratio_warning < ratio_danger < 1
    and 0 <= hysteresis < distance_danger.
    """

    distance_warning: float = 0.15
    distance_danger: float = 0.05
    ratio_warning: float = 0.70
    ratio_danger: float = 0.85
    hysteresis: float = 0.01
    """Fraction points a value must recover past a threshold before its level is left."""

    def __post_init__(self) -> None:
        if not 0 < self.distance_danger < self.distance_warning:
            raise ValueError("distance thresholds must satisfy 0 < danger < warning")
        if not 0 < self.ratio_warning < self.ratio_danger < 1:
            raise ValueError("margin-ratio thresholds must satisfy 0 < warning < danger < 100%")
        if not 0 <= self.hysteresis < self.distance_danger:
            raise ValueError("hysteresis must be smaller than the danger distance")


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


def distance_levels(distances: np.ndarray, t: Thresholds, slack: float = 0.0) -> np.ndarray:
    """distance_level of every element (NaN: no distance, OK), as Level values in an int8 array of the
    same shape as `distances` (float, signed fractions of the mark)."""
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
        return Crossing(key, old, new) if new != old else None

    def position(self, key: Hashable, distance: float | None) -> Crossing | None:
        """update() for a position's distance to liquidation (a signed fraction; None: no liquidation price)."""
        t = self.thresholds
        return self.update(key, distance_level(distance, t), distance_level(distance, t, t.hysteresis))

    def positions(
        self, keys: Sequence[Hashable], distances: np.ndarray, known: np.ndarray | None = None
    ) -> tuple[list[Level], list[Crossing]]:
        """position() for many keys at once (distances NaN where there is none): every key's level now,
        and the crossings in key order. Only the keys whose level changed go through Python.

        known: per key, whether its distance could be evaluated at all; a key whose mark is missing keeps
        the level it had (an unknown is never taken for 'no liquidation price', which is OK).
        distances: float, shape (len(keys),); known: bool, the same shape."""
        t = self.thresholds
        old = np.fromiter((self.levels.get(k, Level.OK) for k in keys), dtype=np.int8, count=len(keys))
        raw = distance_levels(distances, t)
        relaxed = distance_levels(distances, t, t.hysteresis)
        new = np.where(raw > old, raw, np.where(relaxed < old, relaxed, old))
        if known is not None:
            new = np.where(known, new, old)
        crossings = []
        for i in np.flatnonzero(new != old).tolist():
            crossing = Crossing(keys[i], Level(int(old[i])), Level(int(new[i])))
            self.levels[keys[i]] = crossing.new
            crossings.append(crossing)
        return [_LEVELS[v] for v in new.tolist()], crossings

    def account(self, key: Hashable, ratio: float | None, equity_gone: bool = False) -> Crossing | None:
        """update() for an account's cross margin ratio (ratio_level)."""
        t = self.thresholds
        return self.update(
            key, ratio_level(ratio, t, equity_gone=equity_gone), ratio_level(ratio, t, t.hysteresis, equity_gone)
        )
