"""The book's risk for the live view: the vectorised engine's arrays in the scalar path's shape.

The window recomputes the whole book up to ten times a second. The vectorised path (engine.margin.vectorised)
does that in array operations; this module compiles the book once and turns its arrays back into the
same BookRisk the scalar path returns, so everything downstream (tables, levels, alerts, charts) reads
one shape. A mark that has not arrived is NaN in the arrays: every position is still there, with what
can be computed and the reason for what cannot (as engine.margin.risk.evaluate_book with missing_ok).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import overload

import numpy as np

from engine.margin.layout import BookLayout, book_layout
from engine.margin.model import Book, MarginMode, Position, PriceKey
from engine.margin.risk import OVERFLOW_REASON, AccountRisk, BookRisk, PositionRisk, cross_waits_reason, no_mark_reason
from engine.margin.rules import profile_for
from engine.margin.vector_risk import VectorRisk
from engine.margin.vectorised import CompiledBook


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else value


_ARRAY_OF = {"margin_ratio": "position_margin_ratio"}
_NUMBERS = tuple(
    _ARRAY_OF.get(f.name, f.name) for f in dataclasses.fields(PositionRisk) if f.name not in ("position", "missing")
)
"""The VectorRisk arrays a PositionRisk is made of (its fields besides the position and the reason)."""


class VectorPositions(Sequence[PositionRisk]):
    """The positions of a vectorised result, each made into a PositionRisk only when it is read.

    The window reads the rows on screen (about twenty), not all of a 1,000-position book, on every
    refresh; what it needs of every row it takes from the arrays (`distances`, `moved_since`).
    A position without a liquidation price has neither price nor distance (None), as on the scalar path.
    Indexing raises IndexError outside -len..len-1, as a tuple does.
    """

    def __init__(self, positions: Sequence[Position], v: VectorRisk, reasons: Mapping[int, str] | None = None) -> None:
        self.positions = positions
        self.vectors = v
        self.reasons: Mapping[int, str] = reasons or {}
        """Row index -> why its figures are incomplete, for the rows that are."""
        self._made: dict[int, PositionRisk] = {}

    def __len__(self) -> int:
        return len(self.positions)

    @overload
    def __getitem__(self, index: int) -> PositionRisk: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[PositionRisk, ...]: ...
    def __getitem__(self, index: int | slice) -> PositionRisk | tuple[PositionRisk, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        made = self._made.get(index)
        if made is None:
            if not 0 <= index < len(self):
                raise IndexError(index)
            v = self.vectors
            liquidation = float(v.liquidation_price[index])
            missing = self.reasons.get(index, "")
            priced = not math.isnan(liquidation) and not missing
            made = self._made[index] = PositionRisk(
                position=self.positions[index],
                mark_price=float(v.mark_price[index]),
                notional=float(v.notional[index]),
                unrealized_pnl=float(v.unrealized_pnl[index]),
                roe=float(v.roe[index]),
                initial_margin=float(v.initial_margin[index]),
                maintenance_margin=float(v.maintenance_margin[index]),
                liquidation_price=liquidation if priced else None,
                distance_to_liquidation=float(v.distance_to_liquidation[index]) if priced else None,
                margin_ratio=_optional(float(v.position_margin_ratio[index])),
                missing=missing,
            )
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  (equal to a tuple of the same risks, so not hashable)

    def distances(self) -> np.ndarray:
        """Distance to liquidation of every position, float64 (n_positions,), a signed fraction of the mark; NaN
        where there is no liquidation price (or it is unknown: see known())."""
        v = self.vectors
        distances = np.where(np.isnan(v.liquidation_price), np.nan, v.distance_to_liquidation)
        if self.reasons:
            distances[list(self.reasons)] = np.nan
        return distances

    def known(self) -> np.ndarray:
        """Per position, bool (n_positions,): whether its liquidation could be evaluated (False: a mark is
        missing, or overflow)."""
        known = np.ones(len(self), dtype=bool)
        known[list(self.reasons)] = False
        return known

    def moved_since(self, before: Sequence[PositionRisk]) -> np.ndarray | None:
        """Per position, whether any of its numbers differ from `before` (the same positions, an earlier
        result), bool (n_positions,); None when `before` is not a vectorised result over the same positions."""
        if not isinstance(before, VectorPositions) or before.positions is not self.positions:
            return None
        moved = np.zeros(len(self), dtype=bool)
        for name in _NUMBERS:
            new, old = getattr(self.vectors, name), getattr(before.vectors, name)
            moved |= ~((new == old) | (np.isnan(new) & np.isnan(old)))
        return moved


def position_distances(positions: Sequence[PositionRisk]) -> np.ndarray:
    """Distance to liquidation of every position, float64 (len(positions),), a signed fraction of the mark; NaN
    where there is none (from the arrays when it can)."""
    if isinstance(positions, VectorPositions):
        return positions.distances()
    return np.array([np.nan if r.distance_to_liquidation is None else r.distance_to_liquidation for r in positions])


def positions_known(positions: Sequence[PositionRisk]) -> np.ndarray:
    """Per position, bool (len(positions),): whether its liquidation could be evaluated (`missing` is empty)."""
    if isinstance(positions, VectorPositions):
        return positions.known()
    return np.array([not r.missing for r in positions], dtype=bool)


def _reasons(compiled: CompiledBook, v: VectorRisk, marks: np.ndarray) -> tuple[dict[int, str], dict[int, str]]:
    """Why positions (by row) and accounts (by index) are incomplete; empty when everything is known.

    Only the flagged rows go through Python: on a complete book this is a few array checks."""
    pos_cross_known = v.account_cross_known[compiled.pos_account] | ~compiled.pos_cross
    finite = np.isfinite(v.notional) & np.isfinite(v.unrealized_pnl) & np.isfinite(v.maintenance_margin)
    flagged = np.flatnonzero(~(pos_cross_known & finite))
    if not len(flagged):
        return {}, {}
    keys = compiled.price_keys
    missing_keys = {keys[i] for i in np.flatnonzero(np.isnan(marks)).tolist()}
    book = compiled.book
    exchange_of = {a.name: a.exchange for a in book.accounts}
    waits: dict[str, list[PriceKey]] = {}
    for p in book.positions:
        key = (exchange_of[p.account], p.symbol)
        if key in missing_keys and p.margin_mode is MarginMode.CROSS and key not in waits.setdefault(p.account, []):
            waits[p.account].append(key)
    rows: dict[int, str] = {}
    accounts: dict[int, str] = {}
    for i in flagged.tolist():
        p = book.positions[i]
        key = (exchange_of[p.account], p.symbol)
        if key in missing_keys:
            rows[i] = no_mark_reason(key)
        elif p.margin_mode is MarginMode.CROSS and waits.get(p.account):
            rows[i] = cross_waits_reason(waits[p.account])
        else:
            rows[i] = OVERFLOW_REASON
    account_index = {a.name: k for k, a in enumerate(book.accounts)}
    for i, reason in rows.items():
        if reason == OVERFLOW_REASON:
            accounts.setdefault(account_index[book.positions[i].account], "incomplete: " + OVERFLOW_REASON)
    unpriced: dict[int, dict[PriceKey, None]] = {}
    for p in book.positions:
        key = (exchange_of[p.account], p.symbol)
        if key in missing_keys:
            unpriced.setdefault(account_index[p.account], {})[key] = None
    for k, keys_of_account in unpriced.items():
        accounts[k] = "incomplete: " + "; ".join(no_mark_reason(key) for key in keys_of_account)
    return rows, accounts


def book_risk_from_vectors(
    book: Book,
    v: VectorRisk,
    reasons: Mapping[int, str] | None = None,
    account_reasons: Mapping[int, str] | None = None,
) -> BookRisk:
    """The vectorised result as the scalar path's BookRisk (NaN becomes None, as there); its positions are
    made when read. reasons / account_reasons: why rows / accounts (by index) are incomplete.

    Raises ValueError when the account arrays of v are not as long as book.accounts (zip strict)."""
    positions = VectorPositions(book.positions, v, reasons)
    account_reasons = account_reasons or {}
    accounts = tuple(
        AccountRisk(
            account=a,
            wallet_balance=a.wallet_balance,
            unrealized_pnl=pnl,
            equity=equity,
            initial_margin=im,
            maintenance_margin=mm,
            margin_ratio=_optional(ratio),
            available_balance=available,
            estimate=profile_for(a.exchange).estimate,
            cross_margin_balance=cross_balance,
            cross_maintenance_margin=cross_mm,
            has_cross=has_cross,
            liquidated=liquidated,
            missing=account_reasons.get(k, ""),
        )
        for k, (a, pnl, equity, im, mm, ratio, available, cross_balance, cross_mm, has_cross, liquidated) in enumerate(
            zip(
                book.accounts,
                v.account_unrealized_pnl.tolist(),
                v.account_equity.tolist(),
                v.account_initial_margin.tolist(),
                v.account_maintenance_margin.tolist(),
                v.account_margin_ratio.tolist(),
                v.account_available_balance.tolist(),
                v.account_cross_margin_balance.tolist(),
                v.account_cross_maintenance_margin.tolist(),
                v.account_has_cross.tolist(),
                v.account_liquidated.tolist(),
                strict=True,
            )
        )
    )
    return BookRisk(accounts, positions)


class LiveEvaluator:
    """One book, compiled once, evaluated at each new set of marks.

    Construction raises what engine.margin.layout.book_layout raises when no layout is given (nothing for a
    book that passed engine.book.book_rules); evaluate() raises nothing for a missing mark (it reports it)."""

    def __init__(self, book: Book, layout: BookLayout | None = None) -> None:
        self.book = book
        self.layout = layout or book_layout(book)
        self.compiled = CompiledBook(book, self.layout)

    def evaluate(self, prices: Mapping[PriceKey, float]) -> tuple[BookRisk, list[PriceKey]]:
        """Risk of every position and account (what a missing mark hides is NaN/None, with its reason), and
        the keys still without a mark (in price-key order). prices: marks in each contract's quote currency."""
        compiled = self.compiled
        marks = compiled.prices_from(prices)
        v = compiled.recompute(marks)
        rows, accounts = _reasons(compiled, v, marks)
        missing = [key for key in compiled.price_keys if key not in prices]
        return book_risk_from_vectors(self.book, v, rows, accounts), missing
