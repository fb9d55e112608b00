"""Our liquidation price beside the exchange's: the difference, and a "check" marker beyond a tolerance.

A stale tier table or a changed exchange rule shows itself as a gap between the two figures at the same marks.
The tolerance is a fraction of the mark (default 0.5%, issue 17): a gap of more than tolerance x mark marks the
position "check". A figure one side has and the other has not (one says the position cannot be liquidated)
is a check as well.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TOLERANCE = 0.005
"""0.5% of the mark."""


@dataclass(frozen=True, slots=True)
class LiquidationCheck:
    """ours and exchange: liquidation prices (quote currency, None where there is none); difference = ours -
    exchange (quote currency, None unless both exist); check: True when they disagree beyond the tolerance."""

    ours: float | None
    exchange: float | None
    difference: float | None
    check: bool

    def words(self, quote: str) -> str:
        """'ours 55,000.00 USDT, the exchange's 54,980.00 USDT (difference +20.00 USDT)': which figure is whose."""

        def shown(price: float | None) -> str:
            return f"{price:,.2f} {quote}" if price is not None else "none"

        gap = f" (difference {self.difference:+,.2f} {quote})" if self.difference is not None else ""
        return f"ours {shown(self.ours)}, the exchange's {shown(self.exchange)}{gap}"


def check_liquidation(
    ours: float | None, exchange: float | None, mark: float | None, tolerance: float = DEFAULT_TOLERANCE
) -> LiquidationCheck | None:
    """The cross-check of one synced position at one mark (quote currency): None when neither side has a
    liquidation price (both say it cannot be liquidated). Positions typed by hand have no exchange figure and
    are not asked about."""
    if ours is None and exchange is None:
        return None
    if ours is None or exchange is None:
        return LiquidationCheck(ours, exchange, None, True)
    difference = ours - exchange
    check = mark is not None and mark > 0 and abs(difference) > tolerance * mark
    return LiquidationCheck(ours, exchange, difference, check)
