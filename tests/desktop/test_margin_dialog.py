"""The isolated-margin dialog: more margin moves liquidation away from the mark, too little is refused."""

from __future__ import annotations

import copy

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from desktop.app import demo_portfolio
from desktop.dialogs.margin_dialog import MarginDialog
from engine.book.whatif import adjust_isolated_margin
from engine.margin.model import MarginMode, Side
from engine.margin.risk import evaluate_book
from engine.monitor.report import money, percent, price
from tests.engine.books import book, market, pos

BTC = "BTC/USDT:USDT"
MARKS = {("binanceusdm", BTC): 60_000.0}


def isolated_book(side: Side = Side.LONG, margin: float = 13_000.0, wallet: float = 50_000.0):
    """One isolated BTC position, 2 @ 60,000 at 10x: its initial margin at the mark is 12,000 USDT."""
    return book(
        "binanceusdm", wallet, [pos(BTC, side, 2.0, 60_000, MarginMode.ISOLATED, 10, margin)], [market(BTC, 0.005)]
    )


def open_dialog(qtbot, *args) -> MarginDialog:
    dialog = MarginDialog(*args)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def type_amount(qtbot, dialog: MarginDialog, text: str) -> None:
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, text)


def click(qtbot, widget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def row(dialog: MarginDialog, title: str) -> list[str]:
    return next(r for r in dialog.preview_rows() if r[0] == title)


def liquidation_prices(dialog: MarginDialog) -> tuple[float, float]:
    before, after = row(dialog, "Liquidation price")[1:]
    return tuple(float(text.removesuffix(" USDT").replace(",", "")) for text in (before, after))


@pytest.mark.parametrize("side", [Side.LONG, Side.SHORT])
def test_adding_margin_moves_the_liquidation_price_away_from_the_mark(qtbot, side):
    b = isolated_book(side)
    dialog = open_dialog(qtbot, b, MARKS, 0)
    type_amount(qtbot, dialog, "2000")
    after = evaluate_book(adjust_isolated_margin(b, 0, 2_000, MARKS), MARKS).positions[0]
    assert row(dialog, "Isolated margin")[1:] == [money(13_000, "USDT"), money(15_000, "USDT")]
    assert row(dialog, "Liquidation price")[2] == f"{price(after.liquidation_price)} USDT"
    assert row(dialog, "Distance to liquidation")[2] == percent(after.distance_to_liquidation)
    before_liq, after_liq = liquidation_prices(dialog)
    assert after_liq < before_liq if side is Side.LONG else after_liq > before_liq
    assert dialog.ok_button.isEnabled()
    click(qtbot, dialog.ok_button)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.result_book == adjust_isolated_margin(b, 0, 2_000, MARKS)


def test_removing_more_than_the_exchange_allows_is_refused_with_its_reason(qtbot):
    dialog = open_dialog(qtbot, isolated_book(), MARKS, 0)
    assert "up to 1,000.00 USDT removed" in dialog.limits_note.text()
    click(qtbot, dialog.remove_radio)
    type_amount(qtbot, dialog, "1000.01")
    assert "at most 1,000.00 USDT can be removed" in dialog.amount_message.text()
    assert "initial margin of 12,000.00 USDT" in dialog.amount_message.text()
    assert not dialog.ok_button.isEnabled()
    type_amount(qtbot, dialog, "500")
    assert dialog.amount_message.text() == "" and dialog.ok_button.isEnabled()
    before_liq, after_liq = liquidation_prices(dialog)
    assert after_liq > before_liq  # less margin: a long's liquidation comes closer to the mark
    click(qtbot, dialog.ok_button)
    assert dialog.result_book.positions[0].isolated_margin == pytest.approx(12_500)


def test_adding_more_than_is_available_is_refused(qtbot):
    dialog = open_dialog(qtbot, isolated_book(wallet=14_000), MARKS, 0)
    type_amount(qtbot, dialog, "1500")
    assert "only 1,000.00 USDT is available" in dialog.amount_message.text()
    assert not dialog.ok_button.isEnabled()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "'abc' is not a number"),
        ("0", "must be greater than 0"),
        ("-5", "must be greater than 0"),
        ("nan", "'nan' is not a number"),
        ("1e999", "the amount is too large: enter a finite number"),
    ],
)
def test_bad_amounts_are_explained_and_cannot_be_applied(qtbot, text, message):
    dialog = open_dialog(qtbot, isolated_book(), MARKS, 0)
    type_amount(qtbot, dialog, text)
    assert message in dialog.amount_message.text()
    assert not dialog.ok_button.isEnabled()
    assert row(dialog, "Isolated margin")[2] == ""
    dialog.accept()  # even if called directly, nothing is applied
    assert dialog.result_book is None


def test_cancel_leaves_the_book_as_it_was(qtbot):
    b = isolated_book()
    untouched = copy.deepcopy(b)
    dialog = open_dialog(qtbot, b, MARKS, 0)
    type_amount(qtbot, dialog, "100")
    click(qtbot, dialog.cancel_button)
    assert dialog.result_book is None and b == untouched


def test_the_demo_short_needs_only_its_own_accounts_marks(qtbot):
    portfolio = demo_portfolio()
    marks = {k: v for k, v in portfolio.price_map().items() if k[0] == "binanceusdm"}
    sol = 3  # Binance main: SOL short, isolated, 2,400 USDT
    dialog = open_dialog(qtbot, portfolio.book, marks, sol)
    type_amount(qtbot, dialog, "300")
    before_liq, after_liq = liquidation_prices(dialog)
    assert after_liq > before_liq
    assert row(dialog, "Available balance")[2] != row(dialog, "Available balance")[1]
    assert dialog.problem.text() == ""


def test_a_cross_position_has_no_margin_of_its_own(qtbot):
    b = book("binanceusdm", 50_000, [pos(BTC, Side.LONG, 2.0, 60_000)], [market(BTC, 0.005)])
    with pytest.raises(ValueError, match="only an isolated position"):
        MarginDialog(b, MARKS, 0)
