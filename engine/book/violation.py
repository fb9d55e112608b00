"""A broken book rule, as every check reports it: the field it is about, where in the book, and one sentence.

engine.book.book_rules and engine.book.number_bounds make them; each door (the portfolio file, CSV import, the
forms, what-if, the command line) shows them its own way.
"""

from __future__ import annotations

from typing import NamedTuple


class Violation(NamedTuple):
    """One broken rule.

    field: the input it is about ('leverage', 'wallet_balance', 'symbol'; a key path such as
    'markets.X/USDT:USDT.tiers[2].min_notional' at the top level). where: the position's index in the book
    (int), the account's name (str), or None for the document itself. message: one sentence, starting with
    the quoted field where it names one; '{other}' in it stands for another position, `other` (its index),
    which each door names its own way (position 3, line 7 of the CSV, position 3 of the book).
    """

    field: str
    where: int | str | None
    message: str
    other: int | None = None

    def text(self, other_label: str | None = None) -> str:
        """The message with {other} filled in (default: 'position N')."""
        if self.other is None:
            return self.message
        return self.message.replace("{other}", other_label or f"position {self.other + 1}")

    def bare(self, other_label: str | None = None) -> str:
        """The message without its leading "'field' ", for a door that shows it beside that field."""
        return self.text(other_label).removeprefix(f"'{self.field}' ")
