"""The position form's preview, free of widgets: the engine's numbers for the checked book, and what the position's
take-profit and stop-loss mean at them (a stop beyond the liquidation price would never fire: flagged, not refused).

preview_position() evaluates the book desktop.dialogs.position_check made with the engine (evaluate_priced_accounts),
so the preview shows exactly the numbers the main window will show once the position is saved.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from desktop.dialogs.position_check import PositionCheck
from engine.book.formats import percent
from engine.margin.model import PriceKey, Side
from engine.margin.risk import PositionRisk, evaluate_priced_accounts
from engine.margin.rules import profile_for
from engine.margin.stops import stop_figures

BEYOND_LIQUIDATION = "beyond liquidation: the stop would never fire"


def stop_hints(risk: PositionRisk | None) -> dict[str, str]:
    """Field name -> what the form says of the take-profit and stop-loss at the preview's mark and liquidation
    price: a stop beyond liquidation (BEYOND_LIQUIDATION), else its distance to it; a price on the wrong side of
    the mark. Empty without a preview or without stops."""
    if risk is None:
        return {}
    figures = stop_figures(risk)
    p = risk.position
    above, below = ("above", "below") if p.side is Side.LONG else ("below", "above")
    hints: dict[str, str] = {}
    if figures.take_profit_wrong_side:
        hints["take_profit"] = f"{below} the mark: a {p.side.value}'s take-profit sits {above} it (it fires at once)"
    if figures.stop_beyond_liquidation:
        hints["stop_loss"] = BEYOND_LIQUIDATION
    elif figures.stop_loss_wrong_side:
        hints["stop_loss"] = f"{above} the mark: a {p.side.value}'s stop-loss sits {below} it (it fires at once)"
    elif figures.stop_to_liquidation is not None:
        hints["stop_loss"] = f"{percent(figures.stop_to_liquidation)} of the mark before the liquidation price"
    return hints


@dataclass(frozen=True)
class PositionPreview:
    """The engine's numbers for the checked position, or why there are none."""

    risk: PositionRisk | None
    mark_is_entry: bool = False
    """No mark for the symbol: the position was evaluated at its entry price."""
    problem: str = ""
    estimate: bool = False
    """The exchange has no rule profile of its own: the generic rule was used."""


def preview_position(check: PositionCheck, marks: Mapping[PriceKey, float]) -> PositionPreview:
    """Evaluate the checked book at the marks (the entry price standing in for a missing mark)."""
    if not check.ok or check.book is None or check.position is None or check.index is None:
        if check.market is None and "symbol" in check.messages:
            return PositionPreview(None, problem=f"No preview: {check.messages['symbol']}")
        return PositionPreview(None, problem="No preview until every field is valid (see the messages in red).")
    book, position = check.book, check.position
    account = book.account(position.account)
    key = (account.exchange, position.symbol)
    prices = {k: marks[k] for k in book.price_keys() if k in marks}
    mark = prices.get(key)
    mark_is_entry = mark is None or not (math.isfinite(mark) and mark > 0)
    if mark_is_entry:
        prices[key] = position.entry_price
    estimate = profile_for(account.exchange).estimate
    try:
        risk, missing = evaluate_priced_accounts(book, prices)
    except (ArithmeticError, ValueError) as e:
        return PositionPreview(None, mark_is_entry, f"the engine cannot evaluate this position: {e}", estimate)
    exchange_of = {a.name: a.exchange for a in book.accounts}
    blocked = {p.account for p in book.positions if (exchange_of[p.account], p.symbol) in missing}
    if position.account in blocked:
        waiting = sorted({k[1] for k in missing if k[0] == account.exchange})
        return PositionPreview(
            None,
            mark_is_entry,
            f"Waiting for the marks of {', '.join(waiting)} on {account.exchange}: the account's margin needs them.",
            estimate,
        )
    return PositionPreview(risk.positions[check.index], mark_is_entry, "", estimate)  # every position is a row
