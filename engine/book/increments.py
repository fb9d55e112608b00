"""A market's increments: a price on its tick, contracts on its lot, as ccxt rounds an order before sending it.

ccxt's create_order passes the price through price_to_precision (to the nearest tick) and the amount through
amount_to_precision (truncated to the lot); both call ccxt's decimal_to_precision, which works in Decimal.
These functions call it with the market's tick and lot (MarketSpec.tick_size, lot_size; counting mode
TICK_SIZE), so a what-if prices and sizes a trade exactly as the order would go out: 61234.56 on a 0.1 tick
is 61234.6, never 61234.600000001. A step of 0 means unknown: nothing is rounded.
"""

from __future__ import annotations

import math
from decimal import Decimal


def _to_step(value: float, step: float, mode: str) -> float:
    # ccxt is imported here, not at the top: importing the package costs ~0.3 s, and the command line's
    # engine imports must not pay it for a form they never open.
    from ccxt.base.decimal_to_precision import NO_PADDING, ROUND, TICK_SIZE, TRUNCATE, decimal_to_precision

    rounding = ROUND if mode == "nearest" else TRUNCATE
    try:
        return float(decimal_to_precision(value, rounding, step, TICK_SIZE, NO_PADDING))
    except ArithmeticError:  # decimal's DivisionImpossible: a value over ~1e25 steps; left as it is
        return value


def _usable(value: float, step: float) -> bool:
    return step > 0 and math.isfinite(step) and math.isfinite(value)


def round_to_tick(price: float, tick_size: float) -> float:
    """price (quote currency) rounded to the nearest multiple of tick_size, a half tick rounded up (ccxt's ROUND,
    what price_to_precision sends); price unchanged when tick_size is 0 (unknown) or either is not finite."""
    if not _usable(price, tick_size):
        return price
    return _to_step(price, tick_size, "nearest")


def round_down_to_lot(contracts: float, lot_size: float) -> float:
    """contracts truncated to a multiple of lot_size (ccxt's TRUNCATE, what amount_to_precision sends): never
    more than asked; may give 0 below one lot. Unchanged when lot_size is 0 (unknown) or not finite."""
    if not _usable(contracts, lot_size):
        return contracts
    return _to_step(contracts, lot_size, "down")


def step_text(step: float) -> str:
    """An increment as written, without exponent or trailing zeros: 1e-05 -> '0.00001', 0.10 -> '0.1', 25 -> '25'."""
    return format(Decimal(repr(float(step))).normalize(), "f")
