"""The bounds on a book's numbers, and the check of one position's numbers against them, its market and its tiers.

engine.book.book_rules asks position_number_violations() for every position and bound_problem() for every
wallet, so every door refuses the same numbers in the same words. The bounds (issue 14: extreme values crashed
the engine or reached the screen as `inf`):

- entry price in [MIN_PRICE, MAX_PRICE] = [1e-12, 1e12] in the quote currency. The cheapest listed
  perpetuals trade near 1e-6 and the dearest near 1e5, so this leaves six orders of magnitude either way;
  a price of 5e-324 (a subnormal) made the notional, hence the initial margin, 0 and ROE divide by zero,
  and 1/price for an inverse contract overflowed.
- entry notional (contracts x contract size x price, settlement currency) in [MIN_NOTIONAL, MAX_NOTIONAL] =
  [1e-12, 1e15] and, for a market with tiers, below the last tier's max_notional: the exchange takes no
  order beyond it (Binance BTC/USDT:USDT stops at 1.8e9 USDT). 1e15 is far above any exchange's largest
  tier and keeps every product the engine forms (notional x rate, PnL at a 1000x move) finite.
- leverage in [MIN_LEVERAGE, MAX_LEVERAGE] = [0.01, 1000]: no exchange offers more than 1000x (nor less
  than 1x, but a market whose max leverage is below 1 exists in the Hyperliquid rate math); 0.01 keeps the
  initial margin (notional / leverage) within 100x the notional. Within those bounds, the market's own
  maximum and the maximum of the tier at the entry notional apply (Binance "Leverage & Margin" table,
  https://www.binance.com/en/futures/trading-rules/perpetual/leverage-margin, read 2026-11-30).
- wallet balance and isolated margin finite, in [0, MAX_WALLET] = 1e15.
- take-profit and stop-loss (optional) in the entry price's bounds. A stop beyond the liquidation price is not
  refused: it is flagged where it is shown (engine.margin.stops).
"""

from __future__ import annotations

import math

from engine.book.formats import beyond, money, money_at_least
from engine.book.violation import Violation
from engine.margin.model import MarginMode, MarketSpec, Position
from engine.margin.tiers import max_leverage_at

MAX_LEVERAGE = 1_000.0
MIN_LEVERAGE = 0.01
MIN_PRICE = 1e-12
MAX_PRICE = 1e12
MIN_NOTIONAL = 1e-12
MAX_NOTIONAL = 1e15
MAX_WALLET = 1e15


def bound_problem(value: float, low: float, high: float, *, low_open: bool = False) -> str | None:
    """Why value is not a finite number in [low, high] ((low, high] with low_open), in words, or None."""
    if not math.isfinite(value):
        return "must be a finite number"
    if low_open and value <= low:
        return f"must be greater than {low:g} (got {value:g})"
    if value < low:
        return f"must be at least {low:g} (got {value:g})" if low else f"must not be negative (got {value:g})"
    if value > high:
        return f"is out of range: at most {high:g} (got {value:g})"
    return None


def price_problem(value: float) -> str | None:
    """Why a price (an entry or a mark, quote currency) is out of bounds, or None (see the module's bounds)."""
    return bound_problem(value, MIN_PRICE, MAX_PRICE)


def stop_price_problem(value: float) -> str | None:
    """Why a take-profit or stop-loss price (quote currency) is refused, or None: a positive finite price within
    the bounds of an entry price."""
    if math.isfinite(value) and value <= 0:
        return f"must be a price greater than 0 (got {value:g})"
    return price_problem(value)


def position_number_violations(
    i: int, p: Position, market: MarketSpec | None, currency: str, opening: bool
) -> list[Violation]:
    """The numbers of book.positions[i]: sizes, prices, leverage against the market and its tiers, margin.

    market: the position's market (None when it has none: only the bounds are checked). currency: the
    account's settlement currency, for the amounts the messages name. opening: the position is being opened
    now, so its isolated margin must cover the initial margin at entry.
    """
    out = _bound_violations(i, p)
    if out or market is None:
        return out
    notional = entry_notional(p, market)
    size = _size_violation(i, p, market, notional, currency)
    if size is not None:
        return [size]
    out += _leverage_violations(i, p, market, notional, currency)
    if opening and p.margin_mode is MarginMode.ISOLATED and not out:
        out += _opening_margin_violations(i, p, notional, currency)
    return out


def entry_notional(p: Position, market: MarketSpec) -> float:
    """The position's notional at its entry price, settlement currency: engine.margin.exposure's
    exposure(p, market).entry_notional, the same product, without making the Exposure. ZeroDivisionError for an
    inverse position at entry 0."""
    size = p.contracts * market.contract_size
    return size * (1.0 / p.entry_price if market.inverse else p.entry_price)


def _bound_violations(i: int, p: Position) -> list[Violation]:
    """The position's numbers against the module's bounds, whatever its market."""
    return [] if _within_bounds(p) else _each_bound_violation(i, p)


def _each_bound_violation(i: int, p: Position) -> list[Violation]:
    """The position's numbers against the module's bounds, one by one, each one that fails named."""
    out = []
    if not (math.isfinite(p.contracts) and p.contracts > 0):
        out.append(Violation("contracts", i, "'contracts' must be a finite number greater than 0"))
    problem = price_problem(p.entry_price)
    if problem:
        out.append(Violation("entry_price", i, f"'entry_price' {problem}"))
    problem = bound_problem(p.leverage, MIN_LEVERAGE, MAX_LEVERAGE)
    if problem and p.leverage > MAX_LEVERAGE and math.isfinite(p.leverage):
        problem = f"{p.leverage:g}× is above {MAX_LEVERAGE:g}×, more than any exchange offers"
    if problem:
        out.append(Violation("leverage", i, f"'leverage' {problem}"))
    for name in ("take_profit", "stop_loss"):
        value = getattr(p, name)
        problem = None if value is None else stop_price_problem(value)
        if problem:
            out.append(Violation(name, i, f"'{name}' {problem}"))
    if p.margin_mode is MarginMode.CROSS and p.isolated_margin:
        out.append(Violation("isolated_margin", i, "'isolated_margin' applies to isolated positions only"))
    if p.margin_mode is MarginMode.ISOLATED:
        problem = bound_problem(p.isolated_margin, 0.0, MAX_WALLET, low_open=True)
        if problem:
            out.append(Violation("isolated_margin", i, f"'isolated_margin' {problem}"))
    return out


def _within_bounds(p: Position) -> bool:
    """The common case, in one pass: every number of the position within the module's bounds (so _bound_violations
    finds nothing: a NaN fails every comparison here and is judged there)."""
    if p.take_profit is not None or p.stop_loss is not None:
        return False
    isolated = p.margin_mode is MarginMode.ISOLATED
    margin_ok = 0.0 < p.isolated_margin <= MAX_WALLET if isolated else not p.isolated_margin
    return (
        margin_ok
        and 0.0 < p.contracts < math.inf
        and MIN_PRICE <= p.entry_price <= MAX_PRICE
        and MIN_LEVERAGE <= p.leverage <= MAX_LEVERAGE
    )


_NOTIONAL = "the entry notional ('contracts' at the entry price)"
"""The subject of the size messages: a whole sentence whether it follows 'position 2: ' or stands beside a field."""


def _size_violation(i: int, p: Position, market: MarketSpec, notional: float, currency: str) -> Violation | None:
    """An entry notional outside the bounds or beyond the market's last tier, or None."""
    last = market.tiers[-1].max_notional
    if not (math.isfinite(notional) and MIN_NOTIONAL <= notional <= MAX_NOTIONAL):
        if not math.isfinite(notional):
            said = "is not a finite number"
        elif notional > MAX_NOTIONAL:
            said = f"of {beyond(notional, MAX_NOTIONAL)} {currency} is over {MAX_NOTIONAL:g} {currency}"
        else:
            said = f"of {beyond(notional, MIN_NOTIONAL)} {currency} is under {MIN_NOTIONAL:g} {currency}"
        return Violation("contracts", i, f"{_NOTIONAL} {said}: not a position any exchange holds")
    if notional >= last:
        return Violation(
            "contracts",
            i,
            f"{_NOTIONAL} of {money(notional, currency)} is beyond the last tier of {p.symbol} "
            f"(up to {money(last, currency)}): the exchange takes no position that large",
        )
    return None


def _leverage_violations(i: int, p: Position, market: MarketSpec, notional: float, currency: str) -> list[Violation]:
    """Leverage above the market's maximum, else above the maximum of the tier at the entry notional."""
    if market.max_leverage and p.leverage > market.max_leverage:
        return [
            Violation(
                "leverage", i, f"'leverage' {p.leverage:g}× is above the market's maximum {market.max_leverage:g}×"
            )
        ]
    bound = max_leverage_at(market, notional)
    if bound and p.leverage > bound:
        return [
            Violation(
                "leverage",
                i,
                f"'leverage' {p.leverage:g}× is above the maximum {bound:g}× at {money(notional, currency)} notional",
            )
        ]
    return []


def _opening_margin_violations(i: int, p: Position, notional: float, currency: str) -> list[Violation]:
    """An isolated position being opened whose margin does not cover the initial margin at entry."""
    required = notional / p.leverage
    if p.isolated_margin < required * (1 - 1e-12):
        return [
            Violation(
                "isolated_margin",
                i,
                f"'isolated_margin' is below the initial margin at entry of {money_at_least(required, currency)} "
                "(entry notional / leverage)",
            )
        ]
    return []
