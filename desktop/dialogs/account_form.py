"""The account form: a new or edited account, checked as it is typed, saved only when valid.

validate_account_input() is the whole check, free of widgets. An edit keeps the book consistent: a
renamed account renames it in its positions, and a changed exchange resolves its positions' markets
on the new exchange (refused, with the symbol named, where that exchange has no tiers for one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from desktop.dialogs.field_grid import FieldGrid
from desktop.dialogs.position_form import rules_label
from desktop.dialogs.typed_numbers import number_text, parse_number, shown
from engine.book.book_rules import build_book
from engine.book.venue_rules import NOT_IN_CCXT, venue_problems
from engine.margin.model import Account, AccountType, Book, MarketSpec, PositionMode, settle_currency_of
from engine.margin.tiers import bundled_table

ACCOUNT_FIELDS = ("name", "exchange", "wallet_balance", "currency", "position_mode", "account_type")
FIELD_TITLES = {
    "name": "Name",
    "exchange": "Exchange (ccxt id)",
    "wallet_balance": "Wallet balance",
    "currency": "Settlement currency",
    "position_mode": "Position mode",
    "account_type": "Account type",
}
"""The form's label of each field."""


def ccxt_exchange_ids() -> list[str]:
    """ccxt's exchange ids (imported here, not at module import: ccxt takes a while to load)."""
    import ccxt

    return list(ccxt.exchanges)


def exchange_hint(exchange: str) -> str:
    """The exchange field's hint: whose margin rules apply, and, where ccxt offers no public price call
    for the exchange (dYdX), that its prices must be typed: said when the account is made, not first
    by a feed that goes offline."""
    from engine.market.feeds.mark_source import price_method_problem

    problem = price_method_problem(exchange)
    return rules_label(exchange) + (f"; {problem}" if problem else "")


def default_currency(exchange: str) -> str:
    """The settlement currency most of the exchange's bundled markets use, else USDT."""
    table = bundled_table(exchange)
    settles = Counter(settle_currency_of(s) for s in table.markets) if table else Counter()
    settles.pop("", None)
    return settles.most_common(1)[0][0] if settles else "USDT"


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


def _exchange_check(exchange: str, known: set[str]) -> tuple[str, str]:
    """(message, hint) for the exchange field as typed: one of them is "" (a ccxt id with its rules, or why not)."""
    if not exchange:
        return "enter a ccxt exchange id, e.g. binanceusdm", ""
    if exchange.lower() in NOT_IN_CCXT:
        return venue_problems(Account("", exchange, 0.0))[0][1], ""
    if exchange not in known:
        close = next((e for e in known if e.lower() == exchange.lower()), None)
        return f"'{shown(exchange)}' is not a ccxt exchange id" + (f"; did you mean '{close}'?" if close else ""), ""
    return "", exchange_hint(exchange)


def _choice(typed: str, enum: type, default: object, refusal: str, messages: dict[str, str], name: str) -> Any:
    """The member of enum typed (default when nothing is typed, if there is one), or None with messages[name] set."""
    try:
        return enum(typed.strip().lower() or getattr(default, "value", ""))
    except ValueError:
        messages[name] = refusal
        return None


def validate_account_input(
    book: Book,
    fields: Mapping[str, object],
    *,
    index: int | None = None,
    exchanges: Sequence[str] | None = None,
    market_overrides: Mapping[str, MarketSpec] | None = None,
) -> AccountCheck:
    """Check the form's fields (strings, as typed) against the book; never raises on any text.

    index: the account being edited in book.accounts, None for a new one. exchanges: the exchange ids
    accepted (default: ccxt's). market_overrides: the portfolio file's `markets`, used to resolve the
    positions' markets when the exchange changes.
    """
    if index is not None and not 0 <= index < len(book.accounts):
        raise IndexError(f"the book has no account {index}")

    def text(name: str) -> str:
        value = fields.get(name, "")
        return value if isinstance(value, str) else str(value)

    known = set(ccxt_exchange_ids() if exchanges is None else exchanges)
    old = book.accounts[index] if index is not None else None
    held = [(i, p) for i, p in enumerate(book.positions) if old is not None and p.account == old.name]
    messages: dict[str, str] = {}
    hints: dict[str, str] = {}

    name = text("name").strip()
    if not name:
        messages["name"] = "enter a name for the account"
    elif old is not None and name != old.name and held:
        hints["name"] = f"its {len(held)} position(s) follow the new name"

    exchange = text("exchange").strip()
    problem, hint = _exchange_check(exchange, known)
    messages.update({"exchange": problem} if problem else {})
    hints.update({"exchange": hint} if hint else {})

    currency = text("currency").strip()
    if not currency:
        messages["currency"] = "enter the settlement currency, e.g. USDT"

    wallet, problem = parse_number(text("wallet_balance"), "the wallet balance")
    if problem:
        messages["wallet_balance"] = problem
    elif wallet is not None and wallet < 0:
        messages["wallet_balance"] = "the wallet balance must not be negative"
        wallet = None
    elif wallet is not None:
        hints["wallet_balance"] = f"the whole wallet in {currency or 'USDT'}, isolated margins included"

    mode = _choice(text("position_mode"), PositionMode, None, "choose one-way or hedge", messages, "position_mode")
    kind = _choice(
        text("account_type"), AccountType, AccountType.UNIFIED, "choose unified or classic", messages, "account_type"
    )

    if messages or wallet is None or mode is None or kind is None:
        return AccountCheck(messages, hints)
    account = Account(name, exchange, wallet, currency, mode, kind)
    accounts = list(book.accounts)
    positions = book.positions
    if index is None:
        accounts.append(account)
        where = len(accounts) - 1
    else:
        accounts[index] = account
        where = index
        if old is not None and old.name != name:
            positions = tuple(replace(p, account=name) if p.account == old.name else p for p in positions)
    # engine.book.book_rules judges the account with its positions, as it judges a portfolio file. A position's
    # violation is shown beside what the form changes that breaks it: the currency it settles in, the
    # wallet its isolated margin comes from, the one-way mode, else the exchange (no tiers, leverage).
    result = build_book(accounts, positions, market_overrides, markets=book.markets)
    mine = {i for i, p in enumerate(positions) if p.account == name}
    for v in result.violations:
        if v.where == name and v.field in ACCOUNT_FIELDS:
            messages.setdefault(v.field, v.bare())
        elif isinstance(v.where, int) and v.where in mine:
            p = positions[v.where]
            field_name = _POSITION_FIELD_IN_FORM.get(v.field, "exchange")
            messages.setdefault(field_name, f"position {v.where + 1} ({p.symbol}): {v.text()}")
    # Violations of other accounts only (a book saved under older rules) are not this form's doing.
    built = result.book or result.draft
    if messages or built is None:
        return AccountCheck(messages, hints)
    return AccountCheck(
        messages, hints, account, Book(built.accounts, built.positions, {**book.markets, **built.markets}), where
    )


_POSITION_FIELD_IN_FORM = {
    "currency": "currency",
    "isolated_margin": "wallet_balance",
    "side": "position_mode",
    "margin_mode": "position_mode",
}
"""The account form's field for a violation of one of its positions (others: 'exchange')."""


class AccountForm(QDialog):
    """A new account (account None) or an edit of book.accounts[index] (or of `account`, found by name).

    After accept(): result_book is the book with the account added or replaced, result_account the account
    and result_index its place in result_book.accounts. They stay None on Cancel.
    """

    def __init__(
        self,
        book: Book,
        account: Account | None = None,
        index: int | None = None,
        exchanges: Sequence[str] | None = None,
        market_overrides: Mapping[str, MarketSpec] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if index is None and account is not None:
            index = next((k for k, a in enumerate(book.accounts) if a.name == account.name), None)
        if index is not None and account is None:
            account = book.accounts[index]
        self.book = book
        self.index = index
        self.exchanges = list(ccxt_exchange_ids() if exchanges is None else exchanges)
        self.market_overrides = market_overrides
        self.result_book: Book | None = None
        self.result_account: Account | None = None
        self.result_index: int | None = None
        self.setWindowTitle("Edit account" if index is not None else "New account")

        self.name = QLineEdit()
        self.exchange = QComboBox()
        self.exchange.setEditable(True)
        self.exchange.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.exchange.addItems(self.exchanges)
        completer = self.exchange.completer()
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.wallet_balance = QLineEdit()
        self.currency = QLineEdit()
        self.position_mode = QComboBox()
        self.position_mode.addItem("One-way", PositionMode.ONEWAY.value)
        self.position_mode.addItem("Hedge", PositionMode.HEDGE.value)
        self.account_type = QComboBox()  # Bybit's two kinds of account have different margin rules
        self.account_type.addItem("Unified Trading Account", AccountType.UNIFIED.value)
        self.account_type.addItem("Classic account", AccountType.CLASSIC.value)
        self.editors: dict[str, QWidget] = {
            "name": self.name,
            "exchange": self.exchange,
            "wallet_balance": self.wallet_balance,
            "currency": self.currency,
            "position_mode": self.position_mode,
            "account_type": self.account_type,
        }
        self.grid = grid = FieldGrid(self.editors, FIELD_TITLES, ACCOUNT_FIELDS)
        self.messages = grid.messages

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save" if index is not None else "Add account")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(self.buttons)

        self.check = AccountCheck({})
        # The currency follows the exchange until the user types one of their own.
        self._currency_typed = account is not None
        if account is not None:
            self.name.setText(account.name)
            self.exchange.setEditText(account.exchange)
            self.wallet_balance.setText(number_text(account.wallet_balance))
            self.currency.setText(account.currency)
            self.position_mode.setCurrentIndex(max(0, self.position_mode.findData(account.position_mode.value)))
            self.account_type.setCurrentIndex(max(0, self.account_type.findData(account.account_type.value)))
        else:
            self.exchange.setEditText("binanceusdm" if "binanceusdm" in self.exchanges else "")
            self.currency.setText(default_currency(self.exchange.currentText().strip()))
        self.name.textChanged.connect(self._revalidate)
        self.exchange.editTextChanged.connect(self._exchange_changed)
        self.wallet_balance.textChanged.connect(self._revalidate)
        self.currency.textChanged.connect(self._revalidate)
        self.currency.textEdited.connect(self._currency_edited)
        self.position_mode.currentIndexChanged.connect(self._revalidate)
        self.account_type.currentIndexChanged.connect(self._revalidate)
        self._revalidate()

    def fields(self) -> dict[str, str]:
        """The form as typed, in the shape validate_account_input() takes."""
        return {
            "name": self.name.text(),
            "exchange": self.exchange.currentText(),
            "wallet_balance": self.wallet_balance.text(),
            "currency": self.currency.text(),
            "position_mode": self.position_mode.currentData() or "",
            "account_type": self.account_type.currentData() or "",
        }

    @Slot()
    def _currency_edited(self) -> None:
        self._currency_typed = True

    @Slot()
    def _exchange_changed(self) -> None:
        if not self._currency_typed:
            self.currency.setText(default_currency(self.exchange.currentText().strip()))
        self._revalidate()

    @Slot()
    def _revalidate(self) -> None:
        self.check = validate_account_input(
            self.book, self.fields(), index=self.index, exchanges=self.exchanges, market_overrides=self.market_overrides
        )
        self.grid.show_check(self.check.messages, self.check.hints)
        self.ok_button.setEnabled(self.check.ok)

    def accept(self) -> None:
        self._revalidate()
        if not self.check.ok:
            return  # the button is disabled then; Enter in a field must not save a bad account either
        self.result_book = self.check.book
        self.result_account = self.check.account
        self.result_index = self.check.index
        super().accept()
