"""What a number is, as a person types it: one reading for the forms, the CSV reader, the prices dock and the CLI.

The grammar (decided once, here):

- ASCII digits only. Python's float() also takes other scripts' digits ('١٢٣'), underscores ('1_000'),
  'nan' and 'inf'; none of these is a number a trader types into a price field, and a pasted '١٢٣' that reads
  as 123 in one door and is refused in another is the bug this module removes. They are refused: "is not a
  number".
- A comma is only a thousands separator, in groups of three ('61,000.50', as the tables show numbers). '1,5',
  which is 1.5 in half the world and 15 in the other half, is refused rather than guessed at.
- A dot for decimals, an optional sign, an optional exponent ('1e-5'); spaces around the number are ignored.
- The value is finite: '1e999' overflows to infinity and is refused as too large.

Every door reads through read_number (or read_positive) and adds its own framing: a field message in a form,
'line N, column: …' in the CSV reader, exit 2 in the CLI.
"""

from __future__ import annotations

import math
import re

_NUMBER = re.compile(r"[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


class NotANumber(ValueError):
    """The text is not a finite number (or not one above 0 for read_positive); the message says why in words."""


def shown(text: str, limit: int = 24) -> str:
    """Typed text quoted in a message, cut short so a pasted novel does not stretch the message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_number(text: str, what: str) -> float:
    """A finite number typed as text ('61,000.50', '-3', '1e-5') as a float.

    what: the field in words ('the trade price'), used in the messages. Raises NotANumber: "enter {what}" for
    empty text, "'…' is not a number" (with a hint when a comma is misplaced), "{what} is too large" for an
    overflow to infinity.
    """
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


def read_positive(text: str, what: str) -> float:
    """read_number, and greater than 0: NotANumber "{what} must be greater than 0" otherwise ('-0' included)."""
    value = read_number(text, what)
    if not value > 0:
        raise NotANumber(f"{what} must be greater than 0")
    return value


def read_count(text: str, what: str) -> int:
    """read_positive, and whole ('12', '1,000', '1e3'): NotANumber "{what} must be a whole number" otherwise."""
    value = read_positive(text, what)
    if not value.is_integer():
        raise NotANumber(f"{what} must be a whole number")
    return int(value)


def number_text(value: float) -> str:
    """A float as text that read_number reads back to the same float: no digits lost, no grouping, no trailing
    '.0' ('91250' for 91250.0, '0.30000000000000004'). For the CSV export and a form's starting text."""
    return repr(float(value)).removesuffix(".0")
