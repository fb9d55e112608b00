"""How the numbers of a book are shown: one set of formatters for the terminal report, the window and the dialogs.

Money carries its settlement currency and a price its quote currency (see the guide: a number shown carries
its unit). Non-finite values are shown as '—' (an unknown figure), never as 'inf' or 'nan'. engine.book.numbers
reads what a person types; the text these functions write ('61,000.50') reads back through it.
"""

from __future__ import annotations

import math

STABLE_CURRENCIES = frozenset({"USDT", "USDC", "USD", "BUSD", "FDUSD"})
"""Settlement currencies shown to the cent; any other (a coin of an inverse contract) to six decimals."""


def money_decimals(currency: str) -> int:
    """Decimals a money amount in this currency is shown with: 2 for USD and stablecoins, else 6."""
    return 2 if currency.upper() in STABLE_CURRENCIES else 6


def money(value: float, currency: str) -> str:
    """'1,234.50 USDT', '0.012345 BTC'; '—' when the value is not finite."""
    if not math.isfinite(value):
        return "—"
    return f"{value:,.{money_decimals(currency)}f} {currency}"


def money_at_least(value: float, currency: str) -> str:
    """money() rounded up to its last shown decimal, so that typing the amount shown always meets a minimum."""
    decimals = money_decimals(currency)
    rounded = round(value, decimals)
    if rounded < value:
        rounded += 10.0**-decimals
    return money(rounded, currency)


def price(value: float | None) -> str:
    """'61,000.50' from 100 up, six significant digits below ('0.512345'); 'none' for None, '—' if not finite."""
    if value is None:
        return "none"
    if not math.isfinite(value):
        return "—"
    return f"{value:,.2f}" if value >= 100 else f"{value:,.6g}"


def quoted_price(value: float | None, quote: str) -> str:
    """A price with its quote currency: '61,000.50 USDT'; 'none' for no price, '—' for an unknown one."""
    if value is None or not math.isfinite(value):
        return price(value)
    return f"{price(value)} {quote}".rstrip()


def percent(value: float | None) -> str:
    """A signed fraction as a percentage, '+12.34%' / '-0.50%'; 'n/a' for None or a non-finite value."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value * 100:+.2f}%"


def contracts(count: float, spec: str = "g") -> str:
    """A number of contracts with its unit, singular for exactly one: '1 contract', '0.5 contracts',
    '2 contracts'. spec: the format spec of the number ('.12g' for every digit a lot can have)."""
    return f"{count:{spec}} contract{'' if count == 1 else 's'}"


def beyond(value: float, bound: float) -> str:
    """value in as few significant digits (from 3) as keep it on its side of bound and off it: 1.0000001e15
    against 1e15 is '1.0000001e+15', not the '1e+15' that reads as inside the bound."""
    for digits in range(3, 18):
        text = f"{value:.{digits}g}"
        if (float(text) > bound) == (value > bound) and float(text) != bound:
            return text
    return repr(value)
