"""Numbers as a user types them into a form, a dialog or a table cell: engine.book.numbers is the grammar (the
same for the CSV reader, the prices dock and the CLI); this module adds what only a form needs.
"""

from __future__ import annotations

from engine.book.numbers import NotANumber, number_text, read_number, read_positive, shown

__all__ = ["NotANumber", "number_text", "parse_number", "read_number", "read_positive", "shown"]


def parse_number(text: str, what: str) -> tuple[float | None, str | None]:
    """(value, None) for a finite number typed as text, else (None, a message naming `what`)."""
    try:
        return read_number(text, what), None
    except NotANumber as e:
        return None, str(e)
