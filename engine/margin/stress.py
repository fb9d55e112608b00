"""Stress figures for an account: how far all its cross positions can move together before liquidation.

Cross positions share one wallet, so the question a trader asks of an account is "how far can the
market move against me as a whole?". The answer here is the uniform relative move of every cross
mark (isolated positions have their own margin and are left out) at which the account's cross
surplus (equity less maintenance) reaches zero: found by a scan for the first sign change on each
side of the current marks (a grid, and the moves at which a leg changes tier: engine.margin.tier_crossings),
then bisection.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine.margin.layout import BookLayout, LegLayout, book_layout
from engine.margin.liquidation import to_z
from engine.margin.model import Book, PriceKey
from engine.margin.risk import MissingPriceError
from engine.margin.tier_crossings import crossing_moves, jumps, probe_points

# Moves scanned: fine steps near the marks, coarser further out; -99% to +900%.
GRID = sorted({round(0.005 * k, 6) for k in range(1, 101)} | {round(0.05 * k, 6) for k in range(11, 181)})
FURTHEST_FALL = 0.99
"""The largest fall scanned (a fraction): GRID's steps below it, then this one (the grid's own stop at 95% left a
long of about 1x leverage, liquidated at -97%, without a move)."""


def cross_surplus(layout: BookLayout, prices: Mapping[PriceKey, float], account: str, move: float) -> float:
    """Cross equity less cross maintenance of an account with every cross mark moved by `move` (a fraction),
    in its settlement currency. Raises KeyError when a cross mark of the account is not in `prices`, or the
    account is not in the layout."""
    total = 0.0
    for leg in layout.legs:
        if leg.cross and leg.account == account:
            z = to_z(prices[leg.price_key] * (1 + move), leg.inverse)
            total += leg.leg.pnl(z) - leg.leg.maintenance(z)
    return layout.cross_wallet[account] + total


def uniform_move_to_liquidation(
    book: Book, prices: Mapping[PriceKey, float], account: str, layout: BookLayout | None = None
) -> float | None:
    """The signed move of all the account's cross marks that liquidates it, nearest to zero first.

    -0.234 means a 23.4% fall of every cross mark; 0.0 when the account is already at or past
    liquidation; None when it has no cross position or no move within -99%..+900% liquidates it.
    Found by a scan over GRID and the moves next to and at each tier crossing (engine.margin.tier_crossings: a
    liquidated stretch can lie between two grid moves, a step can hold a root, a safe stretch and a farther
    root), then 80 bisection steps (the move is exact to far below what is shown).

    Raises KeyError when one of the account's cross marks is not in `prices`; without a layout, what
    engine.margin.layout.book_layout raises.
    """
    layout = layout or book_layout(book)
    if not any(leg.cross and leg.account == account for leg in layout.legs):
        return None

    def f(move: float) -> float:
        return cross_surplus(layout, prices, account, move)

    if f(0.0) <= 0:
        return 0.0
    found: list[float] = []
    for direction in (-1.0, 1.0):
        safe = 0.0
        for move in _scan(layout, prices, account, direction):
            if f(move) <= 0:
                lo, hi = safe, move  # f(lo) > 0 >= f(hi), no tier crossing between them
                for _ in range(80):
                    mid = (lo + hi) / 2
                    if f(mid) > 0:
                        lo = mid
                    else:
                        hi = mid
                found.append((lo + hi) / 2)
                break
            safe = move
    return min(found, key=abs) if found else None


def _scan(layout: BookLayout, prices: Mapping[PriceKey, float], account: str, direction: float) -> list[float]:
    """The moves read on one side (direction -1: down, +1: up), in order out from the marks: GRID (down to -99%
    at most), and next to and at every move at which one of the account's tiered cross legs changes tier
    (engine.margin.tier_crossings): a liquidated stretch can lie between two grid moves, and between two
    points of this list the surplus is monotone."""
    grid = [direction * step for step in GRID if direction * step > -FURTHEST_FALL]
    if direction < 0:
        grid.append(-FURTHEST_FALL)
    end = grid[-1]
    low, high = min(0.0, end), max(0.0, end)
    crossings = []
    for leg in layout.legs:
        if leg.cross and leg.account == account and leg.leg.fixed_maintenance is None and leg.leg.nu > 0:
            tiers = leg.leg.tiers
            lowers = np.array([tier.lower for tier in tiers[1:]], dtype=float)
            moves = crossing_moves(leg.leg.nu, prices[leg.price_key], lowers, leg.inverse)
            below, above = tiers[:-1], tiers[1:]
            jump = jumps(
                lowers,
                np.array([t.rate for t in below]),
                np.array([t.amount for t in below]),
                np.array([t.rate for t in above]),
                np.array([t.amount for t in above]),
            )
            crossings.extend((float(m), bool(j)) for m, j in zip(moves, jump, strict=True) if low < m < high)
    return sorted({*grid, *probe_points(crossings, 0.0, end)}, key=abs)


def _liquidated_beyond(moves: np.ndarray, surplus: np.ndarray, liquidated_now: bool) -> np.ndarray:
    """Per move, whether the account's cross liquidation point lies between 0 and that move (inclusive):
    the first move outward from the current marks, on each side, at which the cross surplus is <= 0."""
    if liquidated_now:
        return np.ones(len(moves), dtype=bool)
    gone = np.zeros(len(moves), dtype=bool)
    for side in (moves > 0, moves < 0):
        index = np.flatnonzero(side)
        order = index[np.argsort(np.abs(moves[index]), kind="stable")]
        gone[order] = np.logical_or.accumulate(surplus[order] <= 0)
    return gone


def equity_ladder(
    book: Book,
    prices: Mapping[PriceKey, float],
    account: str,
    moves: list[float],
    layout: BookLayout | None = None,
) -> list[float]:
    """The account's equity (settlement currency) with every one of its marks moved by each fraction in
    `moves` (one value per move): account_ladder's equity."""
    return account_ladder(book, prices, account, moves, layout)[0].tolist()


def account_ladder(
    book: Book,
    prices: Mapping[PriceKey, float],
    account: str,
    moves: list[float],
    layout: BookLayout | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(equity, liquidation level) of the account with every one of its marks moved by each fraction in `moves`:
    two float arrays of len(moves), settlement currency.

    Equity: no balance ever goes below what the exchange would leave: an isolated position cannot lose more
    than its margin (past its liquidation price it is gone), and once the uniform move reaches the account's
    cross liquidation point (cross equity = cross maintenance margin, engine.margin.risk) the cross positions
    are liquidated: from there on the cross margin balance counts as lost (0), never negative (the exchange's
    insurance fund absorbs what is beyond it), while isolated positions go on under their own caps.
    Liquidation level: the equity at which the cross positions are liquidated at that move, i.e. the cross
    maintenance margin plus what the account holds outside its cross balance (its isolated positions): the two
    lines meet at the cross liquidation point; NaN where there is no cross position or it is already gone.
    Raises MissingPriceError when a mark the account needs is not in `prices`; StopIteration when the book has
    no account of that name; without a layout, what engine.margin.layout.book_layout raises.
    """
    layout = layout or book_layout(book)
    wallet = next(a.wallet_balance for a in book.accounts if a.name == account)
    legs = [leg for leg in layout.legs if leg.account == account]
    nothing = np.full(len(moves), np.nan)
    if not legs:
        return np.full(len(moves), wallet), nothing
    for leg in legs:
        if leg.price_key not in prices:
            raise MissingPriceError(leg.price_key)
    moved = np.asarray(moves, dtype=float)
    # One array operation over legs x moves: the window redraws a 201-point ladder every few seconds.
    mark = np.array([prices[leg.price_key] for leg in legs])[:, None] * (1 + moved)
    inverse = np.array([leg.inverse for leg in legs])[:, None]
    with np.errstate(divide="ignore"):
        z = np.where(inverse, 1.0 / mark, mark)
    pnl = (
        np.array([leg.leg.pnl_slope for leg in legs])[:, None] * z
        + np.array([leg.leg.pnl_offset for leg in legs])[:, None]
    )
    cross = np.array([leg.cross for leg in legs])
    floor = -np.array([leg.collateral for leg in legs])[:, None]
    isolated = np.where(cross[:, None], 0.0, np.maximum(pnl, floor)).sum(axis=0)
    cross_wallet = layout.cross_wallet[account]
    if not cross.any():
        return wallet + isolated, nothing
    cross_balance = cross_wallet + pnl[cross].sum(axis=0)
    cross_maintenance = sum(_maintenance_along(leg, z[k]) for k, leg in enumerate(legs) if leg.cross)
    now = cross_surplus(layout, prices, account, 0.0)
    gone = _liquidated_beyond(moved, cross_balance - cross_maintenance, now <= 0)
    outside = wallet - cross_wallet + isolated
    return outside + np.where(gone, 0.0, cross_balance), np.where(gone, np.nan, outside + cross_maintenance)


def _maintenance_along(leg: LegLayout, z: np.ndarray) -> np.ndarray:
    """A leg's maintenance margin at each z (its tier looked up per point)."""
    if leg.leg.fixed_maintenance is not None:
        return np.full(z.shape, leg.leg.fixed_maintenance)
    tiers = leg.leg.tiers
    notional = leg.leg.nu * z
    tier = np.clip(np.searchsorted([b.lower for b in tiers], notional, side="right") - 1, 0, len(tiers) - 1)
    rate = np.array([b.rate for b in tiers])[tier]
    amount = np.array([b.amount for b in tiers])[tier]
    return notional * rate - amount
