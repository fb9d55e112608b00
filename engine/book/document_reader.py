"""Reading a decoded portfolio document into typed values, collecting every problem instead of stopping.

The JSON decoder hooks (repeated keys kept for the reader to name, integer literals too long to convert kept
as their length) and _Reader, which turns each key of an object into a float, a string, a choice or a flag,
adding a Violation (engine.book.book_rules) for each key that is unknown, repeated, missing or of the wrong kind.
Whether the values make a valid book is engine.book.book_rules' question, not this module's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from engine.book.book_rules import Violation, text_problem, unknown_key
from engine.book.safe_text import printable
from engine.margin.model import inverse_by_symbol, settle_currency_of


class HugeInt(float):
    """An integer literal too long to convert (Python refuses over 4,300 digits): kept as its length."""

    digits: int

    def __new__(cls, digits: int) -> HugeInt:
        value = super().__new__(cls, math.inf)
        value.digits = digits
        return value


class _Duplicated(dict):
    """A JSON object that repeated a key: the keys, so the parser can name them where they are."""

    duplicates: list[str]


def json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):  # no key repeated: the common case, without a loop in Python
        return out
    out = {}
    duplicates = []
    for key, value in pairs:
        if key in out:
            duplicates.append(key)
        out[key] = value
    if duplicates:
        marked = _Duplicated(out)
        marked.duplicates = duplicates
        return marked
    return out


def json_int(text: str) -> float | int:
    # Python refuses to convert integer literals over 4,300 digits (a traceback from json.loads); no
    # portfolio number needs more than 309 digits (beyond that a float is inf anyway).
    return int(text) if len(text) <= 400 else HugeInt(len(text.lstrip("-")))


def shown(value: Any) -> str:
    """A JSON value quoted in a message, short and printable, whatever it holds (a nested list is 'a list')."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, HugeInt):
        return f"an integer of {value.digits} digits"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)
    return printable(text if len(text) <= 60 else text[:57] + "...")


@cache
def _members(enum: type) -> dict[str, Any]:
    """An enum's members by value (for string values): a dict lookup instead of Enum(value), the same member."""
    return {m.value: m for m in enum if isinstance(m.value, str)}  # type: ignore[attr-defined]


class Reader:
    """Turns the decoded document into typed values, collecting a Violation for each bad key or value."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def add(self, field_name: str, where: int | str | None, message: str) -> None:
        self.violations.append(Violation(field_name, where, message))

    def keys(self, item: Mapping[str, Any], known: Sequence[str], what: str, where: int | str | None) -> None:
        for key in item:
            if key not in known:
                self.add(key, where, unknown_key(key, known, what))
        for key in getattr(item, "duplicates", ()):
            self.add(key, where, f"'{printable(key)}' is given twice; keep one")

    def number(
        self,
        item: Mapping[str, Any],
        key: str,
        where: int | str | None,
        *,
        positive: bool = False,
        non_negative: bool = False,
        default: float | None = None,
        prefix: str = "",
    ) -> float | None:
        value = item.get(key)
        if type(value) is float and math.isfinite(value):  # the common case first: a finite float
            if (positive and value <= 0) or (non_negative and value < 0):
                return self._out_of_bounds(key, where, value, positive, prefix)
            return value
        label = f"{prefix}'{printable(key)}'"
        if value is None:
            if default is not None:
                return default
            self.add(key, where, f"missing field {label}")
            return None
        if isinstance(value, HugeInt):
            self.add(key, where, f"{label} is an integer of {value.digits} digits: out of range")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(key, where, f"{label} must be a number, not {shown(value)}")
            return None
        try:
            value = float(value)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            self.add(key, where, f"{label} must be a finite number")
            return None
        if (positive and value <= 0) or (non_negative and value < 0):
            return self._out_of_bounds(key, where, value, positive, prefix)
        return value

    def _out_of_bounds(self, key: str, where: int | str | None, value: float, positive: bool, prefix: str) -> None:
        """Add the violation of a number that is not > 0 (positive) or is < 0 (else)."""
        label = f"{prefix}'{printable(key)}'"
        if positive:
            self.add(key, where, f"{label} must be greater than 0 (got {value:g})")
        else:
            self.add(key, where, f"{label} must not be negative (got {value:g})")

    def text(
        self, item: Mapping[str, Any], key: str, where: int | str | None, default: str | None = None
    ) -> str | None:
        value = item.get(key, default)
        if type(value) is str and value.isascii() and (default is not None or (value and not value.isspace())):
            return value  # the common case: text_problem finds nothing in ASCII text that is not blank
        if value is None:
            self.add(key, where, f"missing field '{key}'")
            return None
        if not isinstance(value, str):
            self.add(key, where, f"'{key}' must be a string, not {shown(value)}")
            return None
        problem = text_problem(value, empty_ok=default is not None)
        if problem:
            self.add(key, where, f"'{key}' {problem}")
            return None
        return value

    def choice(
        self, item: Mapping[str, Any], key: str, where: int | str | None, enum: type, default: Any = None
    ) -> Any:
        raw = item.get(key, default.value if default is not None else None)
        if raw is None:
            self.add(key, where, f"missing field '{key}'")
            return None
        member = _members(enum).get(raw) if isinstance(raw, str) else None
        if member is not None:
            return member
        try:
            return enum(raw)
        except (ValueError, TypeError):
            allowed = " or ".join(f"'{e.value}'" for e in enum)
            self.add(key, where, f"'{key}' must be {allowed}, not {shown(raw)}")
            return None

    def flag(self, item: Mapping[str, Any], key: str, where: int | str | None) -> bool | None:
        value = item.get(key, False)
        if not isinstance(value, bool):
            self.add(key, where, f"'{key}' must be true or false, not {shown(value)}")
            return None
        return value


def market_inverse(reader: Reader, item: Mapping[str, Any], symbol: str, where: str) -> bool | None:
    """A market's 'inverse': what its symbol says when the entry leaves it out (BTC/USD:BTC settles in its
    base currency: inverse), and an error when the entry contradicts the symbol (a linear contract taken as
    inverse, or the reverse, gives every figure in the wrong currency and a wrong liquidation price)."""
    by_symbol = inverse_by_symbol(symbol)
    if "inverse" not in item:
        return bool(by_symbol)
    inverse = reader.flag(item, "inverse", None)
    if inverse is not None and by_symbol is not None and inverse != by_symbol:
        settle = settle_currency_of(symbol)
        kind = "an inverse contract (settled in its base currency)" if by_symbol else "a linear contract"
        reader.add(
            f"{where}.inverse",
            None,
            f"{where}: 'inverse' is {str(inverse).lower()}, but {symbol} settles in {settle}: {kind}",
        )
        return None
    return inverse
