"""What one step of a watch session produces: the risk shown and the real risk, each row's state, each
account's level, and the alerts of this step. The window draws a frame; `watch` prints it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from engine.funding.rates import FundingRate
from engine.margin.model import PriceKey
from engine.margin.risk import BookRisk
from engine.market.prices import MarkRecord
from engine.monitor.alerts import Alert
from engine.monitor.levels import Level


class RowState(NamedTuple):
    """What a row shows besides the engine's numbers (a tuple: made for every row on every step)."""

    level: Level = Level.OK
    source: str = "manual"
    stale: bool = False
    what_if: str = ""
    """'' for a real row; else the note of a row a preview changed ('what-if · real: ok', '◇ hypothetical …')."""
    funding: FundingRate | None = None
    """The funding rate of the row's (exchange, symbol), None when no rate is known (engine.funding.rates)."""
    break_even: float | None = None
    """The position's break-even price on the taker fees to open and close (engine.funding.fees), quote currency."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One evaluation of the session's book at one price snapshot.

    shown: the book as displayed (hypothetical positions when included, at the shocked marks under a
    shock preview); real: the real book at the real marks (the same object when no preview is on):
    levels, alerts and history come from it only. rows / account_levels / account_notes are parallel to
    shown.positions / shown.accounts. alerts: those this step raised (a repeat within the rate limit
    comes back as an updated group, Alert.repeat). missing: the price keys without a mark.
    """

    shown: BookRisk
    real: BookRisk
    marks: Mapping[PriceKey, float]
    """The marks `shown` is evaluated at (shocked under a preview)."""
    real_marks: Mapping[PriceKey, float]
    quotes: Mapping[PriceKey, MarkRecord]
    missing: Sequence[PriceKey]
    rows: Sequence[RowState]
    account_levels: Sequence[Level]
    account_notes: Sequence[str]
    alerts: Sequence[Alert]
    at: float
    """Wall-clock seconds of the step."""

    @property
    def previewing(self) -> bool:
        """True while a what-if (hypothetical positions or a price shock) is shown instead of the real book."""
        return self.real is not self.shown
