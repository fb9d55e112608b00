"""The what-if dialog: driven as a user would, its after-column is the engine's, and Apply does what it says."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from desktop.app import demo_portfolio
from desktop.dialogs.whatif_dialog import WhatIfDialog
from engine.book.whatif import add_to_position, reduce_position
from engine.margin.model import MarginMode, PositionMode, Side
from engine.margin.risk import evaluate_book
from engine.monitor.report import money, percent, price
from tests.engine.books import book, market, pos

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"
MARKS = {("binanceusdm", BTC): 60_000.0, ("binanceusdm", ETH): 3_000.0}
DEMO_ETH = 2  # Binance main (hedge mode): ETH long, cross, beside a cross BTC long/short pair
DEMO_SOL = 3  # Binance main: SOL short, isolated
DEMO_HYPOTHETICAL = 7  # Bybit swing: BTC long, cross, hypothetical


def one_way_book(mode: MarginMode = MarginMode.CROSS, margin: float = 0.0):
    """An account holding a BTC long (2 @ 60,000) and an ETH long, both cross unless told."""
    return book(
        "binanceusdm",
        50_000,
        [pos(BTC, Side.LONG, 2.0, 60_000, mode, 10, margin), pos(ETH, Side.LONG, 10, 3_100)],
        [market(BTC, 0.005), market(ETH, 0.01)],
    )


def open_dialog(qtbot, *args, **kwargs) -> WhatIfDialog:
    dialog = WhatIfDialog(*args, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def type_into(qtbot, edit, text: str) -> None:
    edit.selectAll()
    if text:
        qtbot.keyClicks(edit, text)
    else:
        qtbot.keyClick(edit, Qt.Key.Key_Delete)


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def row(dialog: WhatIfDialog, title: str) -> list[str]:
    rows = [r for r in dialog.preview_rows() if r[0] == title]
    assert rows, f"no preview row {title!r} in {dialog.preview_rows()}"
    return rows[0]


def usdt_price(value: float | None) -> str:
    return "none" if value is None else f"{price(value)} USDT"


def demo():
    portfolio = demo_portfolio()
    return portfolio.book, portfolio.price_map()


def test_the_after_column_is_the_engines_numbers_for_the_trade(qtbot):
    b, marks = demo()
    dialog = open_dialog(qtbot, b, marks, index=DEMO_ETH)
    type_into(qtbot, dialog.edits["contracts"], "4")
    type_into(qtbot, dialog.edits["price"], "3250.5")

    before = evaluate_book(b, marks)
    after = evaluate_book(add_to_position(b, DEMO_ETH, 4, 3250.5).book, marks)
    p_before, p_after = before.positions[DEMO_ETH], after.positions[DEMO_ETH]
    a_before, a_after = before.account("Binance main"), after.account("Binance main")
    assert row(dialog, "Contracts") == ["Contracts", "long 18 contracts", "long 22 contracts"]
    assert row(dialog, "Entry price")[1:] == [usdt_price(3320), usdt_price(p_after.position.entry_price)]
    assert row(dialog, "Liquidation price")[1:] == [
        usdt_price(p_before.liquidation_price),
        usdt_price(p_after.liquidation_price),
    ]
    assert row(dialog, "Distance to liquidation")[1:] == [
        percent(p_before.distance_to_liquidation),
        percent(p_after.distance_to_liquidation),
    ]
    assert row(dialog, "Equity")[1:] == [money(a_before.equity, "USDT"), money(a_after.equity, "USDT")]
    assert row(dialog, "Available balance")[1:] == [
        money(a_before.available_balance, "USDT"),
        money(a_after.available_balance, "USDT"),
    ]
    assert row(dialog, "Cross margin ratio")[2] == f"{a_after.margin_ratio * 100:.2f}%"
    assert row(dialog, "Margin ratio")[2] == f"{a_after.margin_ratio * 100:.2f}%"  # ETH is cross: its account's
    assert dialog.units["price"].text() == "USDT"


def test_another_cross_positions_liquidation_price_moves_with_a_cross_trade(qtbot):
    b, marks = demo()
    dialog = open_dialog(qtbot, b, marks, index=DEMO_ETH)
    type_into(qtbot, dialog.edits["contracts"], "10")
    after = evaluate_book(add_to_position(b, DEMO_ETH, 10, marks[("binanceusdm", ETH)]).book, marks)
    before = evaluate_book(b, marks)
    btc_long = row(dialog, "BTC/USDT:USDT long liq. price")
    assert btc_long[1:] == [
        usdt_price(before.positions[0].liquidation_price),
        usdt_price(after.positions[0].liquidation_price),
    ]
    assert btc_long[1] != btc_long[2]
    # The hedge pair shares its liquidation price, so the short moves with it.
    assert row(dialog, "BTC/USDT:USDT short liq. price")[2] == btc_long[2]


def test_the_preview_follows_the_typing(qtbot):
    dialog = open_dialog(qtbot, one_way_book(), MARKS, index=0)
    qtbot.keyClicks(dialog.edits["contracts"], "1")
    assert row(dialog, "Contracts")[2] == "long 3 contracts"
    qtbot.keyClicks(dialog.edits["contracts"], "0")
    assert row(dialog, "Contracts")[2] == "long 12 contracts"


def test_cancel_gives_no_result_and_leaves_the_book_as_it_was(qtbot):
    b, marks = demo()
    untouched = copy.deepcopy(b)
    dialog = open_dialog(qtbot, b, marks, index=DEMO_ETH)
    type_into(qtbot, dialog.edits["contracts"], "3")
    click(qtbot, dialog.cancel_button)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert dialog.result_book is None and dialog.result_kind is None
    assert b == untouched


def test_a_cross_add_applied_as_hypothetical_keeps_the_real_position_and_adds_the_trade_beside_it(qtbot):
    b, marks = demo()
    dialog = open_dialog(qtbot, b, marks, index=DEMO_ETH)
    type_into(qtbot, dialog.edits["contracts"], "5")
    type_into(qtbot, dialog.edits["price"], "3200")
    assert dialog.apply_hypothetical_button.isEnabled()
    click(qtbot, dialog.apply_hypothetical_button)

    assert dialog.result_kind == "hypothetical"
    result = dialog.result_book
    assert result.positions[: len(b.positions)] == b.positions and result.accounts == b.accounts
    added = result.positions[-1]
    assert added.hypothetical and (added.symbol, added.side, added.contracts, added.entry_price) == (
        ETH,
        Side.LONG,
        5,
        3200,
    )
    # With hypotheticals: the account is exactly the previewed (merged) trade.
    merged = evaluate_book(add_to_position(b, DEMO_ETH, 5, 3200).book, marks).account("Binance main")
    shown = evaluate_book(result, marks).account("Binance main")
    for figure in ("equity", "maintenance_margin", "available_balance", "margin_ratio"):
        assert getattr(shown, figure) == pytest.approx(getattr(merged, figure), rel=1e-12)
    # Without them: the original figures.
    assert (
        evaluate_book(result.without_hypothetical(), marks).accounts
        == evaluate_book(b.without_hypothetical(), marks).accounts
    )


def test_an_open_applied_as_hypothetical_disappears_without_hypotheticals(qtbot):
    b = one_way_book()
    dialog = open_dialog(qtbot, b, MARKS, account="acct")
    dialog.symbol.setCurrentText(ETH)
    type_into(qtbot, dialog.edits["contracts"], "5")
    assert dialog.edits["price"].text() == "3000"  # the mark, until the user types another
    assert row(dialog, "Contracts")[1:] == ["—", "long 5 contracts"]
    click(qtbot, dialog.apply_hypothetical_button)
    assert dialog.result_kind == "hypothetical"
    assert dialog.result_book.positions[-1].hypothetical
    assert evaluate_book(dialog.result_book.without_hypothetical(), MARKS) == evaluate_book(b, MARKS)


def test_one_way_mode_holds_one_symbol_in_one_margin_mode(qtbot):
    b = one_way_book()
    dialog = open_dialog(qtbot, b, MARKS, account="acct")
    dialog.symbol.setCurrentText(ETH)
    type_into(qtbot, dialog.edits["contracts"], "1")
    click(qtbot, dialog.margin_modes[MarginMode.ISOLATED])
    assert "holds ETH/USDT:USDT in cross margin" in dialog.messages["margin_mode"].text()
    assert not dialog.apply_real_button.isEnabled()


def test_a_reduce_applied_as_real_credits_the_realized_pnl_and_is_not_offered_as_hypothetical(qtbot):
    b = one_way_book()
    dialog = open_dialog(qtbot, b, MARKS, index=0)
    click(qtbot, dialog.actions["reduce"])
    type_into(qtbot, dialog.edits["contracts"], "0.5")
    type_into(qtbot, dialog.edits["price"], "64000")
    assert not dialog.apply_hypothetical_button.isEnabled()
    assert "can only add to the book" in dialog.note.text()
    assert row(dialog, "Realized PnL")[2] == money(2_000, "USDT")
    click(qtbot, dialog.apply_real_button)
    assert dialog.result_kind == "real"
    assert dialog.result_book == reduce_position(b, 0, 0.5, 64_000).book
    assert dialog.result_book.accounts[0].wallet_balance == pytest.approx(52_000)


def test_close_fills_in_the_whole_position_and_shows_it_closed(qtbot):
    b = one_way_book()
    dialog = open_dialog(qtbot, b, MARKS, index=0)
    qtbot.keyClicks(dialog.edits["contracts"], "1.5")
    click(qtbot, dialog.actions["close"])
    assert dialog.edits["contracts"].text() == "2" and not dialog.edits["contracts"].isEnabled()
    assert row(dialog, "Contracts")[2] == "closed"
    assert row(dialog, "Liquidation price")[2] == "—"
    click(qtbot, dialog.actions["add"])
    assert dialog.edits["contracts"].text() == "1.5"  # what the user had typed comes back


def test_flip_in_one_way_mode_ends_on_the_other_side(qtbot):
    dialog = open_dialog(qtbot, one_way_book(), MARKS, index=0)
    click(qtbot, dialog.actions["flip"])
    type_into(qtbot, dialog.edits["contracts"], "3")
    assert row(dialog, "Contracts")[1:] == ["long 2 contracts", "short 1 contract"]
    assert dialog.apply_real_button.isEnabled() and not dialog.apply_hypothetical_button.isEnabled()


def test_a_flip_in_hedge_mode_shows_the_engines_refusal_beside_the_trade_choice(qtbot):
    b, marks = demo()
    dialog = open_dialog(qtbot, b, marks, index=0)
    click(qtbot, dialog.actions["flip"])
    type_into(qtbot, dialog.edits["contracts"], "3")
    assert "hedge-mode account holds both sides separately" in dialog.messages["action"].text()
    assert not dialog.apply_real_button.isEnabled() and not dialog.apply_hypothetical_button.isEnabled()
    assert row(dialog, "Contracts")[2] == ""  # no after-column for a refused trade


def test_reducing_more_than_held_is_refused_beside_the_contracts(qtbot):
    dialog = open_dialog(qtbot, one_way_book(), MARKS, index=0)
    click(qtbot, dialog.actions["reduce"])
    type_into(qtbot, dialog.edits["contracts"], "2.5")
    assert "the position holds 2" in dialog.messages["contracts"].text()
    assert not dialog.apply_real_button.isEnabled()


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("contracts", "abc", "'abc' is not a number"),
        ("contracts", "0", "must be greater than 0"),
        ("contracts", "-1", "must be greater than 0"),
        ("contracts", "nan", "'nan' is not a number"),
        ("contracts", "inf", "'inf' is not a number"),
        ("contracts", "1e999", "the number of contracts is too large: enter a finite number"),
        ("contracts", "1,5", "use a dot for decimals"),
        ("price", "", "enter the trade price"),
        ("price", "NaN", "'NaN' is not a number"),
        ("price", "0", "must be greater than 0"),
    ],
)
def test_bad_input_is_explained_beside_its_field_and_applies_nothing(qtbot, field, text, message):
    dialog = open_dialog(qtbot, one_way_book(), MARKS, index=0)
    type_into(qtbot, dialog.edits["contracts"], "1")
    type_into(qtbot, dialog.edits[field], text)
    assert message in dialog.messages[field].text()
    assert not dialog.apply_real_button.isEnabled() and not dialog.apply_hypothetical_button.isEnabled()
    assert row(dialog, "Equity")[2] == ""


def test_bad_leverage_and_an_unknown_symbol_are_explained_when_opening(qtbot):
    dialog = open_dialog(qtbot, one_way_book(), MARKS, account="acct")
    type_into(qtbot, dialog.edits["contracts"], "1")
    type_into(qtbot, dialog.edits["leverage"], "x")
    assert "'x' is not a number" in dialog.messages["leverage"].text()
    type_into(qtbot, dialog.edits["leverage"], "500")
    assert "above the market's maximum 125×" in dialog.messages["leverage"].text()
    type_into(qtbot, dialog.edits["leverage"], "5")
    dialog.symbol.lineEdit().selectAll()
    qtbot.keyClicks(dialog.symbol.lineEdit(), "NOPE/USDT:USDT")
    type_into(qtbot, dialog.edits["price"], "1")
    assert "unknown symbol 'NOPE/USDT:USDT'" in dialog.messages["symbol"].text()
    assert not dialog.apply_real_button.isEnabled()


def test_opening_the_other_side_in_one_way_mode_is_refused_beside_the_side(qtbot):
    dialog = open_dialog(qtbot, one_way_book(), MARKS, account="acct")
    dialog.symbol.setCurrentText(BTC)
    click(qtbot, dialog.sides[Side.SHORT])
    type_into(qtbot, dialog.edits["contracts"], "1")
    assert "one-way mode and position 1 of the book is already long BTC/USDT:USDT" in dialog.messages["side"].text()
    assert not dialog.apply_hypothetical_button.isEnabled()


def test_a_bundled_symbol_without_a_mark_is_judged_at_the_trade_price(qtbot):
    b = one_way_book()
    dialog = open_dialog(qtbot, b, MARKS, account="acct")
    dialog.symbol.setCurrentText("XRP/USDT:USDT")
    type_into(qtbot, dialog.edits["contracts"], "1000")
    assert "enter the trade price" in dialog.messages["price"].text()
    type_into(qtbot, dialog.edits["price"], "0.6")
    assert "No mark price for this symbol" in dialog.note.text()
    assert row(dialog, "Entry price")[2] == "0.6 USDT"
    click(qtbot, dialog.apply_real_button)
    assert ("binanceusdm", "XRP/USDT:USDT") in dialog.result_book.markets
    assert not dialog.result_book.positions[-1].hypothetical


def test_a_trade_on_a_hypothetical_position_stays_hypothetical_and_leaves_the_wallet(qtbot):
    b, marks = demo()
    dialog = open_dialog(qtbot, b, marks, index=DEMO_HYPOTHETICAL)
    click(qtbot, dialog.actions["close"])
    assert not dialog.apply_real_button.isEnabled()
    assert "this position is hypothetical" in dialog.note.text()
    assert row(dialog, "Wallet balance")[1] == row(dialog, "Wallet balance")[2]
    click(qtbot, dialog.apply_hypothetical_button)
    assert dialog.result_kind == "hypothetical"
    assert len(dialog.result_book.positions) == len(b.positions) - 1
    assert dialog.result_book.without_hypothetical() == b.without_hypothetical()


def test_an_isolated_add_is_offered_as_real_only(qtbot):
    b, marks = demo()
    dialog = open_dialog(qtbot, b, marks, index=DEMO_SOL)
    type_into(qtbot, dialog.edits["contracts"], "10")
    assert row(dialog, "Isolated margin")[1] == money(2_400, "USDT")
    assert not dialog.apply_hypothetical_button.isEnabled() and dialog.apply_real_button.isEnabled()
    assert "isolated add merges" in dialog.note.text()


def test_a_missing_mark_in_another_account_does_not_block_the_preview_but_its_own_does(qtbot):
    b = book(
        "binanceusdm",
        50_000,
        [pos(BTC, Side.LONG, 2.0, 60_000)],
        [market(BTC, 0.005)],
        PositionMode.HEDGE,
    )
    dialog = open_dialog(qtbot, b, {}, index=0)
    type_into(qtbot, dialog.edits["contracts"], "1")
    assert "enter the trade price" in dialog.messages["price"].text()
    type_into(qtbot, dialog.edits["price"], "60000")
    assert "no mark price for BTC/USDT:USDT on binanceusdm" in dialog.problem.text()
    assert not dialog.apply_real_button.isEnabled()

    demo_book, marks = demo()
    only_binance_main = {k: v for k, v in marks.items() if k[0] == "binanceusdm"}
    dialog = open_dialog(qtbot, demo_book, only_binance_main, index=DEMO_ETH)
    type_into(qtbot, dialog.edits["contracts"], "1")
    assert dialog.problem.text() == "" and dialog.apply_real_button.isEnabled()


def test_an_isolated_trade_previews_its_own_margin_ratio(qtbot):
    b, marks = demo()
    dialog = open_dialog(qtbot, b, marks, index=DEMO_SOL)
    type_into(qtbot, dialog.edits["contracts"], "50")
    type_into(qtbot, dialog.edits["price"], "127")
    after = evaluate_book(add_to_position(b, DEMO_SOL, 50, 127).book, marks).positions[DEMO_SOL]
    before = evaluate_book(b, marks).positions[DEMO_SOL]
    own = before.maintenance_margin / (before.position.isolated_margin + before.unrealized_pnl)
    assert row(dialog, "Margin ratio")[1:] == [f"{own * 100:.2f}%", f"{after.margin_ratio * 100:.2f}%"]
