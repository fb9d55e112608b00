"""Price-level alert rules: "tell me when BTC/USDT:USDT on binanceusdm marks below 85,000" (issue 18).

A rule names a price key of the book (engine.margin.model.PriceKey: exchange id, unified symbol), a direction
(above / below), a level price in the contract's quote currency and an optional note (left out, null or "":
none). One validator,
price_alert_violations, checks a rule for every door: the portfolio file's optional top-level `price_alerts`
list, the setting saved with the book, the window's dialog. The tracker that fires them is
engine.monitor.price_alerts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.book.book_rules import text_problem
from engine.book.document_reader import shown
from engine.book.formats import price
from engine.book.number_bounds import stop_price_problem
from engine.book.safe_text import printable
from engine.book.violation import Violation
from engine.margin.model import PriceKey, quote_currency_of

PRICE_ALERTS_SETTING = "price_alerts"
"""The saved book's setting (engine.storage.settings) holding the rules: the file's `price_alerts` list as JSON."""
PRICE_ALERT_KEYS = ("exchange", "symbol", "direction", "price", "note")
MAX_NOTE = 200
MAX_PRICE_ALERTS = 1_000
"""More rules than this are refused: each may alert at start-up, and channels send about 20 a minute."""
"""Characters of a note (it is sent in every channel's text)."""


class Direction(StrEnum):
    """Which side of the level fires: the mark at or above it, or at or below it."""

    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True, slots=True)
class PriceAlert:
    """One rule. exchange: ccxt id; symbol: ccxt unified symbol; price: the level in the symbol's quote currency
    (finite, > 0, within the bounds of an entry price: engine.book.number_bounds); note: the user's words."""

    exchange: str
    symbol: str
    direction: Direction
    price: float
    note: str = ""

    @property
    def key(self) -> PriceKey:
        """The price key whose mark the rule watches."""
        return (self.exchange, self.symbol)

    @property
    def quote_currency(self) -> str:
        return quote_currency_of(self.symbol)

    def level_text(self) -> str:
        """'below 85,000.00 USDT'."""
        return f"{self.direction.value} {price(self.price)} {self.quote_currency}".rstrip()

    def subject(self) -> str:
        """'BTC/USDT:USDT on binanceusdm' (with ' (note)' when there is one): who the alert is about."""
        note = f" ({printable(self.note)})" if self.note else ""
        return f"{printable(self.symbol)} on {printable(self.exchange)}{note}"

    def to_dict(self) -> dict[str, Any]:
        """The rule as the file and the setting write it (note left out when empty)."""
        item: dict[str, Any] = {
            "exchange": self.exchange,
            "symbol": self.symbol,
            "direction": self.direction.value,
            "price": self.price,
        }
        if self.note:
            item["note"] = self.note
        return item


def price_alert_violations(item: Any, index: int = 0) -> tuple[PriceAlert | None, list[Violation]]:
    """Check one rule as decoded JSON (a mapping of PRICE_ALERT_KEYS): the rule, or None with every problem.

    index: the rule's place in its list (0-based), named in the messages: "price alert 2: 'price' must be a
    price greater than 0 (got -5)". Violation.field is the key ('price'), where None (the document)."""
    label = f"price alert {index + 1}"
    if not isinstance(item, Mapping):
        return None, [Violation("price_alerts", None, f"{label}: must be an object, not {shown(item)}")]
    problems: list[Violation] = []

    def add(key: str, message: str) -> None:
        problems.append(Violation(key, None, f"{label}: '{key}' {message}"))

    for key in item:
        if key not in PRICE_ALERT_KEYS:
            add(str(key), "is not a field of a price alert (" + ", ".join(PRICE_ALERT_KEYS) + ")")
    texts: dict[str, str] = {}
    for key in ("exchange", "symbol", "note"):
        value = item.get(key)
        if key == "note" and value is None:  # optional: left out or null is no note
            value = ""
        if not isinstance(value, str):
            add(key, "is missing" if value is None else f"must be a string, not {shown(value)}")
            continue
        problem = text_problem(value, empty_ok=key == "note")
        if problem is None and len(value) > MAX_NOTE:
            problem = f"is longer than {MAX_NOTE} characters"
        if problem:
            add(key, problem)
        texts[key] = value.strip().lower() if key == "exchange" else value.strip()  # ccxt ids are lower case
    direction = item.get("direction")
    if direction not in ("above", "below"):
        add(
            "direction",
            f"must be 'above' or 'below', not {shown(direction)}" if direction is not None else "is missing",
        )
    level = item.get("price")
    problem = price_problem(level)
    if problem:
        add("price", problem)
    if problems:
        return None, problems
    return PriceAlert(texts["exchange"], texts["symbol"], Direction(direction), float(level), texts["note"]), []


def price_problem(value: Any) -> str | None:
    """Why a level price cannot be used, in words (missing, not a number, not finite, not > 0, out of the bounds
    of an entry price), or None."""
    if value is None:
        return "is missing"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number, not {shown(value)}"
    try:
        return stop_price_problem(float(value))
    except OverflowError:
        return "must be a finite number"


def read_price_alerts(raw: Any) -> tuple[list[PriceAlert], list[Violation]]:
    """The rules of a `price_alerts` list (absent: None or []), and every problem (none kept when any is bad:
    a list is used whole or not at all)."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [Violation("price_alerts", None, f"'price_alerts' must be a list, not {shown(raw)}")]
    if len(raw) > MAX_PRICE_ALERTS:
        message = f"'price_alerts' holds {len(raw):,} rules; at most {MAX_PRICE_ALERTS:,}"
        return [], [Violation("price_alerts", None, message)]
    rules: list[PriceAlert] = []
    problems: list[Violation] = []
    for i, item in enumerate(raw):
        rule, found = price_alert_violations(item, i)
        problems += found
        if rule is not None:
            rules.append(rule)
    return ([], problems) if problems else (rules, [])


def price_alerts_to_list(rules: Sequence[PriceAlert]) -> list[dict[str, Any]]:
    """The rules as the file's `price_alerts` list and the saved setting hold them."""
    return [rule.to_dict() for rule in rules]


def price_alerts_from_setting(value: Any) -> tuple[PriceAlert, ...]:
    """The rules saved with the book (PRICE_ALERTS_SETTING); a saved value that does not read (an edited or
    newer file) gives none rather than half of them."""
    rules, problems = read_price_alerts(value)
    return () if problems else tuple(rules)
