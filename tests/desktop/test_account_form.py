"""The account form: checked as typed, explained beside each field; edits keep the book consistent."""

from __future__ import annotations

import math
import os
from dataclasses import replace

import ccxt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from desktop.dialogs.account_form import (
    ACCOUNT_FIELDS,
    AccountForm,
    check_link,
    default_currency,
    validate_account_input,
)
from desktop.dialogs.position_check import rules_label
from engine.book.portfolio import Portfolio, parse_portfolio, portfolio_to_dict
from engine.margin.model import Account, AccountType, PositionMode
from engine.margin.risk import evaluate_book
from tests.desktop.typing_helpers import choose, demo, ok_button, retype
from tests.portfolio_docs import portfolio_doc, position_doc

# The exchange completer's popup asks the offscreen platform for what it cannot do; not our warnings.
pytestmark = pytest.mark.qt_log_ignore(
    "This plugin does not support raise", "This plugin does not support grabbing the keyboard"
)

EXAMPLES = int(os.environ.get("MARGINWATCH_PROPERTY_EXAMPLES", "500"))


def make_form(qtbot, portfolio: Portfolio | None = None, **kwargs) -> AccountForm:
    portfolio = portfolio or demo()
    form = AccountForm(portfolio.book, market_overrides=portfolio.market_overrides, **kwargs)
    qtbot.addWidget(form)
    return form


def test_editing_the_wallet_balance_changes_the_account_in_the_result(qtbot):
    portfolio = demo()
    book = portfolio.book
    form = make_form(qtbot, portfolio, index=2)  # Bybit swing, 8,000 USDT
    assert form.windowTitle() == "Edit account"
    assert form.wallet_balance.text() == "8000"
    retype(qtbot, form.wallet_balance, "9500.5")
    assert form.messages["wallet_balance"].text() == "the whole wallet in USDT, isolated margins included"
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    assert form.result_account == Account("Bybit swing", "bybit", 9500.5, "USDT", PositionMode.ONEWAY)
    assert form.result_book.accounts == (*book.accounts[:2], form.result_account, *book.accounts[3:])
    assert form.result_book.positions == book.positions
    assert form.result_index == 2


def test_an_unchanged_edit_gives_back_the_same_book(qtbot):
    book = demo().book
    for index in range(len(book.accounts)):
        form = make_form(qtbot, index=index)
        assert form.check.ok and form.check.book == book


def test_cancel_leaves_no_result(qtbot):
    form = make_form(qtbot, index=0)
    retype(qtbot, form.wallet_balance, "30000")
    qtbot.mouseClick(form.buttons.button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Rejected
    assert form.result_book is None and form.result_account is None


def test_a_new_account_shows_whose_rules_apply_and_defaults_the_currency(qtbot):
    form = make_form(qtbot)
    assert form.windowTitle() == "New account"
    assert form.exchange.count() == len(ccxt.exchanges)
    assert form.exchange.currentText() == "binanceusdm" and form.currency.text() == "USDT"
    assert form.messages["exchange"].text() == "Binance USD-M rules"
    retype(qtbot, form.exchange.lineEdit(), "kraken")
    assert form.messages["exchange"].text() == "generic estimate: kraken's own rules are not modelled"
    retype(qtbot, form.exchange.lineEdit(), "hyperliquid")
    assert form.messages["exchange"].text() == "Hyperliquid rules"
    assert form.currency.text() == "USDC"  # follows the exchange until the user types one
    retype(qtbot, form.exchange.lineEdit(), "binancecoinm")
    assert form.currency.text() == "BTC"
    retype(qtbot, form.currency, "ETH")
    retype(qtbot, form.exchange.lineEdit(), "bybit")
    assert form.currency.text() == "ETH"
    assert not ok_button(form).isEnabled()  # no name, no balance yet
    retype(qtbot, form.name, "Bybit scalps")
    retype(qtbot, form.wallet_balance, "2,500")
    choose(qtbot, form.position_mode, "Hedge")
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result_account == Account("Bybit scalps", "bybit", 2500.0, "ETH", PositionMode.HEDGE)
    assert form.result_book.accounts[-1] == form.result_account
    assert form.result_index == len(demo().book.accounts)


def test_an_exchange_without_a_public_price_call_is_named_when_the_account_is_made(qtbot):
    # dYdX: ccxt 4.5.90 offers no ticker, mark or stream call, so no feed can price it; the user hears
    # it here, not first from a feed that goes offline. The account is still allowed (typed prices).
    form = make_form(qtbot)
    retype(qtbot, form.exchange.lineEdit(), "dydx")
    assert form.messages["exchange"].text() == (
        f"{rules_label('dydx')}; dydx offers no public price method in ccxt: "
        "type its prices by hand (Prices dock, or 'prices' in the portfolio file)"
    )
    retype(qtbot, form.name, "dYdX")
    retype(qtbot, form.currency, "USDC")
    retype(qtbot, form.wallet_balance, "1000")
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result_account is not None and form.result_account.exchange == "dydx"
    other = make_form(qtbot)
    assert other.messages["exchange"].text() == rules_label("binanceusdm")  # its marks are streamed


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("name", "", "enter a name for the account"),
        ("name", "Hyperliquid", "another account is already named 'Hyperliquid'"),
        ("exchange", "", "enter a ccxt exchange id, e.g. binanceusdm"),
        ("exchange", "Bybit", "'Bybit' is not a ccxt exchange id; did you mean 'bybit'?"),
        ("exchange", "mtgox", "'mtgox' is not a ccxt exchange id"),
        ("wallet_balance", "-1", "the wallet balance must not be negative"),
        ("wallet_balance", "lots", "'lots' is not a number"),
        ("wallet_balance", "inf", "'inf' is not a number"),
        ("wallet_balance", "1e309", "the wallet balance is too large: enter a finite number"),
        ("wallet_balance", "", "enter the wallet balance"),
        ("currency", "", "enter the settlement currency, e.g. USDT"),
        ("currency", "US DT", "'US DT' is not a currency code"),
        (
            "currency",
            "USDC",
            "position 7 (ETH/USDT:USDT): ETH/USDT:USDT settles in USDT but account 'Bybit swing' is in USDC",
        ),
    ],
)
def test_each_bad_field_is_explained_beside_it_and_blocks_saving(qtbot, name, typed, message):
    form = make_form(qtbot, index=2)  # Bybit swing
    assert ok_button(form).isEnabled()
    editor = form.exchange.lineEdit() if name == "exchange" else form.editors[name]
    retype(qtbot, editor, typed)
    assert form.messages[name].text() == message
    assert not ok_button(form).isEnabled()
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # Enter must not save a bad account either
    assert form.result_book is None


def test_a_bybit_account_can_be_classic_and_its_rules_follow(qtbot):
    form = make_form(qtbot, index=2)  # Bybit swing, unified
    assert form.account_type.currentData() == "unified"
    choose(qtbot, form.account_type, "Classic")
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result_account == Account(
        "Bybit swing", "bybit", 8000.0, "USDT", PositionMode.ONEWAY, AccountType.CLASSIC
    )
    # The edit keeps its type when opened again, and the classic rules price its positions differently.
    again = make_form(qtbot, Portfolio(form.result_book, demo().prices, demo().market_overrides), index=2)
    assert again.account_type.currentData() == "classic" and again.check.ok


def test_classic_is_a_bybit_account_type_only(qtbot):
    form = make_form(qtbot, index=3)  # Hyperliquid
    choose(qtbot, form.account_type, "Classic")
    assert (
        form.messages["account_type"].text() == "'classic' is a Bybit account type; hyperliquid accounts are 'unified'"
    )
    assert not ok_button(form).isEnabled()


def test_bitmex_is_named_as_missing_from_ccxt(qtbot):
    form = make_form(qtbot, index=2)
    retype(qtbot, form.exchange.lineEdit(), "bitmex")
    assert form.messages["exchange"].text() == (
        "BitMEX is not in the installed ccxt: Margin Watch can neither read its prices nor apply its rules"
    )
    assert not ok_button(form).isEnabled()


def test_a_zero_wallet_is_fine_without_isolated_margins_but_not_below_them(qtbot):
    form = make_form(qtbot, index=3)  # Hyperliquid: cross only
    retype(qtbot, form.wallet_balance, "0")
    assert ok_button(form).isEnabled()
    main = make_form(qtbot, index=0)  # Binance main: SOL 2,400 + DOGE 1,296 USDT isolated
    retype(qtbot, main.wallet_balance, "3000")
    assert main.messages["wallet_balance"].text() == (
        "position 5 (DOGE/USDT:USDT): isolated margins (3,696.00 USDT) exceed 'wallet_balance' (3,000.00 USDT) "
        "of account 'Binance main'; wallet_balance is the whole wallet, isolated margins included"
    )
    assert not ok_button(main).isEnabled()


def test_renaming_an_account_renames_it_in_its_positions(qtbot):
    portfolio = demo()
    book = portfolio.book
    form = make_form(qtbot, portfolio, index=2)
    retype(qtbot, form.name, "Bybit main")
    assert form.messages["name"].text() == "its 2 position(s) follow the new name"
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    result = form.result_book
    assert [p.account for p in result.positions] == [
        "Bybit main" if p.account == "Bybit swing" else p.account for p in book.positions
    ]
    assert result.positions == tuple(
        replace(p, account="Bybit main") if p.account == "Bybit swing" else p for p in book.positions
    )
    before, after = evaluate_book(book, portfolio.price_map()), evaluate_book(result, portfolio.price_map())
    assert [r.liquidation_price for r in after.positions] == [r.liquidation_price for r in before.positions]


def test_switching_to_one_way_is_refused_while_both_sides_of_a_symbol_are_held(qtbot):
    form = make_form(qtbot, index=0)  # Binance main, hedge: long and short BTC
    choose(qtbot, form.position_mode, "One-way")
    assert form.messages["position_mode"].text() == (
        "position 2 (BTC/USDT:USDT): account 'Binance main' is in one-way mode and position 1 is already long "
        "BTC/USDT:USDT; trade against that position, or use position_mode 'hedge' to hold both sides"
    )
    assert not ok_button(form).isEnabled()
    choose(qtbot, form.position_mode, "Hedge")
    assert ok_button(form).isEnabled()


def test_switching_to_one_way_is_refused_while_a_symbol_is_held_in_both_margin_modes(qtbot):
    doc = portfolio_doc(
        position_doc(margin_mode="cross"),
        position_doc(margin_mode="isolated", contracts=0.1),
    )
    doc["accounts"][0]["position_mode"] = "hedge"
    form = make_form(qtbot, parse_portfolio(doc), index=0)
    choose(qtbot, form.position_mode, "One-way")
    assert form.messages["position_mode"].text() == (
        "position 2 (BTC/USDT:USDT): account 'main' is in one-way mode and position 1 holds BTC/USDT:USDT in "
        "cross margin; one symbol has one margin mode (this one is isolated)"
    )


def test_a_new_exchange_must_have_tiers_for_every_symbol_the_account_holds(qtbot):
    portfolio = demo()
    form = make_form(qtbot, portfolio, index=3)  # Hyperliquid: SOL/USDC:USDC
    retype(qtbot, form.exchange.lineEdit(), "bybit")
    assert (
        form.messages["exchange"]
        .text()
        .startswith("position 9 (SOL/USDC:USDC): unknown symbol 'SOL/USDC:USDC' on bybit: no tier table for it")
    )
    assert not ok_button(form).isEnabled()
    retype(qtbot, form.exchange.lineEdit(), "binanceusdm")  # Binance lists SOL/USDC:USDC
    assert form.messages["exchange"].text() == "Binance USD-M rules"
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    result = form.result_book
    assert ("binanceusdm", "SOL/USDC:USDC") in result.markets
    evaluate_book(result, {**portfolio.price_map(), ("binanceusdm", "SOL/USDC:USDC"): 127.2})  # priced as it is


def test_default_currency_follows_the_bundled_tables():
    assert default_currency("binanceusdm") == "USDT"
    assert default_currency("binancecoinm") == "BTC"
    assert default_currency("hyperliquid") == "USDC"
    assert default_currency("kraken") == "USDT"
    assert default_currency("../demo/book") == "USDT"  # typed text never reaches a file that is not a tier table


# --- property tests: no input makes the check raise; it gives a valid account or messages ----------------

BOOK = demo()


def junk() -> st.SearchStrategy[str]:
    floats = st.floats(allow_nan=True, allow_infinity=True)
    return st.one_of(
        st.text(),
        floats.map(repr),
        floats.map(lambda v: f"{v:,}" if math.isfinite(v) else str(v)),
        st.text("0123456789", min_size=300, max_size=5000),
        st.integers().map(str),
    )


@st.composite
def account_fields(draw) -> dict[str, str]:
    base = draw(st.sampled_from([*BOOK.book.accounts, Account("new", "okx", 100.0, "USDT")]))
    fields = {
        "name": draw(st.sampled_from([base.name, "Renamed", "Hyperliquid"])),
        "exchange": draw(st.sampled_from([base.exchange, "binanceusdm", "bybit", "kraken", "hyperliquid"])),
        "wallet_balance": draw(st.floats(0, 1e6).map(repr)),
        "currency": draw(st.sampled_from([base.currency, "USDT", "USDC", "BTC"])),
        "position_mode": draw(st.sampled_from(["oneway", "hedge"])),
        "account_type": draw(st.sampled_from(["unified", "classic"])),
    }
    for name in draw(st.sets(st.sampled_from(ACCOUNT_FIELDS), max_size=3)):
        fields[name] = draw(junk())
    return fields


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=account_fields(), index=st.one_of(st.none(), st.integers(0, len(BOOK.book.accounts) - 1)))
def test_any_input_gives_a_valid_account_or_messages_never_an_exception(fields, index):
    check = validate_account_input(BOOK.book, fields, index=index, exchanges=ccxt.exchanges)
    if check.ok:
        a = check.account
        assert math.isfinite(a.wallet_balance) and a.wallet_balance >= 0
        assert check.book.accounts[check.index] is a
        # what the form accepts, the portfolio file (and so the saved book) accepts too
        saved = Portfolio(check.book, BOOK.prices, BOOK.market_overrides)
        assert parse_portfolio(portfolio_to_dict(saved)).book.accounts == check.book.accounts
    else:
        assert check.messages and set(check.messages) <= set(ACCOUNT_FIELDS)
        assert all(isinstance(m, str) and m for m in check.messages.values())
        assert check.book is None


@settings(
    max_examples=max(20, EXAMPLES // 25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    typed=st.lists(
        st.tuples(st.sampled_from(["name", "exchange", "wallet_balance", "currency"]), junk(), st.booleans()),
        min_size=1,
        max_size=4,
    ),
    index=st.one_of(st.none(), st.integers(0, len(BOOK.book.accounts) - 1)),
)
def test_any_typing_in_the_form_leaves_it_consistent(qtbot, typed, index):
    form = AccountForm(BOOK.book, index=index, exchanges=ccxt.exchanges, market_overrides=BOOK.market_overrides)
    qtbot.addWidget(form)
    for name, text, by_keys in typed:
        line = form.exchange.lineEdit() if name == "exchange" else form.editors[name]
        if by_keys:  # QTest simulates keys for printable ASCII only (it aborts on others): type those
            retype(qtbot, line, "".join(c for c in text[:40] if " " <= c <= "~"))
        else:
            line.setText(text)  # pasted: any text at all
    expected = validate_account_input(
        BOOK.book, form.fields(), index=index, exchanges=ccxt.exchanges, market_overrides=BOOK.market_overrides
    )
    assert form.check == check_link(expected, form.fields())  # with the link to the exchange (engine.sync)
    assert form.ok_button.isEnabled() == form.check.ok
    for name, message in form.check.messages.items():
        assert form.messages[name].text() == message
    form.close()


def test_binance_is_refused_in_the_form_with_the_futures_ids():
    check = validate_account_input(
        demo().book,
        {"name": "new", "exchange": "binance", "wallet_balance": "100", "currency": "USDT", "position_mode": "oneway"},
    )
    assert check.messages["exchange"].startswith("'binance' is the spot exchange in ccxt: use 'binanceusdm'")
