"""The what-if preview's taker fees to open and to close, the rate's source, and the break-even price."""

from __future__ import annotations

from tests.desktop.test_whatif_dialog import MARKS, click, one_way_book, open_dialog, row, type_into


def test_an_add_shows_the_fee_to_open_and_to_close_at_binances_base_rate(qtbot):
    """No taker fee in the market: Binance's regular taker 0.05%, said as such. Adding 1 BTC at 61,000 costs
    30.50 USDT to open; closing the 3 BTC after it at that price costs 91.50 USDT."""
    dialog = open_dialog(qtbot, one_way_book(), MARKS, index=0)
    type_into(qtbot, dialog.edits["contracts"], "1")
    type_into(qtbot, dialog.edits["price"], "61000")
    assert row(dialog, "Taker fee to open")[2] == "30.50 USDT"
    assert row(dialog, "Taker fee to close")[2] == "91.50 USDT"
    assert row(dialog, "Taker rate")[2] == "0.0500% (Binance regular-user taker: not your own tier)"
    before, after = row(dialog, "Break-even price")[1:]
    assert before == "60,060.03 USDT (fees only)"  # 60,000 × 1.0005 / 0.9995
    entry_after = (2 * 60_000 + 61_000) / 3
    assert after == f"{entry_after * 1.0005 / 0.9995:,.2f} USDT (fees only)"


def test_a_close_shows_only_the_fee_to_close(qtbot):
    dialog = open_dialog(qtbot, one_way_book(), MARKS, index=0)
    type_into(qtbot, dialog.edits["price"], "60000")
    click(qtbot, dialog.actions["close"])
    assert row(dialog, "Taker fee to open")[2] == "—"
    assert row(dialog, "Taker fee to close")[2] == "60.00 USDT"  # 2 BTC × 60,000 × 0.05%
    assert row(dialog, "Break-even price")[2] == "—"
