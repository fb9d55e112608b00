"""The account form: a new or edited account, checked as it is typed, saved only when valid.

validate_account_input() (desktop.dialogs.account_check) is the whole check, free of widgets; the form shows
what it says beside each field, and stores a typed API key in the keyring on Save.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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

from desktop.dialogs.account_check import (
    ACCOUNT_FIELDS,
    AccountCheck,
    ccxt_exchange_ids,
    default_currency,
    validate_account_input,
)
from desktop.dialogs.account_link import LINK_FIELDS, check_link
from desktop.dialogs.field_grid import FieldGrid
from desktop.dialogs.typed_numbers import number_text
from engine.margin.model import Account, AccountType, Book, MarketSpec, PositionMode

FIELD_TITLES = {
    "name": "Name",
    "exchange": "Exchange (ccxt id)",
    "wallet_balance": "Wallet balance",
    "currency": "Settlement currency",
    "position_mode": "Position mode",
    "account_type": "Account type",
}
"""The form's label of each field."""


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
        self._make_editors()
        self.grid = grid = FieldGrid(self.editors, FIELD_TITLES, ACCOUNT_FIELDS)
        self.messages = grid.messages

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save" if index is not None else "Add account")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._lay_out(QVBoxLayout(self), account)

        self.check = AccountCheck({})
        # The currency follows the exchange until the user types one of their own.
        self._currency_typed = account is not None
        self._fill(account)
        self.name.textChanged.connect(self._revalidate)
        self.exchange.editTextChanged.connect(self._exchange_changed)
        self.wallet_balance.textChanged.connect(self._revalidate)
        self.currency.textChanged.connect(self._revalidate)
        self.currency.textEdited.connect(self._currency_edited)
        self.position_mode.currentIndexChanged.connect(self._revalidate)
        self.account_type.currentIndexChanged.connect(self._revalidate)
        self._revalidate()

    def _make_editors(self) -> None:
        """The account's editors (self.editors, by field): the exchange a combo box of ccxt ids that completes
        what is typed anywhere in an id, the position mode and account type lists of their values."""
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

    def _fill(self, account: Account | None) -> None:
        """The editors show the account being edited, or, for a new one, binanceusdm (when offered) and its
        usual settlement currency."""
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

    def _lay_out(self, layout: QVBoxLayout, account: Account | None) -> None:
        """The account's fields, then its link to the exchange (a wallet address, or a key for the keyring: typed
        into password fields), then the buttons."""
        layout.addLayout(self.grid)
        self.wallet_address, self.api_key, self.secret, self.passphrase = (QLineEdit() for _ in LINK_FIELDS)
        for secret_field in (self.api_key, self.secret, self.passphrase):
            secret_field.setEchoMode(QLineEdit.EchoMode.Password)
        self.wallet_address.setText(account.wallet_address if account is not None else "")
        editors = {name: getattr(self, name) for name in LINK_FIELDS}
        titles = ("Wallet address", "API key (read-only)", "API secret", "Passphrase")
        link = FieldGrid(editors, dict(zip(LINK_FIELDS, titles, strict=True)), LINK_FIELDS)
        self.grid.messages.update(link.messages)  # one show_check for both grids
        self.editors.update(editors)
        for editor in editors.values():
            editor.textChanged.connect(self._revalidate)
        layout.addLayout(link)
        layout.addWidget(self.buttons)

    def fields(self) -> dict[str, str]:
        """The form as typed, in the shape validate_account_input() takes."""
        return {
            "name": self.name.text(),
            "exchange": self.exchange.currentText(),
            "wallet_balance": self.wallet_balance.text(),
            "currency": self.currency.text(),
            "position_mode": self.position_mode.currentData() or "",
            "account_type": self.account_type.currentData() or "",
            **{name: getattr(self, name).text() for name in LINK_FIELDS},
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
        fields = self.fields()
        self.check = check_link(
            validate_account_input(
                self.book, fields, index=self.index, exchanges=self.exchanges, market_overrides=self.market_overrides
            ),
            fields,
        )
        self.grid.show_check(self.check.messages, self.check.hints)
        self.ok_button.setEnabled(self.check.ok)

    def accept(self) -> None:
        self._revalidate()
        if not self.check.ok:
            return  # the button is disabled then; Enter in a field must not save a bad account either
        problem = self._store_key()
        if problem:
            self.grid.show_check({"api_key": problem}, {})
            return
        self.result_book = self.check.book
        self.result_account = self.check.account
        self.result_index = self.check.index
        super().accept()

    def _store_key(self) -> str:
        """Put a typed key in the keyring under the account's name (a renamed account's stored key follows it);
        the problem in words, or ''. The key never reaches the book, the result or a log."""
        from engine.sync.errors import SyncError
        from engine.sync.keys import (
            Credentials,
            forget_credentials,
            keyring_problem,
            load_credentials,
            store_credentials,
        )

        assert self.check.account is not None
        name = self.check.account.name
        old = self.book.accounts[self.index].name if self.index is not None else name
        try:
            if self.api_key.text():
                store_credentials(name, Credentials(self.api_key.text(), self.secret.text(), self.passphrase.text()))
            elif old != name and not keyring_problem() and (stored := load_credentials(old, environ={})):
                store_credentials(name, stored)
                forget_credentials(old)
        except SyncError as e:
            return str(e)
        for field_edit in (self.api_key, self.secret, self.passphrase):
            field_edit.clear()  # not kept in the dialog's widgets longer than needed
        return ""
