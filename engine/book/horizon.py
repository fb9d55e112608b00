"""A horizon as a person types it ('24h', '1h', '7d', '90m', '2w'): the window of the probability of liquidation.

A number in the grammar of engine.book.numbers followed by a unit: m (minutes), h (hours), d (days of 24 h),
w (weeks); a bare number is hours. From one minute to one year (365 days).
"""

from __future__ import annotations

import math
import re

from engine.book.numbers import NotANumber, read_positive, shown

HOURS_PER_UNIT = {"m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
MIN_HOURS = 1 / 60
MAX_HOURS = 365 * 24.0
_FORM = re.compile(r"\s*(?P<number>.*?)\s*(?P<unit>[mhdw]?)\s*", re.IGNORECASE | re.DOTALL)


def read_horizon(text: str) -> float:
    """The horizon in hours. Raises NotANumber with the reason in words ("'3x' is not a horizon: ...")."""
    match = _FORM.fullmatch(text)
    unit = match["unit"].lower() if match else ""
    number = match["number"] if match else text
    try:
        value = read_positive(number, "the horizon")
    except NotANumber as e:
        why = "" if "is not a number" in str(e) else f"{e}; "  # else the message would quote the text twice
        raise NotANumber(
            f"'{shown(text)}' is not a horizon: {why}write a number and a unit: 1h, 24h, 7d, 90m"
        ) from None
    hours = value * HOURS_PER_UNIT[unit or "h"]
    if not MIN_HOURS - 1e-12 <= hours <= MAX_HOURS:
        raise NotANumber(f"'{shown(text)}' is not a horizon: it must be from 1 minute to 365 days")
    return hours


def horizon_label(hours: float) -> str:
    """The short form of a horizon for a column title: 24 -> '24h', 168 -> '7d', 0.5 -> '30m', 36 -> '36h'."""
    if hours >= 24 and (hours / 24).is_integer():
        return f"{hours / 24:g}d" if hours != 24 else "24h"
    if hours >= 1:
        return f"{hours:g}h"
    return f"{hours * 60:g}m"


def read_threshold_percent(text: str) -> float:
    """'5', '5%' or '0.5 %' -> 0.05 / 0.005 (a fraction). Raises NotANumber naming the field: above 0 and
    below 100."""
    number = text.strip().removesuffix("%").strip()
    why = f"'{shown(text)}' is not a probability threshold: type a percent above 0 and below 100 (5 = 5%)"
    try:
        value = read_positive(number, "the probability threshold")
    except NotANumber:
        raise NotANumber(why) from None
    if not (math.isfinite(value) and value < 100):
        raise NotANumber(why)
    return value / 100
