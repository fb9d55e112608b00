"""The positions table's columns: what each shows, how it sorts, and the colours of a row's level.

To add a column, add one `Column` to COLUMNS (title, the cell's text, its sort key; `vector_key` to sort
from the engine's arrays without a PositionRisk per row; `live` when the text follows the marks). A number
the engine does not compute yet goes into PositionRisk (engine/margin/risk.py) and the VectorRisk arrays
(engine/margin/vectorised.py).

The order puts the position's identity first, then the figure this product exists for (the distance to
liquidation, drawn with its bar) and the prices it comes from, then the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtGui import QColor

from desktop.tables.funding_columns import funding_columns
from engine.book.formats import money, percent, quoted_price
from engine.margin.crosscheck import LiquidationCheck, check_liquidation
from engine.margin.model import Account, MarginMode, quote_currency_of
from engine.margin.risk import PositionRisk
from engine.margin.rules import exchange_label
from engine.margin.stops import stop_figures
from engine.margin.vector_risk import VectorRisk
from engine.monitor.frame import RowState
from engine.monitor.levels import Level


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[PositionRisk, Account], str]
    sort_key: Callable[[PositionRisk], Any]
    numeric: bool = True
    live: bool = False
    """Its text follows the marks (or the price's age); the other columns change only with the position."""
    vector_key: Callable[[VectorRisk], np.ndarray] | None = None
    """The same sort keys for all rows at once, from the vectorised result (no PositionRisk per row)."""
    state_text: Callable[[PositionRisk, Account, RowState, float], str] | None = None
    """Its text comes from the row's state (its funding rate) at wall-clock now, not from the engine's numbers."""
    state_key: Callable[[PositionRisk, RowState, float], Any] | None = None
    """Its sort key likewise (used instead of sort_key when set)."""


FUNDING_COLUMNS = funding_columns(Column)


def _distance_key(r: PositionRisk) -> float:
    return r.distance_to_liquidation if r.distance_to_liquidation is not None else float("inf")


def quoted(value: float | None, symbol: str) -> str:
    """A price with the symbol's quote currency: '61,000.50 USDT' (engine.book.formats.quoted_price)."""
    return quoted_price(value, quote_currency_of(symbol))


def _unknown_or(r: PositionRisk, text: str) -> str:
    """'—' for a figure the row's missing mark (or an overflow) hides; the tooltip gives the reason."""
    return "—" if r.missing else text


def ratio_text(ratio: float | None) -> str:
    return "none" if ratio is None else f"{ratio * 100:.2f}%"


def position_ratio_text(r: PositionRisk) -> str:
    """The ratio that liquidates this position at 100%: its own (isolated) or its account's cross ratio."""
    if r.missing:
        return "—"
    if r.margin_ratio is None:
        return "gone" if r.distance_to_liquidation is not None and r.distance_to_liquidation <= 0 else "none"
    return ratio_text(r.margin_ratio)


def margin(r: PositionRisk) -> float:
    """The collateral of the position: its isolated margin, else the initial margin at the mark."""
    p = r.position
    return p.isolated_margin if p.margin_mode is MarginMode.ISOLATED else r.initial_margin


def exchange_check(r: PositionRisk) -> LiquidationCheck | None:
    """A synced position's liquidation price beside the exchange's at the row's mark (engine.margin.crosscheck);
    None for a position typed by hand, a missing mark, or when neither side has a liquidation price."""
    p = r.position
    if not p.synced or r.missing or not math.isfinite(r.mark_price):
        return None
    return check_liquidation(r.liquidation_price, p.exchange_liquidation_price, r.mark_price)


def exchange_liquidation_text(r: PositionRisk) -> str:
    """'40,500.00 USDT (-339.36) · check': the exchange's liquidation price as of the last sync, ours minus it,
    and 'check' beyond 0.5% of the mark; '' for a position typed by hand."""
    p = r.position
    if not p.synced:
        return ""
    shown = quoted(p.exchange_liquidation_price, p.symbol) if p.exchange_liquidation_price is not None else "none"
    check = exchange_check(r)
    if check is None:
        return shown
    gap = f" ({check.difference:+,.2f})" if check.difference is not None else ""
    return shown + gap + (" · check" if check.check else "")


def _gap_key(r: PositionRisk) -> float:
    """The gap between the two liquidation prices as a fraction of the mark (a check sorts last ascending)."""
    check = exchange_check(r)
    if check is None:
        return -1.0
    return math.inf if check.difference is None else abs(check.difference) / r.mark_price


def stop_text(r: PositionRisk) -> str:
    """'55,000.00 USDT · 4.55% to liq.': the stop-loss and its distance to the liquidation price (a fraction of the
    mark, engine.margin.stops), '· beyond liq.' when it would never fire; '' without a stop."""
    stops = stop_figures(r)
    if stops.stop_loss is None:
        return ""
    shown = quoted(stops.stop_loss, r.position.symbol)
    if stops.stop_beyond_liquidation:
        return f"{shown} · beyond liq."
    if stops.stop_to_liquidation is None or r.missing:
        return shown
    return f"{shown} · {percent(stops.stop_to_liquidation)} to liq."


def _stop_key(r: PositionRisk) -> float:
    """The stop's distance to liquidation (beyond: negative, first ascending); no stop or no distance last."""
    distance = stop_figures(r).stop_to_liquidation
    return math.inf if distance is None else distance


_DEFINED: tuple[Column, ...] = (
    Column("Account", lambda r, a: r.position.account, lambda r: r.position.account, numeric=False),
    Column("Exchange", lambda r, a: exchange_label(a), lambda r: r.position.account, numeric=False),
    Column("Symbol", lambda r, a: r.position.symbol, lambda r: r.position.symbol, numeric=False),
    Column("Side", lambda r, a: r.position.side.value, lambda r: r.position.side.value, numeric=False),
    Column("Contracts", lambda r, a: f"{r.position.contracts:g}", lambda r: r.position.contracts),
    Column("Entry", lambda r, a: quoted(r.position.entry_price, r.position.symbol), lambda r: r.position.entry_price),
    Column(
        "Mark",
        lambda r, a: quoted(r.mark_price, r.position.symbol),
        lambda r: r.mark_price,
        live=True,
        vector_key=lambda v: v.mark_price,
    ),
    Column("Source", lambda r, a: "", lambda r: 0, numeric=False, live=True),  # filled from RowState
    Column(
        "Liq. price",
        lambda r, a: _unknown_or(r, quoted(r.liquidation_price, r.position.symbol)),
        lambda r: r.liquidation_price if r.liquidation_price is not None else float("inf"),
        live=True,
        vector_key=lambda v: np.where(np.isnan(v.liquidation_price), np.inf, v.liquidation_price),
    ),
    Column(
        "To liq.",
        lambda r, a: _unknown_or(r, percent(r.distance_to_liquidation)),
        _distance_key,
        live=True,
        vector_key=lambda v: np.where(np.isnan(v.liquidation_price), np.inf, v.distance_to_liquidation),
    ),
    Column(  # filled from RowState.what_if
        "What-if",
        lambda r, a: "◇ hypothetical" if r.position.hypothetical else "",
        lambda r: r.position.hypothetical,
        numeric=False,
        live=True,
    ),
    Column(
        "Margin ratio",
        lambda r, a: position_ratio_text(r),
        lambda r: r.margin_ratio if r.margin_ratio is not None else float("inf"),
        live=True,
        vector_key=lambda v: np.where(np.isnan(v.position_margin_ratio), np.inf, v.position_margin_ratio),
    ),
    Column("Mode", lambda r, a: r.position.margin_mode.value, lambda r: r.position.margin_mode.value, numeric=False),
    Column("Leverage", lambda r, a: f"{r.position.leverage:g}×", lambda r: r.position.leverage),
    Column("Margin", lambda r, a: money(margin(r), a.currency), margin, live=True),
    Column(
        "Maint. margin",
        lambda r, a: money(r.maintenance_margin, a.currency),
        lambda r: r.maintenance_margin,
        live=True,
    ),
    Column("uPnL", lambda r, a: money(r.unrealized_pnl, a.currency), lambda r: r.unrealized_pnl, live=True),
    Column("ROE", lambda r, a: percent(r.roe), lambda r: r.roe, live=True),
    Column("Exchange liq.", lambda r, a: exchange_liquidation_text(r), _gap_key, live=True),
    Column("Stop", lambda r, a: stop_text(r), _stop_key, live=True),
    *FUNDING_COLUMNS,
    Column("P(liq 24h)", lambda r, a: "", lambda r: 0, live=True),  # filled by desktop.tables.odds_model
)
ORDER = (
    "Account", "Symbol", "Side", "To liq.", "P(liq 24h)", "Liq. price", "Mark", "Source", "What-if", "uPnL",
    "ROE", "Exchange liq.", "Margin ratio", "Contracts", "Entry", "Stop", "Mode", "Leverage", "Margin",
    "Maint. margin", "Exchange", "Funding", "Next funding", "Funding/day", "Break-even",
)  # fmt: skip
"""The default order: identity, the distance to liquidation, its probability within 24 h and the prices behind
it, PnL, then the rest (the first ten fit a 1280 px screen; the stop-loss beside the entry). The user can move,
hide and resize columns; the header remembers it."""
_BY_TITLE = {c.title: c for c in _DEFINED}
COLUMNS: tuple[Column, ...] = tuple(_BY_TITLE[title] for title in ORDER)
ACCOUNT_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Account")
SIDE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Side")
SYMBOL_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Symbol")
DISTANCE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "To liq.")
MARK_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Mark")
SOURCE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "Source")
WHAT_IF_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "What-if")
ODDS_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "P(liq 24h)")
UPNL_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "uPnL")
ROE_COLUMN = next(i for i, c in enumerate(COLUMNS) if c.title == "ROE")
STATE_COLUMNS = tuple(i for i, c in enumerate(COLUMNS) if c.state_text is not None)
"""The columns whose text comes from the row's state (funding), filled by the model."""


def _spans(flags: Sequence[bool]) -> list[tuple[int, int]]:
    """Runs of True as (first, last) indices."""
    spans: list[tuple[int, int]] = []
    for i, flag in enumerate(flags):
        if flag and spans and spans[-1][1] == i - 1:
            spans[-1] = (spans[-1][0], i)
        elif flag:
            spans.append((i, i))
    return spans


LIVE_COLUMNS = tuple(i for i, c in enumerate(COLUMNS) if c.live)
LIVE_SPANS = _spans([c.live for c in COLUMNS])
"""The live columns as ranges: a tick repaints these cells of a row, not the whole row."""

# Row colours by level: tinted enough to see across a room, light enough to read the numbers on.
LEVEL_BACKGROUND = {
    Level.WARNING: QColor(255, 224, 130),
    Level.DANGER: QColor(255, 160, 150),
    Level.LIQUIDATED: QColor(200, 40, 40),
}
# Text on a tinted row is dark whatever the theme (light text on a yellow row cannot be read).
LEVEL_FOREGROUND = {
    Level.WARNING: QColor(20, 20, 20),
    Level.DANGER: QColor(20, 20, 20),
    Level.LIQUIDATED: QColor(255, 255, 255),
}
