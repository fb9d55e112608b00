"""The what-if's trade price on the market's tick and its size in three units, typed as a user would: the live
text beside each field, the rounding messages, and the preview computed with what the order would be."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from desktop.dialogs.whatif_dialog import WhatIfDialog
from engine.book.whatif import add_to_position, open_position
from engine.margin.model import MarginMode, Position, Side
from engine.margin.risk import evaluate_book
from tests.desktop.test_whatif_dialog import click, open_dialog, row, type_into
from tests.engine.books import book, market, pos

BTC, ETH, BTCUSD = "BTC/USDT:USDT", "ETH/USDT:USDT", "BTC/USD:BTC"
# Binance USDⓈ-M BTCUSDT and ETHUSDT, COIN-M BTCUSD_PERP (100 USD contracts): their real ticks, lots and minimums.
BTC_MARKET = dataclasses.replace(market(BTC, 0.005), tick_size=0.1, lot_size=0.001, min_contracts=0.001)
ETH_MARKET = dataclasses.replace(market(ETH, 0.01), tick_size=0.01, lot_size=0.001, min_contracts=0.001)
BTCUSD_MARKET = dataclasses.replace(
    market(BTCUSD, 0.004, inverse=True, contract_size=100), tick_size=0.1, lot_size=1, min_contracts=1
)
MARKS = {("binanceusdm", BTC): 60_000.0, ("binanceusdm", ETH): 3_000.0}


def linear_book(btc=BTC_MARKET):
    """10,000 USDT in cross: a BTC long 0.1 @ 60,000 at 10x (600 USDT of initial margin), ETH not held."""
    return book("binanceusdm", 10_000, [pos(BTC, Side.LONG, 0.1, 60_000, MarginMode.CROSS, 10)], [btc, ETH_MARKET])


def unit(dialog: WhatIfDialog, name: str) -> None:
    combo = dialog.order.unit
    combo.setCurrentIndex(combo.findData(name))


def note(dialog: WhatIfDialog, field: str) -> str:
    return dialog.fields.notes[field].text()


def problem(dialog: WhatIfDialog, field: str) -> str:
    return dialog.messages[field].text()


def test_a_typed_price_is_rounded_to_the_tick_and_the_preview_uses_it(qtbot):
    b = linear_book()
    dialog = open_dialog(qtbot, b, MARKS, index=0)
    type_into(qtbot, dialog.edits["contracts"], "0.1")
    type_into(qtbot, dialog.edits["price"], "61234.56")
    assert note(dialog, "price") == "rounded to 0.1 tick: 61234.6 USDT"
    expected = evaluate_book(add_to_position(b, 0, 0.1, 61234.6).book, MARKS).positions[0]
    assert row(dialog, "Liquidation price")[2] == f"{expected.liquidation_price:,.2f} USDT"
    assert row(dialog, "Entry price")[2] == "60,617.30 USDT"  # (60,000 + 61,234.6) / 2: the tick's price
    assert dialog.plan is not None and dialog.plan.trade_price == 61234.6
    type_into(qtbot, dialog.edits["price"], "61234.5")
    assert note(dialog, "price") == ""  # on the tick already: nothing said


def test_an_unknown_tick_leaves_the_price_and_says_so(qtbot):
    dialog = open_dialog(qtbot, linear_book(btc=market(BTC, 0.005)), MARKS, index=0)
    type_into(qtbot, dialog.edits["contracts"], "0.1")
    type_into(qtbot, dialog.edits["price"], "61234.56")
    assert note(dialog, "price") == "tick unknown"
    assert dialog.plan is not None and dialog.plan.trade_price == 61234.56


def test_a_size_in_usdt_is_contracts_at_the_trade_price_rounded_down_to_the_lot(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    assert dialog.units["contracts"].isVisible()  # 'contracts × 1 BTC'
    unit(dialog, "quote")
    assert dialog.order.unit.currentText() == "USDT"
    assert not dialog.units["contracts"].isVisible()  # it would read as the unit of 5,000
    type_into(qtbot, dialog.edits["price"], "61000")
    type_into(qtbot, dialog.edits["contracts"], "5000")
    # 5,000 / 61,000 = 0.08196... BTC: 0.081 on the 0.001 lot, never more than asked
    assert note(dialog, "contracts") == "= 0.081 contracts, rounded to lot 0.001"
    assert row(dialog, "Contracts")[2] == "long 0.181 contracts"
    assert dialog.plan is not None and dialog.plan.traded == 0.081


def test_a_size_in_percent_of_available_uses_the_trades_leverage(qtbot):
    b = linear_book()
    available = evaluate_book(b, MARKS).accounts[0].available_balance  # 10,000 - 600 of initial margin
    assert available == pytest.approx(9_400)
    dialog = open_dialog(qtbot, b, MARKS, index=0)
    unit(dialog, "percent")
    type_into(qtbot, dialog.edits["price"], "60000")
    type_into(qtbot, dialog.edits["contracts"], "10")
    # 10% of 9,400 = 940 USDT of margin x 10 (the position's leverage) = 9,400 USDT / 60,000 = 0.15666 -> 0.156
    assert note(dialog, "contracts") == "= 0.156 contracts, rounded to lot 0.001; fees not reserved"
    assert dialog.plan is not None and dialog.plan.traded == 0.156
    type_into(qtbot, dialog.edits["contracts"], "150")
    assert problem(dialog, "contracts") == "at most 100% of the available balance"
    assert not dialog.apply_real_button.isEnabled()


def test_opening_in_percent_takes_the_typed_leverage(qtbot):
    b = linear_book()
    dialog = open_dialog(qtbot, b, MARKS, account="acct")
    dialog.symbol.setCurrentText(ETH)
    unit(dialog, "percent")
    type_into(qtbot, dialog.edits["leverage"], "20")
    type_into(qtbot, dialog.edits["contracts"], "25")
    # the mark 3,000 is the trade price: 25% of 9,400 = 2,350 x 20 = 47,000 USDT / 3,000 = 15.6666 -> 15.666
    assert note(dialog, "contracts") == "= 15.666 contracts, rounded to lot 0.001; fees not reserved"
    opened = Position("acct", ETH, Side.LONG, 15.666, 3_000, MarginMode.CROSS, 20)
    expected = evaluate_book(open_position(b, opened), MARKS).positions[1]
    assert row(dialog, "Liquidation price")[2] == f"{expected.liquidation_price:,.2f} USDT"


def test_contracts_typed_off_the_lot_are_rounded_down_and_said(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    type_into(qtbot, dialog.edits["price"], "60000")
    type_into(qtbot, dialog.edits["contracts"], "0.0825")
    assert note(dialog, "contracts") == "rounded to lot 0.001: 0.082 contracts"
    assert dialog.plan is not None and dialog.plan.traded == 0.082


def test_below_the_minimum_order_the_message_is_beside_the_size(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    unit(dialog, "quote")
    type_into(qtbot, dialog.edits["price"], "60000")
    type_into(qtbot, dialog.edits["contracts"], "50")
    assert problem(dialog, "contracts") == "0.000833 contracts is below the market's minimum order of 0.001 contracts"
    assert note(dialog, "contracts") == ""
    assert dialog.plan is None
    assert not dialog.apply_real_button.isEnabled() and not dialog.apply_hypothetical_button.isEnabled()


def test_an_inverse_size_in_usd_is_whole_100_usd_contracts(qtbot):
    b = book("binancecoinm", 1.0, [pos(BTCUSD, Side.LONG, 100, 90_000, MarginMode.CROSS, 20)], [BTCUSD_MARKET])
    marks = {("binancecoinm", BTCUSD): 92_000.0}
    dialog = open_dialog(qtbot, b, marks, index=0)
    unit(dialog, "quote")
    assert dialog.order.unit.currentText() == "USD"
    type_into(qtbot, dialog.edits["price"], "92000.04")
    type_into(qtbot, dialog.edits["contracts"], "5050")
    assert note(dialog, "price") == "rounded to 0.1 tick: 92000 USD"
    assert note(dialog, "contracts") == "= 50 contracts, rounded to lot 1"
    assert row(dialog, "Contracts")[2] == "long 150 contracts"


def test_a_close_sizes_in_contracts_and_gives_the_unit_back(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    unit(dialog, "quote")
    click(qtbot, dialog.actions["close"])
    assert dialog.order.unit.currentData() == "contracts" and not dialog.order.unit.isEnabled()
    assert row(dialog, "Contracts")[2] == "closed"
    click(qtbot, dialog.actions["reduce"])
    assert dialog.order.unit.currentData() == "quote" and dialog.order.unit.isEnabled()


def test_the_unit_selector_is_beside_the_size(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    combo = dialog.order.unit
    assert [combo.itemText(i) for i in range(combo.count())] == ["contracts", "USDT", "% of available"]
    edit = dialog.edits["contracts"]
    assert abs(combo.mapToGlobal(combo.rect().center()).y() - edit.mapToGlobal(edit.rect().center()).y()) < 8
    qtbot.keyClick(combo, Qt.Key.Key_Down)
    assert combo.currentData() == "quote"


def test_percent_without_every_mark_says_so_and_contracts_still_work(qtbot):
    b = book(
        "binanceusdm",
        10_000,
        [pos(BTC, Side.LONG, 0.1, 60_000), pos(ETH, Side.LONG, 1, 3_000)],
        [BTC_MARKET, ETH_MARKET],
    )
    marks = {("binanceusdm", BTC): 60_000.0}  # ETH's mark has not arrived
    dialog = open_dialog(qtbot, b, marks, index=0)
    unit(dialog, "percent")
    type_into(qtbot, dialog.edits["price"], "60000")
    type_into(qtbot, dialog.edits["contracts"], "10")
    assert problem(dialog, "contracts").startswith("the available balance cannot be computed (")
    assert problem(dialog, "contracts").endswith("): type the size in contracts")
    unit(dialog, "contracts")
    assert problem(dialog, "contracts") == ""


def test_a_price_under_half_a_tick_is_refused_beside_the_price_not_a_crash(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    unit(dialog, "quote")
    type_into(qtbot, dialog.edits["contracts"], "5000")
    type_into(qtbot, dialog.edits["price"], "0.01")  # 0 on BTCUSDT's 0.1 tick: a size in USDT would divide by it
    assert problem(dialog, "price") == "below half a tick of 0.1: the order would have no price"
    assert dialog.plan is None


def test_a_reduce_in_percent_is_a_share_of_the_position_not_of_the_balance(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)  # long 0.1 BTC
    click(qtbot, dialog.actions["reduce"])
    unit(dialog, "percent")
    assert dialog.order.unit.currentText() == "% of position"
    type_into(qtbot, dialog.edits["contracts"], "50")
    assert note(dialog, "contracts") == "= 0.05 contracts"  # half of 0.1: no fees to reserve on a reduce
    assert row(dialog, "Contracts")[2] == "long 0.05 contracts"
    type_into(qtbot, dialog.edits["contracts"], "150")
    assert problem(dialog, "contracts") == "at most 100% of the position"
    click(qtbot, dialog.actions["add"])
    assert dialog.order.unit.currentText() == "% of available"


@pytest.mark.parametrize("size_unit", ["contracts", "quote", "percent"])
def test_a_price_out_of_bounds_is_said_beside_the_price_naming_it_in_every_unit(qtbot, size_unit):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    unit(dialog, size_unit)
    type_into(qtbot, dialog.edits["contracts"], "1")
    type_into(qtbot, dialog.edits["price"], "1e13")
    assert problem(dialog, "price") == "the trade price is out of range: at most 1e+12 (got 1e+13)"
    assert problem(dialog, "contracts") == "" and dialog.plan is None


def test_a_notional_out_of_bounds_is_a_sentence_with_the_digits_that_show_it_is_out(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, account="acct")  # opening: the entry notional is the trade's
    dialog.symbol.setCurrentText(ETH)
    type_into(qtbot, dialog.edits["leverage"], "10")
    type_into(qtbot, dialog.edits["price"], "1e12")
    type_into(qtbot, dialog.edits["contracts"], "1000.001")  # 1.000001e15 USDT
    said = problem(dialog, "contracts")
    assert said == (
        "the entry notional ('contracts' at the entry price) of 1.000001e+15 USDT is over 1e+15 USDT: "
        "not a position any exchange holds"
    )


def test_exactly_one_contract_is_singular(qtbot):
    dialog = open_dialog(qtbot, linear_book(), MARKS, index=0)
    unit(dialog, "quote")
    type_into(qtbot, dialog.edits["price"], "61000")
    type_into(qtbot, dialog.edits["contracts"], "61000")
    assert note(dialog, "contracts") == "= 1 contract"
    type_into(qtbot, dialog.edits["contracts"], "122000")
    assert note(dialog, "contracts") == "= 2 contracts"
