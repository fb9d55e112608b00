"""The price alerts dialog's list: one row per rule, with the mark now beside its level.

The symbol, exchange and note are the user's text (a portfolio file can hold anything): shown through
engine.book.safe_text.printable, as the command line prints them, so a control character or a right-to-left
override reads as its escape ('\\x1b', '\\u202e') instead of acting on the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from desktop.tables.text_table_model import TextTableModel
from engine.book.formats import price
from engine.book.price_alert_rules import PriceAlert
from engine.book.safe_text import printable
from engine.margin.model import PriceKey

HEADERS = ("Symbol", "Exchange", "Alert when the mark is", "Mark now", "Note")
NO_PRICE = "no price"
"""What the mark column says for a rule whose symbol has no price (no position or manual price gives it one)."""


def mark_text(rule_key: PriceKey, marks: Mapping[PriceKey, float], quote_currency: str = "") -> str:
    """'90,000.00 USDT', or 'no price' for a key without a mark."""
    mark = marks.get(rule_key)
    return NO_PRICE if mark is None else f"{price(mark)} {quote_currency}".rstrip()


class PriceAlertsModel(TextTableModel):
    """The rules as rows (HEADERS); marks: the real mark of each price key now (quote currency)."""

    def __init__(self, rules: Sequence[PriceAlert] = (), marks: Mapping[PriceKey, float] | None = None) -> None:
        super().__init__(HEADERS, (False, False, True, True, False), [])
        self.rules: list[PriceAlert] = []
        self.marks: dict[PriceKey, float] = dict(marks or {})
        self.set_rules(rules)

    def set_rules(self, rules: Sequence[PriceAlert]) -> None:
        """Show these rules (a changed row count resets the model; same-size edits signal the changed rows)."""
        cells = [
            [
                printable(r.symbol),
                printable(r.exchange),
                r.level_text(),
                mark_text(r.key, self.marks, r.quote_currency),
                printable(r.note),
            ]
            for r in rules
        ]

        def swap() -> None:
            self.rules = list(rules)

        self.replace_cells(cells, swap=swap)
