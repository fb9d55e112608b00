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

Whatever the unit, the contracts are then truncated to the lot (engine.book.increments.round_down_to_lot): an
order never opens more than asked. Below one lot, or below the market's minimum order, the size is refused
with the reason (SizeRefused, field 'contracts').
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

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

    @property
    def rounded(self) -> bool:
        """True when rounding down to the lot changed the contracts."""
        return self.contracts != self.asked

    def text(self, unit: SizeUnit) -> str:
        """What the form shows beside the size: '= 0.082 contracts, rounded to lot 0.001' for a size typed in
        quote or percent; for typed contracts only the rounding, '' when there was none."""
        lot = step_text(self.lot_size)
        if unit == "contracts":
            return f"rounded to lot {lot}: {self.contracts:.12g} contracts" if self.rounded else ""
        said = f"= {self.contracts:.12g} contracts"
        if self.rounded:
            return f"{said}, rounded to lot {lot}"
        return said if self.lot_size > 0 else f"{said} (lot unknown: not rounded)"


def contracts_for_notional(notional: float, market: MarketSpec, price: float) -> float:
    """Contracts worth `notional` in the quote currency at `price` (see the module docstring; not rounded)."""
    if market.inverse:
        return notional / market.contract_size
    return notional / (price * market.contract_size)


def contracts_for_percent(
    percent: float, available_balance: float, leverage: float, market: MarketSpec, price: float
) -> float:
    """Contracts whose initial margin at `leverage` is `percent` % of available_balance (settlement currency) at
    `price` (see the module docstring; not rounded)."""
    margin = percent / 100.0 * available_balance
    notional_settle = margin * leverage
    if market.inverse:  # settlement is the coin: the USD notional is the coin amount at the price
        return notional_settle * price / market.contract_size
    return notional_settle / (price * market.contract_size)


def order_size(
    amount: float,
    unit: SizeUnit,
    market: MarketSpec,
    price: float,
    leverage: float = 0.0,
    available_balance: float | None = None,
    currency: str = "",
) -> OrderSize:
    """The order of `amount` in `unit` on `market` at `price` (quote currency, > 0): contracts truncated to the
    lot. leverage and available_balance (settlement currency, `currency`) are needed for 'percent' only.

    Raises SizeRefused naming the reason: a percentage over 100 or without an available balance, a size below
    one lot or below the market's minimum order (min_contracts). ValueError for an unknown unit.
    """
    if unit == "contracts":
        asked = amount
    elif unit == "quote":
        asked = contracts_for_notional(amount, market, price)
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
        raise SizeRefused(
            f"{asked:.3g} contracts is below the market's minimum order of {step_text(minimum)} contracts"
        )
    return OrderSize(contracts, asked, market.lot_size)
