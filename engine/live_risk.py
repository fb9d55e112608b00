"""The book's risk for the live view: the vectorised engine when every mark is in, the scalar one otherwise.

The window recomputes the whole book up to ten times a second. The vectorised path (engine.vectorised)
does that in array operations; this module compiles the book once and turns its arrays back into the
same BookRisk the scalar path returns, so everything downstream (tables, levels, alerts, charts) reads
one shape. Until every mark has arrived the scalar path evaluates the accounts that are complete, as
`evaluate_priced_accounts` does: an account with a missing mark is never shown on a made-up price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from engine.layout import BookLayout, book_layout
from engine.model import Book, PriceKey
from engine.risk import AccountRisk, BookRisk, PositionRisk, evaluate_priced_accounts
from engine.rules import profile_for
from engine.vectorised import CompiledBook, VectorRisk


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else value


def book_risk_from_vectors(book: Book, v: VectorRisk) -> BookRisk:
    """The vectorised result as the scalar path's BookRisk (NaN becomes None, as there)."""
    liquidation = v.liquidation_price.tolist()
    distance = v.distance_to_liquidation.tolist()
    positions = tuple(
        PositionRisk(
            position=p,
            mark_price=mark,
            notional=notional,
            unrealized_pnl=pnl,
            roe=roe,
            initial_margin=im,
            maintenance_margin=mm,
            liquidation_price=None if math.isnan(liq) else liq,
            distance_to_liquidation=None if math.isnan(liq) else d,
        )
        for p, mark, notional, pnl, roe, im, mm, liq, d in zip(
            book.positions,
            v.mark_price.tolist(),
            v.notional.tolist(),
            v.unrealized_pnl.tolist(),
            v.roe.tolist(),
            v.initial_margin.tolist(),
            v.maintenance_margin.tolist(),
            liquidation,
            distance,
            strict=True,
        )
    )
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
