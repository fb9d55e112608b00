"""A position's take-profit and stop-loss against its mark and its liquidation price.

A stop-loss protects only if the mark reaches it before the liquidation price: a long's stop below its
liquidation price (a short's above) would never fire, the position is liquidated first. Such a stop is not
refused anywhere (the trader may mean it, or the liquidation price may move with the account), it is flagged.
A take-profit or stop-loss on the wrong side of the mark (a long's take-profit below the mark, its stop above)
would trigger at once: a hint, not an error.

Distances are signed fractions of the mark, as engine.margin.liquidation.distance_to_liquidation's:
stop_to_liquidation = (stop - liquidation) / mark for a long, (liquidation - stop) / mark for a short;
positive while the stop fires first, <= 0 when it lies at or beyond the liquidation price.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.margin.model import Side
from engine.margin.risk import PositionRisk


@dataclass(frozen=True, slots=True)
class StopFigures:
    """A position's take-profit and stop-loss, judged at one mark (prices in the quote currency)."""

    take_profit: float | None
    stop_loss: float | None
    stop_to_liquidation: float | None
    """Signed fraction of the mark from the stop to the liquidation price (module docstring); None without a
    stop, a liquidation price or a mark, or when the liquidation lies on the other side of the mark (a hedge
    leg of a cross account that liquidates the other way: the stop and the liquidation do not race)."""
    stop_beyond_liquidation: bool
    """The stop lies at or beyond the liquidation price: it would never fire before liquidation."""
    take_profit_wrong_side: bool = False
    """A long's take-profit at or below the mark (a short's at or above): it would trigger at once."""
    stop_loss_wrong_side: bool = False
    """A long's stop-loss at or above the mark (a short's at or below): it would trigger at once."""


def _liquidation_on_loss_side(r: PositionRisk) -> bool:
    """Whether the liquidation price lies where the position loses (below the mark for a long, above for a short).

    Read from the mark and the signed distance (positive while the mark has not reached the liquidation price),
    as desktop.charts.position_chart.level_prices does; the side decides when there is no mark or distance."""
    liq, mark, distance = r.liquidation_price, r.mark_price, r.distance_to_liquidation
    long = r.position.side is Side.LONG
    if liq is None or distance is None or not math.isfinite(mark) or mark == liq:
        return True
    below = (mark > liq) == (distance >= 0)
    return below == long


def stop_figures(r: PositionRisk) -> StopFigures:
    """The take-profit and stop-loss of r.position judged against r's mark and liquidation price.

    Worked example: a long at mark 60,000 USDT with its liquidation at 48,000 and its stop at 54,000:
    stop_to_liquidation = (54,000 - 48,000) / 60,000 = +10%; moved to 45,000 it is -5%, beyond liquidation.
    Never raises; NaN marks and missing figures give None and False.
    """
    p = r.position
    sign = p.side.sign
    mark = r.mark_price
    priced = mark is not None and math.isfinite(mark) and mark > 0
    to_liq: float | None = None
    beyond = False
    liq = r.liquidation_price
    if p.stop_loss is not None and liq is not None and _liquidation_on_loss_side(r):
        beyond = sign * (p.stop_loss - liq) <= 0
        if priced:
            to_liq = sign * (p.stop_loss - liq) / mark
    tp_wrong = priced and p.take_profit is not None and sign * (p.take_profit - mark) <= 0
    sl_wrong = priced and p.stop_loss is not None and sign * (p.stop_loss - mark) >= 0
    return StopFigures(p.take_profit, p.stop_loss, to_liq, beyond, bool(tp_wrong), bool(sl_wrong))
