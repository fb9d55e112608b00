"""The position form: checked as typed, explained beside each field, previewed with the engine's own numbers."""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from desktop.dialogs.position_form import (
    POSITION_FIELDS,
    PositionForm,
    preview_position,
    validate_position_input,
)
from engine.book.portfolio import MAX_LEVERAGE, Portfolio, parse_portfolio, portfolio_to_dict
from engine.margin.exposure import initial_margin_at_entry
from engine.margin.model import Book, MarginMode, Position, Side
from engine.margin.risk import evaluate_book
from engine.margin.tiers import bundled_market, bundled_table, max_leverage_at
from engine.monitor.levels import Thresholds, distance_level
from engine.monitor.report import money, percent, price
from tests.desktop.typing_helpers import choose, demo, ok_button, retype
from tests.portfolio_docs import portfolio_doc, position_doc

# The symbol completer's popup asks the offscreen platform for what it cannot do; not our warnings.
pytestmark = pytest.mark.qt_log_ignore(
    "This plugin does not support raise", "This plugin does not support grabbing the keyboard"
)

EXAMPLES = int(os.environ.get("MARGINWATCH_PROPERTY_EXAMPLES", "500"))  # 2,000 took 9 s of every run
WIDGET_EXAMPLES = max(25, EXAMPLES // 40)


def make_form(qtbot, portfolio: Portfolio | None = None, **kwargs) -> PositionForm:
    portfolio = portfolio or demo()
    form = PositionForm(portfolio.book, portfolio.price_map(), **kwargs)
    qtbot.addWidget(form)
    return form


def fill(qtbot, form: PositionForm, values: dict[str, str]) -> None:
    for name, value in values.items():
        if name in ("account", "side", "margin_mode"):
            choose(qtbot, form.editors[name], value)
        elif name == "hypothetical":
            if (value == "yes") != form.hypothetical.isChecked():
                qtbot.mouseClick(form.hypothetical, Qt.MouseButton.LeftButton)
        else:
            retype(qtbot, form.editors[name], value)


def cancel_button(form):
    return form.buttons.button(QDialogButtonBox.StandardButton.Cancel)


# (typed into the form, the position the engine should be given)
CASES = {
    "cross long, hedge account": (
        {"account": "Binance main", "symbol": "ETH/USDT:USDT", "side": "Long", "contracts": "5", "entry_price": "3200"},
        {"leverage": "20"},
        Position("Binance main", "ETH/USDT:USDT", Side.LONG, 5, 3200, MarginMode.CROSS, 20),
    ),
    "cross short beside the long, hedge account": (
        {"account": "Binance main", "symbol": "BTC/USDT:USDT", "side": "Short", "contracts": "0.3"},
        {"entry_price": "93,000", "leverage": "25"},
        Position("Binance main", "BTC/USDT:USDT", Side.SHORT, 0.3, 93000, MarginMode.CROSS, 25),
    ),
    "isolated long with its own margin": (
        {"account": "Binance main", "symbol": "ETH/USDT:USDT", "side": "Long", "contracts": "10"},
        {"entry_price": "3000", "margin_mode": "Isolated", "leverage": "10", "isolated_margin": "4500"},
        Position("Binance main", "ETH/USDT:USDT", Side.LONG, 10, 3000, MarginMode.ISOLATED, 10, 4500),
    ),
    "isolated short on Bybit (maintenance at entry), margin left to default": (
        {"account": "Bybit swing", "symbol": "ETH/USDT:USDT", "side": "Short", "contracts": "4"},
        {"entry_price": "3300", "margin_mode": "Isolated", "leverage": "20", "hypothetical": "yes"},
        Position("Bybit swing", "ETH/USDT:USDT", Side.SHORT, 4, 3300, MarginMode.ISOLATED, 20, 660, True),
    ),
    "inverse coin-margined long": (
        {"account": "Binance coin", "symbol": "BTC/USD:BTC", "side": "Long", "contracts": "300"},
        {"entry_price": "90000", "leverage": "20", "note": "add on dip"},
        Position("Binance coin", "BTC/USD:BTC", Side.LONG, 300, 90000, MarginMode.CROSS, 20, note="add on dip"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_preview_shows_the_engines_numbers_for_the_book_with_the_position(qtbot, case):
    portfolio = demo()
    first, second, expected_position = CASES[case]
    form = make_form(qtbot, portfolio)
    fill(qtbot, form, first)
    fill(qtbot, form, second)
    assert form.check.messages == {}
    book, marks = portfolio.book, portfolio.price_map()
    account = book.account(expected_position.account)
    key = (account.exchange, expected_position.symbol)
    expected_book = Book(book.accounts, (*book.positions, expected_position), {**book.markets, key: book.markets[key]})
    expected = evaluate_book(expected_book, marks).positions[-1]

    assert form.preview.risk == expected  # every number, to the last bit
    assert not form.preview.mark_is_entry
    currency, quote = account.currency, expected_position.symbol.split("/")[1].split(":")[0]
    shown = {k: label.text() for k, label in form.preview_labels.items()}
    assert shown["mark"] == f"{price(marks[key])} {quote}"
    assert shown["notional"] == money(expected.notional, currency)
    assert shown["initial_margin"] == money(expected.initial_margin, currency)
    assert shown["maintenance_margin"] == money(expected.maintenance_margin, currency)
    assert shown["liquidation_price"] == f"{price(expected.liquidation_price)} {quote}"
    assert shown["distance"].startswith(percent(expected.distance_to_liquidation))
    level = distance_level(expected.distance_to_liquidation, Thresholds()).name.lower()
    assert shown["distance"].endswith(f"of the mark ({level})")  # the word the table's levels use, never "safe"

    assert ok_button(form).isEnabled()
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Accepted
    assert form.result_book == expected_book
    assert form.result_position == expected_position
    assert form.result_index == len(book.positions)


def test_the_default_isolated_margin_is_the_engines_initial_margin_at_entry(qtbot):
    form = make_form(qtbot)
    fill(qtbot, form, CASES["isolated short on Bybit (maintenance at entry), margin left to default"][0])
    fill(qtbot, form, {"entry_price": "3300", "margin_mode": "Isolated", "leverage": "20"})
    market = form.book.markets[("bybit", "ETH/USDT:USDT")]
    assert form.result_position is None
    assert form.check.position.isolated_margin == initial_margin_at_entry(form.check.position, market)
    assert "empty: the initial margin at entry, 660.00 USDT" in form.messages["isolated_margin"].text()


def test_leverage_above_the_tiers_maximum_at_that_notional_is_refused_and_the_bound_is_shown(qtbot):
    form = make_form(qtbot)
    fill(qtbot, form, {"account": "Binance main", "symbol": "BTC/USDT:USDT", "contracts": "10", "entry_price": "90000"})
    # 900,000 USDT falls in Binance's 600,000-3,000,000 tier: 75x at most (125x only below 50,000).
    assert max_leverage_at(bundled_market("binanceusdm", "BTC/USDT:USDT"), 900_000) == 75
    retype(qtbot, form.leverage, "100")
    assert form.messages["leverage"].text() == "100× is above the maximum 75× at 900,000.00 USDT notional"
    assert not ok_button(form).isEnabled()
    assert form.preview_labels["liquidation_price"].text() == "—"
    retype(qtbot, form.leverage, "75")
    assert form.messages["leverage"].text() == "max 75× at 900,000.00 USDT notional"
    assert ok_button(form).isEnabled()
    retype(qtbot, form.contracts, "0.5")  # 45,000 USDT: the first tier
    assert form.messages["leverage"].text() == "max 125× at 45,000.00 USDT notional"
    retype(qtbot, form.leverage, "5000")
    assert form.messages["leverage"].text() == f"5000× is above {MAX_LEVERAGE:g}×, more than any exchange offers"
    assert not ok_button(form).isEnabled()


def test_isolated_margin_below_the_initial_margin_is_refused(qtbot):
    form = make_form(qtbot)
    fill(qtbot, form, {"account": "Binance main", "symbol": "ETH/USDT:USDT", "contracts": "10", "entry_price": "3000"})
    fill(qtbot, form, {"margin_mode": "Isolated", "leverage": "10", "isolated_margin": "2999.99"})
    assert form.messages["isolated_margin"].text() == (
        "is below the initial margin at entry of 3,000.00 USDT (entry notional / leverage)"
    )
    assert not ok_button(form).isEnabled()
    retype(qtbot, form.isolated_margin, "3000")
    assert form.messages["isolated_margin"].text() == "at least 3,000.00 USDT (the initial margin at entry)"
    assert ok_button(form).isEnabled()
    choose(qtbot, form.margin_mode, "Cross")
    assert not form.isolated_margin.isEnabled()


def test_the_minimum_margin_shown_is_rounded_up_so_typing_it_is_accepted(qtbot):
    form = make_form(qtbot)
    fill(qtbot, form, {"account": "Binance main", "symbol": "ETH/USDT:USDT", "contracts": "2.5"})
    fill(qtbot, form, {"entry_price": "3001.13", "margin_mode": "Isolated", "leverage": "7"})
    shown = form.messages["isolated_margin"].text()  # 2.5 * 3001.13 / 7 = 1,071.8321...
    assert shown == "empty: the initial margin at entry, 1,071.84 USDT"
    retype(qtbot, form.isolated_margin, "1071.84")
    assert form.check.ok
    retype(qtbot, form.isolated_margin, "1071.83")
    assert not form.check.ok


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("contracts", "-3", "contracts must be greater than 0 (the side gives the direction)"),
        ("contracts", "0", "contracts must be greater than 0 (the side gives the direction)"),
        ("contracts", "abc", "'abc' is not a number"),
        ("contracts", "1,5", "'1,5' is not a number: use a dot for decimals (commas only between thousands)"),
        ("contracts", "nan", "'nan' is not a number"),
        ("contracts", "1e400", "contracts is too large: enter a finite number"),
        ("contracts", "", "enter contracts"),
        ("entry_price", "0", "the entry price must be greater than 0"),
        ("entry_price", "-91000", "the entry price must be greater than 0"),
        ("entry_price", "inf", "'inf' is not a number"),
        ("leverage", "0", "the leverage must be greater than 0"),
        ("leverage", "ten", "'ten' is not a number"),
        ("symbol", "", "enter a symbol, e.g. BTC/USDT:USDT"),
        ("symbol", "SOL/USDC:USDC", "SOL/USDC:USDC settles in USDC but account 'Binance main' is in USDT"),
    ],
)
def test_each_bad_field_is_explained_beside_it_and_blocks_saving(qtbot, name, typed, message):
    form = make_form(qtbot)
    fill(qtbot, form, {"account": "Binance main", "symbol": "ETH/USDT:USDT", "contracts": "2", "entry_price": "3000"})
    assert ok_button(form).isEnabled()
    retype(qtbot, form.editors[name], typed)
    assert form.messages[name].text() == message
    assert form.messages[name].styleSheet() != ""
    assert not ok_button(form).isEnabled()
    qtbot.keyClick(form.editors[name], Qt.Key.Key_Return)  # Enter must not save a bad position either
    assert form.result_book is None


def test_one_way_conflicts_are_the_engines_refusals(qtbot):
    form = make_form(qtbot)
    # Bybit swing is one-way and already long BTC (a hypothetical position), short isolated ETH.
    fill(qtbot, form, {"account": "Bybit swing", "symbol": "BTC/USDT:USDT", "side": "Short"})
    assert "one-way mode and position 8 of the book is already long BTC/USDT:USDT" in form.messages["side"].text()
    choose(qtbot, form.side, "Long")
    assert form.messages["side"].text() == ""
    retype(qtbot, form.symbol, "ETH/USDT:USDT")
    fill(qtbot, form, {"side": "Short", "contracts": "1", "entry_price": "3100"})
    assert "in isolated margin" in form.messages["margin_mode"].text()
    assert not ok_button(form).isEnabled()
    choose(qtbot, form.margin_mode, "Isolated")
    assert ok_button(form).isEnabled()


def test_a_symbol_without_a_tier_table_is_explained_in_the_preview(qtbot):
    form = make_form(qtbot)
    fill(qtbot, form, {"account": "Bybit swing", "symbol": "XRP/USDT:USDT", "contracts": "100", "entry_price": "0.6"})
    assert form.messages["symbol"].text().startswith("unknown symbol 'XRP/USDT:USDT' on bybit: no tier table")
    assert form.preview_note.text().startswith("No preview: unknown symbol 'XRP/USDT:USDT' on bybit")
    assert not ok_button(form).isEnabled()


def test_without_a_mark_the_preview_is_at_the_entry_price_and_says_so(qtbot):
    portfolio = demo()
    form = make_form(qtbot, portfolio)
    fill(qtbot, form, {"account": "Binance main", "symbol": "XRP/USDT:USDT", "contracts": "1000", "entry_price": "0.6"})
    assert form.preview.mark_is_entry
    assert form.preview_labels["mark"].text() == "0.6 USDT (the entry price: no mark for XRP/USDT:USDT yet)"
    prices = {**portfolio.price_map(), ("binanceusdm", "XRP/USDT:USDT"): 0.6}
    assert form.preview.risk == evaluate_book(form.check.book, prices).positions[-1]


def test_online_a_symbol_the_exchange_does_not_list_is_refused(qtbot):
    listed = {"binanceusdm": ["BTC/USDT:USDT", "ETH/USDT:USDT", "NEWCOIN/USDT:USDT"]}
    form = make_form(qtbot, known_symbols=listed, online=True)
    fill(qtbot, form, {"account": "Binance main", "symbol": "XRP/USDT:USDT"})
    assert form.messages["symbol"].text() == "XRP/USDT:USDT is not listed on binanceusdm"
    symbols = form.completer_model.stringList()
    assert {"NEWCOIN/USDT:USDT", "XRP/USDT:USDT", "DOGE/USDT:USDT"} <= set(symbols)  # listing + bundled + book
    offline = make_form(qtbot, known_symbols=listed, online=False)
    fill(qtbot, offline, {"account": "Binance main", "symbol": "XRP/USDT:USDT"})
    assert offline.messages["symbol"].text() == "Binance USD-M rules"
    not_loaded = make_form(qtbot, known_symbols={}, online=True)
    fill(qtbot, not_loaded, {"account": "Binance main", "symbol": "XRP/USDT:USDT"})
    assert not_loaded.messages["symbol"].text() == (
        "Binance USD-M rules; not checked against binanceusdm's listing, which has not loaded yet"
    )


def test_the_completer_follows_the_accounts_exchange(qtbot):
    form = make_form(qtbot)
    choose(qtbot, form.account, "Hyperliquid")
    assert set(form.completer_model.stringList()) == {
        "BTC/USDC:USDC",
        "ETH/USDC:USDC",
        "SOL/USDC:USDC",
        "XRP/USDC:USDC",
        "DOGE/USDC:USDC",
    }
    choose(qtbot, form.account, "Bybit")
    assert set(form.completer_model.stringList()) == {"BTC/USDT:USDT", "ETH/USDT:USDT"}  # the file's markets


def test_cancel_leaves_no_result(qtbot):
    form = make_form(qtbot)
    fill(qtbot, form, CASES["cross long, hedge account"][0])
    assert ok_button(form).isEnabled()
    qtbot.mouseClick(cancel_button(form), Qt.MouseButton.LeftButton)
    assert form.result() == QDialog.DialogCode.Rejected
    assert form.result_book is None and form.result_position is None


def test_editing_replaces_the_position_in_place(qtbot):
    portfolio = demo()
    book = portfolio.book
    unchanged = make_form(qtbot, portfolio, index=3)  # SOL short, isolated 2,400 USDT
    assert unchanged.windowTitle() == "Edit position"
    assert unchanged.check.ok and unchanged.check.book == book  # the form reads back what it shows
    # 2,400 USDT is below the 2,407.50 the position took at entry (funding is paid from it): kept as held.
    assert unchanged.messages["isolated_margin"].text() == (
        "below the initial margin at entry of 2,407.50 USDT, as the position holds it"
    )

    form = make_form(qtbot, portfolio, index=3)
    retype(qtbot, form.contracts, "200")
    retype(qtbot, form.isolated_margin, "3300")
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    positions = form.result_book.positions
    assert len(positions) == len(book.positions)
    assert positions[:3] == book.positions[:3] and positions[4:] == book.positions[4:]
    assert positions[3] == Position(
        "Binance main", "SOL/USDT:USDT", Side.SHORT, 200, 128.4, MarginMode.ISOLATED, 8, 3300
    )
    assert form.result_index == 3


def test_editing_leaves_the_position_out_of_its_own_one_way_check(qtbot):
    portfolio = parse_portfolio(portfolio_doc(position_doc(side="long"), prices={"BTC/USDT:USDT": 61_000}))
    form = make_form(qtbot, portfolio, index=0)
    choose(qtbot, form.side, "Short")  # the only BTC position: turning it short is no conflict
    assert form.check.ok
    qtbot.mouseClick(ok_button(form), Qt.MouseButton.LeftButton)
    assert form.result_book.positions[0].side is Side.SHORT


def test_the_isolated_margins_may_not_exceed_the_wallet(qtbot):
    portfolio = parse_portfolio(portfolio_doc(wallet_balance=1_000, prices={"BTC/USDT:USDT": 61_000}))
    form = make_form(qtbot, portfolio)
    fill(qtbot, form, {"symbol": "ETH/USDT:USDT", "contracts": "2", "entry_price": "3000"})
    fill(qtbot, form, {"margin_mode": "Isolated", "leverage": "5"})
    assert form.messages["isolated_margin"].text() == (
        "isolated margins (1,200.00 USDT) exceed 'wallet_balance' (1,000.00 USDT) of account 'main'; "
        "wallet_balance is the whole wallet, isolated margins included"
    )


# --- property tests: no input makes the check raise; it gives a valid position or messages ---------------

BOOK = demo()
MARKS = BOOK.price_map()


def number_texts() -> st.SearchStrategy[str]:
    floats = st.floats(allow_nan=True, allow_infinity=True)
    return st.one_of(
        floats.map(repr),
        floats.map(str),
        floats.map(lambda v: f"{v:,}" if math.isfinite(v) else str(v)),
        st.integers().map(str),
        st.text("0123456789", min_size=300, max_size=5000),  # integers far past a float's range
        st.integers(-(10**6), 10**6).map(str),
        st.decimals(allow_nan=True).map(str),
        st.text(),
        st.sampled_from(["", " ", "1e999", "-0", "0x10", "1_000", "١٢٣", "1,000.5", "1,00", ".", "e5", "+.5e-3"]),
    )


def junk() -> st.SearchStrategy[str]:
    return st.one_of(number_texts(), st.text())


@st.composite
def field_values(draw) -> dict[str, str]:
    """A plausible position as typed (valid or refused by a rule), then some fields replaced by junk."""
    account = draw(st.sampled_from(BOOK.book.accounts))
    table = bundled_table(account.exchange)
    symbols = sorted(
        {s for (ex, s) in BOOK.book.markets if ex == account.exchange} | set(table.markets if table else ())
    )
    symbol = draw(st.sampled_from(symbols[:40]))
    positive = st.floats(1e-3, 1e6).map(repr)
    fields = {
        "account": account.name,
        "symbol": symbol,
        "side": draw(st.sampled_from(["long", "short"])),
        "contracts": draw(positive),
        "entry_price": draw(positive),
        "margin_mode": draw(st.sampled_from(["cross", "isolated"])),
        "leverage": draw(st.floats(1, 130).map(repr)),
        "isolated_margin": draw(st.one_of(st.just(""), positive)),
        "hypothetical": draw(st.sampled_from(["true", "false"])),
        "note": draw(st.text(max_size=20)),
    }
    for name in draw(st.sets(st.sampled_from(POSITION_FIELDS), max_size=4)):
        fields[name] = draw(junk())
    return fields


def assert_sound(check, book: Book) -> None:
    if check.ok:
        p = check.position
        assert check.book.positions[check.index] is p
        assert all(math.isfinite(v) for v in (p.contracts, p.entry_price, p.leverage, p.isolated_margin))
        assert p.contracts > 0 and p.entry_price > 0 and 0 < p.leverage <= MAX_LEVERAGE
        assert len(check.book.positions) in (len(book.positions), len(book.positions) + 1)
    else:
        assert check.messages and set(check.messages) <= set(POSITION_FIELDS)
        assert all(isinstance(m, str) and m for m in check.messages.values())
        assert check.book is None


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=field_values(), index=st.one_of(st.none(), st.integers(0, len(BOOK.book.positions) - 1)))
def test_any_input_gives_a_valid_position_or_messages_never_an_exception(fields, index):
    check = validate_position_input(BOOK.book, fields, index=index)
    assert_sound(check, BOOK.book)
    preview = preview_position(check, MARKS)
    assert (preview.risk is not None) == check.ok or preview.problem
    if check.ok:  # what the form accepts, the portfolio file (and so the saved book) accepts too
        saved = Portfolio(check.book, BOOK.prices, BOOK.market_overrides)
        assert parse_portfolio(portfolio_to_dict(saved)).book == check.book


@settings(
    max_examples=WIDGET_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    typed=st.lists(
        st.tuples(
            st.sampled_from(["symbol", "contracts", "entry_price", "leverage", "isolated_margin", "note"]),
            st.one_of(number_texts().map(lambda s: s[:40]), st.text(max_size=30)),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    ),
    isolated=st.booleans(),
    index=st.one_of(st.none(), st.integers(0, len(BOOK.book.positions) - 1)),
)
def test_any_typing_in_the_form_leaves_it_consistent(qtbot, typed, isolated, index):
    form = PositionForm(BOOK.book, MARKS, index=index)
    qtbot.addWidget(form)
    if isolated:
        form.margin_mode.setCurrentIndex(1)
    for name, text, by_keys in typed:
        line = form.editors[name]
        if by_keys:  # QTest simulates keys for printable ASCII only (it aborts on others): type those
            retype(qtbot, line, "".join(c for c in text if " " <= c <= "~"))
        else:
            line.setText(text)  # pasted: any text at all
    assert form.check == validate_position_input(BOOK.book, form.fields(), index=index)
    assert_sound(form.check, BOOK.book)
    assert form.ok_button.isEnabled() == form.check.ok
    for name, message in form.check.messages.items():
        assert form.messages[name].text() == message
    assert (form.preview.risk is None) == (not form.check.ok) or form.preview.problem
    form.close()


def test_the_preview_names_the_level_by_the_windows_thresholds(qtbot):
    """With warning at 50% of the mark, a position 20% from liquidation previews as 'warning', not 'safe'."""
    from desktop.dialogs.position_form import PositionForm

    portfolio = demo()
    strict = Thresholds(distance_warning=0.5, distance_danger=0.01, hysteresis=0.0)
    form = PositionForm(portfolio.book, portfolio.price_map(), thresholds=strict)
    qtbot.addWidget(form)
    fill(qtbot, form, CASES[next(iter(CASES))][0])
    fill(qtbot, form, CASES[next(iter(CASES))][1])
    distance = form.preview.risk.distance_to_liquidation
    assert 0.01 < distance < 0.5
    assert form.preview_labels["distance"].text() == f"{percent(distance)} of the mark (warning)"
