"""The book's risk for the live view: the vectorised engine when every mark is in, the scalar one otherwise.

The window recomputes the whole book up to ten times a second. The vectorised path (engine.vectorised)
does that in array operations; this module compiles the book once and turns its arrays back into the
same BookRisk the scalar path returns, so everything downstream (tables, levels, alerts, charts) reads
one shape. Until every mark has arrived the scalar path evaluates the accounts that are complete, as
`evaluate_priced_accounts` does: an account with a missing mark is never shown on a made-up price.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import overload

import numpy as np

from engine.layout import BookLayout, book_layout
from engine.model import Book, Position, PriceKey
from engine.risk import AccountRisk, BookRisk, PositionRisk, evaluate_priced_accounts
from engine.rules import profile_for
from engine.vectorised import CompiledBook, VectorRisk


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else value


_NUMBERS = tuple(f.name for f in dataclasses.fields(PositionRisk) if f.name != "position")
"""The VectorRisk arrays a PositionRisk is made of (its fields besides the position)."""


class VectorPositions(Sequence[PositionRisk]):
    """The positions of a vectorised result, each made into a PositionRisk only when it is read.

    The window reads the rows on screen (about twenty), not all of a 1,000-position book, on every
    refresh; what it needs of every row it takes from the arrays (`distances`, `moved_since`).
    A position without a liquidation price has neither price nor distance (None), as on the scalar path.
    """

    def __init__(self, positions: Sequence[Position], v: VectorRisk) -> None:
        self.positions = positions
        self.vectors = v
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
            priced = not math.isnan(liquidation)
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
            )
        return made

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  (equal to a tuple of the same risks, so not hashable)

    def distances(self) -> np.ndarray:
        """Distance to liquidation of every position, NaN where there is no liquidation price."""
        v = self.vectors
        return np.where(np.isnan(v.liquidation_price), np.nan, v.distance_to_liquidation)

    def moved_since(self, before: Sequence[PositionRisk]) -> np.ndarray | None:
        """Per position, whether any of its numbers differ from `before` (the same positions, an earlier
        result); None when `before` is not a vectorised result over the same positions."""
        if not isinstance(before, VectorPositions) or before.positions is not self.positions:
            return None
        moved = np.zeros(len(self), dtype=bool)
        for name in _NUMBERS:
            new, old = getattr(self.vectors, name), getattr(before.vectors, name)
            moved |= ~((new == old) | (np.isnan(new) & np.isnan(old)))
        return moved


def position_distances(positions: Sequence[PositionRisk]) -> np.ndarray:
    """Distance to liquidation of every position, NaN where there is none (from the arrays when it can)."""
    if isinstance(positions, VectorPositions):
        return positions.distances()
    return np.array([np.nan if r.distance_to_liquidation is None else r.distance_to_liquidation for r in positions])


def book_risk_from_vectors(book: Book, v: VectorRisk) -> BookRisk:
    """The vectorised result as the scalar path's BookRisk (NaN becomes None, as there); its positions are
    made when read."""
    positions = VectorPositions(book.positions, v)
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
        )
        for a, pnl, equity, im, mm, ratio, available in zip(
            book.accounts,
            v.account_unrealized_pnl.tolist(),
            v.account_equity.tolist(),
            v.account_initial_margin.tolist(),
            v.account_maintenance_margin.tolist(),
            v.account_margin_ratio.tolist(),
            v.account_available_balance.tolist(),
            strict=True,
        )
    )
    return BookRisk(accounts, positions)


class LiveEvaluator:
    """One book, compiled once, evaluated at each new set of marks."""

    def __init__(self, book: Book, layout: BookLayout | None = None) -> None:
        self.book = book
        self.layout = layout or book_layout(book)
        self.compiled = CompiledBook(book, self.layout)

    def evaluate(self, prices: Mapping[PriceKey, float]) -> tuple[BookRisk, list[PriceKey]]:
        """Risk of every account whose marks are all in, and the keys still missing."""
        keys = self.compiled.price_keys
        if not all(key in prices for key in keys):
            return evaluate_priced_accounts(self.book, prices)
        return book_risk_from_vectors(self.book, self.compiled.recompute(self.compiled.prices_from(prices))), []
