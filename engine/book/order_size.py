"""An order's size typed in one of three units, turned into contracts on the market's lot.

The units, as exchanges' order forms offer them:

- "contracts": the number of contracts itself.
- "quote": the order's notional in the quote currency at the trade price ("5,000 USDT"). Linear:
  contracts = notional / (price x contract_size), a contract being contract_size base units worth
  price x contract_size quote. Inverse: a contract is contract_size USD whatever the price, so
  contracts = notional (USD) / contract_size.
- "percent": a percentage of the account's available balance spent as the order's initial margin, as the size
  slider of Binance's and Bybit's futures order forms sets it ("percentage of available"): margin =
  percent / 100 x available balance (settlement currency), notional = margin x the trade's leverage
  (the slider's cost-to-quantity rule; fees and the open loss the exchange also reserves are left out).
  Linear: contracts = margin x leverage / (price x contract_size). Inverse: the margin is in the coin,
  notional (USD) = margin x leverage x price, contracts = notional / contract_size.
  When the trade reduces a position, a percentage is of the contracts held instead ("% of position", as the
  exchanges' close/reduce sliders): contracts = percent / 100 x held.

Whatever the unit, the contracts are then truncated to the lot (engine.book.increments.round_down_to_lot): an
order never opens more than asked. Below one lot, or below the market's minimum order, the size is refused
with the reason (SizeRefused, field 'contracts'). The conversions divide in Decimal from each number as typed
(its shortest repr), so a notional that is an exact multiple of the lot keeps it: 3,535.73 USDT at 3,214.3 is
1.1 contracts, not 1.0999999999999999 truncated to 1.099; the form says "fees not reserved" (the percent
rule leaves them out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Context, Decimal, InvalidOperation
from typing import Literal

from engine.book.formats import contracts as contracts_text
from engine.book.formats import money
from engine.book.increments import round_down_to_lot, step_text
from engine.margin.model import MarketSpec

SizeUnit = Literal["contracts", "quote", "percent"]
SIZE_UNITS: tuple[SizeUnit, ...] = ("contracts", "quote", "percent")


class SizeRefused(ValueError):
    """The size as typed cannot be ordered; the message says why. field: the input it is about ('contracts')."""

    field = "contracts"


@dataclass(frozen=True, slots=True)
class OrderSize:
    """A size as the order would go out: contracts on the lot; asked: the contracts the typed amount gives before
    rounding; lot_size: the market's (0 unknown, nothing rounded)."""

    contracts: float
    asked: float
    lot_size: float
    of_position: bool = False
    """True for a percentage of the contracts held (a reduce), which reserves no fees."""

    @property
    def rounded(self) -> bool:
        """True when rounding down to the lot changed the contracts."""
        return self.contracts != self.asked

    def text(self, unit: SizeUnit) -> str:
        """What the form shows beside the size: '= 0.082 contracts, rounded to lot 0.001' for a size typed in
        quote or percent (percent adds '; fees not reserved': the exchange's slider also keeps the fees back); for
        typed contracts only the rounding, '' when there was none."""
        lot = step_text(self.lot_size)
        if unit == "contracts":
            return f"rounded to lot {lot}: {contracts_text(self.contracts, '.12g')}" if self.rounded else ""
        said = f"= {contracts_text(self.contracts, '.12g')}"
        if self.rounded:
            said = f"{said}, rounded to lot {lot}"
        elif self.lot_size <= 0:
            said = f"{said} (lot unknown: not rounded)"
        return f"{said}; fees not reserved" if unit == "percent" and not self.of_position else said


_EXACT = Context(prec=34)  # our own context: ccxt changes the global one (rounding, traps) when imported


def _d(x: float) -> Decimal:
    return Decimal(repr(float(x)))


def _quotient(numerator: Decimal, denominator: Decimal) -> float:
    """numerator / denominator in Decimal, as a float; inf for a zero denominator, nan where Decimal refuses."""
    if denominator == 0:
        return math.inf
    try:
        return float(_EXACT.divide(numerator, denominator))
    except (ArithmeticError, InvalidOperation):
        return math.nan


def contracts_for_notional(notional: float, market: MarketSpec, price: float) -> float:
    """Contracts worth `notional` in the quote currency at `price` (see the module docstring; not rounded;
    divided in Decimal). inf when price or the contract size is 0."""
    if not all(math.isfinite(x) for x in (notional, price, market.contract_size)):
        return math.nan
    if market.inverse:
        return _quotient(_d(notional), _d(market.contract_size))
    return _quotient(_d(notional), _EXACT.multiply(_d(price), _d(market.contract_size)))


def contracts_for_percent(
    percent: float, available_balance: float, leverage: float, market: MarketSpec, price: float
) -> float:
    """Contracts whose initial margin at `leverage` is `percent` % of available_balance (settlement currency) at
    `price` (see the module docstring; not rounded)."""
    if not all(math.isfinite(x) for x in (percent, available_balance, leverage, price, market.contract_size)):
        return math.nan
    margin = _EXACT.divide(_EXACT.multiply(_d(percent), _d(available_balance)), Decimal(100))
    notional_settle = _EXACT.multiply(margin, _d(leverage))
    if market.inverse:  # settlement is the coin: the USD notional is the coin amount at the price
        return _quotient(_EXACT.multiply(notional_settle, _d(price)), _d(market.contract_size))
    return _quotient(notional_settle, _EXACT.multiply(_d(price), _d(market.contract_size)))


def order_size(
    amount: float,
    unit: SizeUnit,
    market: MarketSpec,
    price: float,
    leverage: float = 0.0,
    available_balance: float | None = None,
    currency: str = "",
    held: float | None = None,
) -> OrderSize:
    """The order of `amount` in `unit` on `market` at `price` (quote currency, > 0): contracts truncated to the
    lot. leverage and available_balance (settlement currency, `currency`) are needed for 'percent' only;
    held: the contracts of the position a reduce trades, which a 'percent' is then a share of instead.

    Raises SizeRefused naming the reason: a price that is not above 0 (for quote and percent), a percentage over
    100 or without an available balance, a size below one lot or below the market's minimum order
    (min_contracts). ValueError for an unknown unit.
    """
    if unit != "contracts" and not (math.isfinite(price) and price > 0):
        raise SizeRefused("a size in this unit needs a trade price above 0")
    if unit == "contracts":
        asked = amount
    elif unit == "quote":
        asked = contracts_for_notional(amount, market, price)
    elif unit == "percent" and held is not None:
        if amount > 100:
            raise SizeRefused("at most 100% of the position")
        asked = _quotient(_EXACT.multiply(_d(amount), _d(held)), Decimal(100))
    elif unit == "percent":
        if amount > 100:
            raise SizeRefused("at most 100% of the available balance")
        if available_balance is None or not available_balance > 0:
            shown = money(available_balance or 0.0, currency)
            raise SizeRefused(f"the account has no available balance to take a percentage of ({shown})")
        asked = contracts_for_percent(amount, available_balance, leverage, market, price)
    else:
        raise ValueError(f"not a size unit: {unit!r}")
    if not math.isfinite(asked) or asked <= 0:
        raise SizeRefused("this size gives no contracts at this price")
    contracts = round_down_to_lot(asked, market.lot_size)
    minimum = max(market.min_contracts, market.lot_size)
    if contracts < minimum or contracts <= 0:
        shown = f"{asked:.3g}"
        if float(shown) >= minimum:  # three figures would read as the minimum itself: show them all
            shown = f"{asked:.12g}"
        said = f"{shown} contract{'' if float(shown) == 1 else 's'}"
        if 0 < contracts != asked:
            said += f" (on the lot of {step_text(market.lot_size)}: {contracts:.12g})"
        least = f"{step_text(minimum)} contract{'' if minimum == 1 else 's'}"
        raise SizeRefused(f"{said} is below the market's minimum order of {least}")
    return OrderSize(contracts, asked, market.lot_size, of_position=unit == "percent" and held is not None)
