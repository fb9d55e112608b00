"""Numbers as a user types them into a form, a dialog or a table cell: one reading everywhere.

ASCII digits only (float() would also take other scripts' digits, "nan" and "inf"); a comma is taken
only as a thousands separator ('61,000.50', as the tables show numbers), so '1,5', which is 1.5 in half
the world and 15 in the other half, is refused rather than guessed at.
"""

from __future__ import annotations

import math
import re

PROBLEM_STYLE = "color: #b00020"
"""How a field's problem message looks, on the dark and the light theme."""

_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


class NotANumber(ValueError):
    """The text is not a finite number; the message says why in words, ready to show."""


def shown(text: str, limit: int = 24) -> str:
    """Typed text quoted in a message, cut short so a pasted novel does not stretch the dialog."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_number(text: str, what: str) -> float:
    """A finite number typed as text ('61,000.50', '-3', '1e-5'); NotANumber naming `what` otherwise."""
    text = text.strip()
    if not text:
        raise NotANumber(f"enter {what}")
    if not _NUMBER.fullmatch(text):
        if "," in text:
            raise NotANumber(f"'{shown(text)}' is not a number: use a dot for decimals (commas only between thousands)")
        raise NotANumber(f"'{shown(text)}' is not a number")
    value = float(text.replace(",", ""))
    if not math.isfinite(value):
        raise NotANumber(f"{what} is too large: enter a finite number")
    return value


def parse_number(text: str, what: str) -> tuple[float | None, str | None]:
    """(value, None) for a finite number typed as text, else (None, a message naming `what`)."""
    try:
        return read_number(text, what), None
    except NotANumber as e:
        return None, str(e)


def number_text(value: float) -> str:
    """A float as text that reads back to the same float (no digits lost, no trailing '.0')."""
    text = repr(float(value))
    return text.removesuffix(".0")
