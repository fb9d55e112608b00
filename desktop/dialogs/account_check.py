"""The outcome of checking the account form (validate_account_input, check_link): free of widgets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from engine.margin.model import Account, Book


@dataclass(frozen=True)
class AccountCheck:
    """The outcome of checking the form: an account and its book, or a message per field in trouble."""

    messages: Mapping[str, str]
    hints: Mapping[str, str] = field(default_factory=dict)
    account: Account | None = None
    book: Book | None = None
    """The book with the account added (at the end) or replaced (at its index), positions renamed."""
    index: int | None = None

    @property
    def ok(self) -> bool:
        return not self.messages and self.book is not None
