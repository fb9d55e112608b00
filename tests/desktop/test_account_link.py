"""The account form's link to the exchange: a wallet address kept with the account, a key that goes to the
keyring and nowhere else, and a clear refusal where the system has no keyring."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from desktop.dialogs.account_form import AccountForm
from engine.book.portfolio import Portfolio, portfolio_to_dict
from engine.margin.model import Account, Book
from tests.desktop.typing_helpers import ok_button, retype

ADDRESS = "0x5e9ee1089755c3435139848e47e6635505d5a13a"
pytestmark = pytest.mark.qt_log_ignore(
    "This plugin does not support raise", "This plugin does not support grabbing the keyboard"
)


def make_form(qtbot, book: Book, **kwargs) -> AccountForm:
    form = AccountForm(book, **kwargs)
    qtbot.addWidget(form)
    return form


def test_editing_an_account_keeps_its_wallet_address(qtbot):
    book = Book((Account("hl", "hyperliquid", 1_000.0, "USDC", wallet_address=ADDRESS),), ())
    form = make_form(qtbot, book, index=0)
    assert form.wallet_address.text() == ADDRESS
    retype(qtbot, form.wallet_balance, "2000")
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result_account.wallet_address == ADDRESS and form.result_account.wallet_balance == 2_000


def test_a_malformed_address_is_refused_beside_the_field(qtbot):
    book = Book((Account("hl", "hyperliquid", 1_000.0, "USDC"),), ())
    form = make_form(qtbot, book, index=0)
    retype(qtbot, form.wallet_address, "0x123")
    assert form.messages["wallet_address"].text() == "a hyperliquid address is 0x and 40 hexadecimal digits"
    assert not ok_button(form).isEnabled()
    retype(qtbot, form.wallet_address, ADDRESS)
    assert ok_button(form).isEnabled()


def test_a_typed_key_goes_to_the_keyring_and_never_into_the_book(qtbot, test_keyring):
    book = Book((Account("main", "binanceusdm", 1_000.0, "USDT"),), ())
    form = make_form(qtbot, book, index=0)
    retype(qtbot, form.api_key, "k-typed-7f3a")
    assert form.messages["secret"].text() == "an API key needs its secret, and a secret its key"
    retype(qtbot, form.secret, "s-typed-91bc")
    assert form.messages["api_key"].text() == "kept in the system keyring, never in the book; give a read-only key"
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    assert test_keyring.passwords == {
        ("marginwatch", "main:api_key"): "k-typed-7f3a",
        ("marginwatch", "main:secret"): "s-typed-91bc",
    }
    saved = json.dumps(portfolio_to_dict(Portfolio(form.result_book)))
    assert "k-typed-7f3a" not in saved and "s-typed-91bc" not in saved
    assert form.api_key.text() == "" and form.secret.text() == ""


def test_without_a_keyring_the_form_says_so_and_writes_nothing(qtbot, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    keyring.set_keyring(fail.Keyring())
    book = Book((Account("main", "binanceusdm", 1_000.0, "USDT"),), ())
    form = make_form(qtbot, book, index=0)
    retype(qtbot, form.api_key, "k-typed-7f3a")
    retype(qtbot, form.secret, "s-typed-91bc")
    assert form.messages["api_key"].text().startswith("no keyring on this system: keys are only kept there")
    assert not ok_button(form).isEnabled()
    assert list(tmp_path.iterdir()) == []


def test_a_renamed_account_takes_its_stored_key_along(qtbot, test_keyring):
    test_keyring.passwords.update({("marginwatch", "main:api_key"): "k", ("marginwatch", "main:secret"): "s"})
    form = make_form(qtbot, Book((Account("main", "binanceusdm", 1_000.0, "USDT"),), ()), index=0)
    retype(qtbot, form.name, "Binance main")
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert test_keyring.passwords == {
        ("marginwatch", "Binance main:api_key"): "k",
        ("marginwatch", "Binance main:secret"): "s",
    }
