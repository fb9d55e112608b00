"""Risk of a whole book at given marks, position by position and account by account (scalar path).

This is the reference implementation: plain Python, one leg at a time. engine.margin.vectorised computes
the same numbers over numpy arrays for the live view and is tested against this.

**The account's margin ratio is its cross margin ratio**: cross maintenance margin / cross margin
balance, where the cross margin balance is the wallet less the margins held in isolated positions,
plus the unrealized PnL of the cross positions. Isolated positions have their own collateral and their
own ratio (their maintenance margin / (their margin + their uPnL)); they never dilute the account's.
The cross account is liquidated when its ratio reaches 100%, which is exactly where each cross leg
reaches its liquidation price (equity = maintenance margin). Sources, read 2026-11-30:

- Binance USDⓈ-M / COIN-M: "Margin Ratio = Maintenance Margin / Margin Balance", liquidation "when the
  margin ratio hits 100%" (Binance announcement "Updates to Maintenance Margin of Binance Futures
  Coin-Margined Contracts", 2021-03-01; the cross margin balance excludes isolated wallets).
- Bybit (Unified Trading Account, cross): "Liquidation is triggered when MMR reaches 100%", account
  MMR = account maintenance margin / account margin balance (help centre "Trading Rules: Liquidation
  Process (Unified Trading Account)").
- OKX shows the reciprocal: "margin ratio = adjusted equity / (maintenance margin + liquidation fees)",
  liquidation when it *falls* to 100% (help centre "Tiered maintenance margin ratio rules", updated
  2025-05-16). Our ratio is 1 / OKX's; both reach 100% at the same point (the taker fee is already in
  OKX's maintenance rate, engine.margin.rules).
- Gate and Hyperliquid liquidate a cross account when its equity falls to its maintenance margin:
  the same point, ratio 100%.

Numbers that cannot be computed (a mark that has not arrived, a cross account one of whose marks has
not arrived, a figure that overflows) are NaN, the liquidation price and distance None, and the
position's or account's `missing` says why. Nothing is ever shown on a made-up price.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from engine.margin.layout import BookLayout, book_layout
from engine.margin.liquidation import distance_to_liquidation, liquidation_price, margin_surplus, to_z
from engine.margin.model import Account, Book, MarginMode, Position, PriceKey
from engine.margin.roe import fixed_roe_base
from engine.margin.rules import profile_for, profile_of

NAN = float("nan")


class MissingPriceError(KeyError):
    """No mark price for a symbol the book holds."""

    def __init__(self, key: PriceKey) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no mark price for {self.key[1]} on {self.key[0]}"


def no_mark_reason(key: PriceKey) -> str:
    """Why a position has no figures: its own mark has not arrived."""
    return f"no mark price yet for {key[1]} on {key[0]}"


def cross_waits_reason(keys: Sequence[PriceKey]) -> str:
    """Why a cross position has no liquidation price although its own mark is in."""
    return "the cross account waits for the mark of " + ", ".join(f"{s} on {e}" for e, s in keys)


OVERFLOW_REASON = "the figures overflow (a mark or size far outside any real market)"


@dataclass(frozen=True, slots=True)
class PositionRisk:
    """One position's figures at one mark. Money in the account's settlement currency, prices in the
    contract's quote currency, ratios and distances as fractions (0.05 = 5%). NaN where `missing` says why."""

    position: Position
    mark_price: float
    """NaN when no mark has arrived."""
    notional: float
    """Settlement currency, at the mark."""
    unrealized_pnl: float
    roe: float
    """Unrealized PnL / the base the exchange's own position panel uses, a fraction (engine.margin.rules.RoeBase):
    Binance divides by the initial margin at the mark (long 1 BTC @ 10,000, 10x, mark 11,000 -> 90.91%),
    Bybit by the initial margin at entry plus the fee to close, others by the initial margin at entry."""
    initial_margin: float
    """Notional at the mark / leverage."""
    maintenance_margin: float
    liquidation_price: float | None
    distance_to_liquidation: float | None
    """Signed fraction of the mark; positive while safe, <= 0 once past the liquidation price."""
    margin_ratio: float | None = None
    """The ratio that liquidates this position at 100%: an isolated position's own maintenance margin /
    (its margin + its uPnL); a cross position's account cross ratio. None where the margin is gone or
    the figures are missing."""
    missing: str = ""
    """Why some figures could not be computed ("" when all were)."""


@dataclass(frozen=True, slots=True)
class AccountRisk:
    """One account's figures at the book's marks, in its settlement currency (ratios as fractions)."""

    account: Account
    wallet_balance: float
    unrealized_pnl: float
    """Every position's, isolated included (NaN while a mark is missing)."""
    equity: float
    """Wallet balance + unrealized PnL of every position (isolated included)."""
    initial_margin: float
    maintenance_margin: float
    """Every position's, isolated included."""
    margin_ratio: float | None
    """The cross margin ratio: cross maintenance margin / cross margin balance; liquidation at >= 1. None
    when the account has no cross position, its cross margin balance is <= 0, or a cross mark is missing."""
    available_balance: float
    """Cross wallet + cross PnL - cross initial margin, floored at 0."""
    estimate: bool
    cross_margin_balance: float = NAN
    """Wallet less isolated margins, plus the cross positions' unrealized PnL."""
    cross_maintenance_margin: float = NAN
    has_cross: bool = False
    liquidated: bool = False
    """The cross account is at or past its liquidation point (cross equity <= cross maintenance margin)."""
    missing: str = ""
    """Why the account's figures are incomplete ("" when complete)."""


@dataclass(frozen=True, slots=True)
class BookRisk:
    """The figures of a whole book: accounts in book.accounts order, positions in book.positions order."""

    accounts: tuple[AccountRisk, ...]
    positions: Sequence[PositionRisk]
    """A tuple, or engine.margin.live_risk.VectorPositions (made when read) from the vectorised engine."""

    def account(self, name: str) -> AccountRisk:
        """The figures of the account of that name. Raises StopIteration when there is none."""
        return next(a for a in self.accounts if a.account.name == name)


def estimate_reason(exchange: str) -> str:
    """Why an account's figures are an estimate ("" when its exchange has a rule profile of its own)."""
    profile = profile_for(exchange)
    return f"no rule profile for {exchange}: the generic rule was used" if profile.estimate else ""


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def _ratio(maintenance: float, balance: float) -> float | None:
    """maintenance / balance, None when the balance is gone (<= 0) or either is not a number."""
    if not (_finite(maintenance, balance) and balance > 0):
        return None
    ratio = maintenance / balance
    return ratio if math.isfinite(ratio) else None


def evaluate_book(
    book: Book, prices: Mapping[PriceKey, float], layout: BookLayout | None = None, *, missing_ok: bool = False
) -> BookRisk:
    """Risk numbers of every position and account at the given marks (keyed by exchange, symbol).

    prices: marks in each contract's quote currency, > 0. layout: the book's engine.margin.layout, when the
    caller already has it. Formulas and sources: the module docstring and engine.margin.liquidation.

    Raises MissingPriceError (a KeyError) for the first key without a mark, unless missing_ok: then every
    position and account is still returned, with NaN (and None for liquidation price, distance and ratios)
    where a missing mark makes a figure unknowable, and `missing` saying why. When no layout is given,
    a book that passed engine.book.book_rules raises none of the errors of
    engine.margin.layout.book_layout (KeyError for an unknown account or market, ValueError for a Hyperliquid
    tier without max leverage).
    """
    layout = layout or book_layout(book)
    legs = _leg_figures(book, layout, prices, missing_ok)
    cross = _cross_figures(layout, legs)
    liquidation = _liquidations(layout, legs, cross)
    position_risks = tuple(
        _position_risk(book, layout, legs, cross, liquidation[layout.leg_of_position[i]], i, position)
        for i, position in enumerate(book.positions)
    )
    by_account: dict[str, list[PositionRisk]] = {a.name: [] for a in book.accounts}
    for r in position_risks:
        by_account[r.position.account].append(r)
    account_risks = tuple(
        _account_risk(account, by_account[account.name], layout, legs.absent, cross) for account in book.accounts
    )
    return BookRisk(account_risks, position_risks)


@dataclass(frozen=True, slots=True)
class _LegFigures:
    """The marks, and each leg's figures at its mark, in layout.legs order (settlement currency)."""

    mark_of: dict[PriceKey, float]
    """Every key of the book: its mark, NaN where none has arrived."""
    absent: list[PriceKey]
    """The book's keys without a mark, in book order."""
    z: list[float]
    """Each leg's mark as engine.margin.liquidation.to_z takes it (1/mark for an inverse contract)."""
    pnl: list[float]
    mm: list[float]
    """Each leg's maintenance margin."""


def _leg_figures(book: Book, layout: BookLayout, prices: Mapping[PriceKey, float], missing_ok: bool) -> _LegFigures:
    """The marks and each leg's uPnL and maintenance margin; raises MissingPriceError unless missing_ok."""
    absent = [key for key in book.price_keys() if key not in prices]
    if absent and not missing_ok:
        raise MissingPriceError(absent[0])
    mark_of = {key: float(prices[key]) if key in prices else NAN for key in book.price_keys()}
    z = [to_z(mark_of[leg.price_key], leg.inverse) for leg in layout.legs]
    pnl = [leg.leg.pnl(z[k]) for k, leg in enumerate(layout.legs)]
    mm = [leg.leg.maintenance(z[k]) for k, leg in enumerate(layout.legs)]
    return _LegFigures(mark_of, absent, z, pnl, mm)


@dataclass(frozen=True, slots=True)
class _CrossFigures:
    """Each account's cross figures, by account name (settlement currency; every account has an entry)."""

    surplus: dict[str, float]
    """Cross wallet + cross uPnL - cross maintenance margin: the account is liquidated at <= 0."""
    balance: dict[str, float]
    """The cross margin balance: cross wallet + cross uPnL."""
    maintenance: dict[str, float]
    waits: dict[str, list[PriceKey]]
    """The keys of the account's cross legs whose mark has not arrived."""
    ratio: dict[str, float | None]
    """The cross margin ratio; None without cross legs, while waiting for a mark, or with the balance gone."""


def _cross_figures(layout: BookLayout, legs: _LegFigures) -> _CrossFigures:
    """Each account's cross sums over its cross legs."""
    # Sum the cross legs from zero and add the wallet last: the vectorised path (np.bincount) does the
    # same, so both give the same bits even where the terms nearly cancel.
    cross_sum = dict.fromkeys(layout.cross_wallet, 0.0)
    cross_pnl = dict.fromkeys(layout.cross_wallet, 0.0)
    waits: dict[str, list[PriceKey]] = {name: [] for name in layout.cross_wallet}
    for k, leg in enumerate(layout.legs):
        if leg.cross:
            cross_sum[leg.account] += legs.pnl[k] - legs.mm[k]
            cross_pnl[leg.account] += legs.pnl[k]
            if leg.price_key in legs.absent and leg.price_key not in waits[leg.account]:
                waits[leg.account].append(leg.price_key)
    surplus = {name: layout.cross_wallet[name] + total for name, total in cross_sum.items()}
    balance = {name: layout.cross_wallet[name] + total for name, total in cross_pnl.items()}
    # Maintenance as balance less surplus (as the vectorised path): the ratio is exactly 1 where the surplus is 0.
    maintenance = {name: balance[name] - surplus[name] for name in surplus}
    with_cross = {leg.account for leg in layout.legs if leg.cross}
    ratio = {
        name: _ratio(maintenance[name], balance[name]) if name in with_cross and not waits[name] else None
        for name in layout.cross_wallet
    }
    return _CrossFigures(surplus, balance, maintenance, waits, ratio)


def _liquidations(
    layout: BookLayout, legs: _LegFigures, cross: _CrossFigures
) -> list[tuple[float | None, float | None]]:
    """(liquidation price, distance to it) of each leg, in layout.legs order; (None, None) where unknowable."""
    liquidation: list[tuple[float | None, float | None]] = [(None, None)] * len(layout.legs)
    for members in layout.groups:
        first = layout.legs[members[0]]
        if first.cross:
            if cross.waits[first.account]:
                continue
            backing = cross.surplus[first.account] - sum(legs.pnl[k] - legs.mm[k] for k in members)
        else:
            backing = first.collateral
        mark = legs.mark_of[first.price_key]
        if not math.isfinite(mark):
            continue
        group = [layout.legs[k].leg for k in members]
        liq = liquidation_price(group, backing, mark, first.inverse)
        # A cross leg is safe exactly when its cross account is: the two can never disagree.
        safe = (
            cross.surplus[first.account] > 0
            if first.cross
            else margin_surplus(group, backing, to_z(mark, first.inverse)) > 0
        )
        for k in members:
            liquidation[k] = (liq, distance_to_liquidation(mark, liq, safe))
    return liquidation


def _position_risk(
    book: Book,
    layout: BookLayout,
    legs: _LegFigures,
    cross: _CrossFigures,
    liquidation: tuple[float | None, float | None],
    i: int,
    position: Position,
) -> PositionRisk:
    """The figures of book.positions[i]: its share of its leg's, and its leg's liquidation."""
    k = layout.leg_of_position[i]
    leg = layout.legs[k]
    e = layout.exposures[i]
    notional = e.nu * legs.z[k]
    upnl = e.pnl_slope * legs.z[k] + e.pnl_offset
    maintenance = legs.mm[k] * (e.nu / leg.leg.nu)
    initial = notional / position.leverage
    liq, distance = liquidation
    missing = ""
    if leg.price_key in legs.absent:
        missing = no_mark_reason(leg.price_key)
    elif leg.cross and cross.waits[position.account]:
        missing = cross_waits_reason(cross.waits[position.account])
    elif not _finite(notional, upnl, maintenance, initial) or (
        leg.cross and not math.isfinite(cross.surplus[position.account])
    ):
        missing = OVERFLOW_REASON
        liq = distance = None
    ratio = cross.ratio[position.account] if leg.cross else _ratio(maintenance, position.isolated_margin + upnl)
    base = fixed_roe_base(e, position, book.market_of(position), profile_of(book.account(position.account)))
    base = initial if base is None else base
    roe = upnl / base if _finite(upnl, base) and base > 0 else NAN
    return PositionRisk(
        position=position,
        mark_price=legs.mark_of[leg.price_key],
        notional=notional,
        unrealized_pnl=upnl,
        roe=roe,
        initial_margin=initial,
        maintenance_margin=maintenance,
        liquidation_price=liq,
        distance_to_liquidation=distance,
        margin_ratio=ratio,
        missing=missing,
    )


def _account_risk(
    account: Account,
    mine: list[PositionRisk],
    layout: BookLayout,
    absent: list[PriceKey],
    cross: _CrossFigures,
) -> AccountRisk:
    """The figures of one account from those of its positions (mine, in book order) and its cross sums."""
    name, exchange = account.name, account.exchange
    crossed = [r for r in mine if r.position.margin_mode is MarginMode.CROSS]
    upnl = sum(r.unrealized_pnl for r in mine)
    available = layout.cross_wallet[name] + sum(r.unrealized_pnl - r.initial_margin for r in crossed)
    unpriced = [k for k in dict.fromkeys((exchange, r.position.symbol) for r in mine) if k in absent]
    missing = ""
    if unpriced:
        missing = "incomplete: " + "; ".join(no_mark_reason(k) for k in unpriced)
    elif any(r.missing for r in mine):
        missing = "incomplete: " + OVERFLOW_REASON
    return AccountRisk(
        account=account,
        wallet_balance=account.wallet_balance,
        unrealized_pnl=upnl,
        equity=account.wallet_balance + upnl,
        initial_margin=sum(r.initial_margin for r in mine),
        maintenance_margin=sum(r.maintenance_margin for r in mine),
        margin_ratio=cross.ratio[name],
        available_balance=NAN if math.isnan(available) else max(0.0, available),
        estimate=profile_for(account.exchange).estimate,
        cross_margin_balance=cross.balance[name] if crossed else NAN,
        cross_maintenance_margin=cross.maintenance[name] if crossed else NAN,
        has_cross=bool(crossed),
        liquidated=bool(crossed) and not cross.waits[name] and cross.surplus[name] <= 0,
        missing=missing,
    )


def evaluate_priced_accounts(book: Book, prices: Mapping[PriceKey, float]) -> tuple[BookRisk, list[PriceKey]]:
    """Risk of every position and account whatever marks have arrived, and the keys still missing.

    Accounts are independent in the margin equation, and within an account an isolated position depends
    on its own mark only: everything that can be computed is, and what cannot is NaN/None with its reason
    (evaluate_book with missing_ok). Nothing is shown on a made-up price, and no position is hidden.
    """
    missing = [key for key in book.price_keys() if key not in prices]
    return evaluate_book(book, prices, missing_ok=True), missing
