"""The book rules in the window's doors (issue 13): the position form and What-if ▸ Apply as real refuse what the
file refuses, and what-if checks margin and the trade price as the exchange would."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from desktop.app import WindowOptions, build_window, demo_portfolio
from desktop.dialogs.position_form import PositionForm
from desktop.dialogs.whatif_dialog import WhatIfDialog
from engine.book.portfolio import parse_portfolio
from engine.margin.model import Side
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.desktop.test_book_editing import saved_text
from tests.desktop.test_whatif_dialog import click, open_dialog, row, type_into
from tests.desktop.typing_helpers import choose, demo, ok_button, retype
from tests.portfolio_docs import portfolio_doc

BTC = "BTC/USDT:USDT"
TIER_REFUSAL = "100× is above the maximum 50× at 6,000,000.00 USDT notional"


def one_account(wallet: float):
    """One one-way Binance account holding 0.5 BTC long @ 60,000 cross 10x; the BTC mark is 60,000."""
    return parse_portfolio(portfolio_doc(wallet_balance=wallet, prices={BTC: 60_000}))


def open_trade(qtbot, portfolio, contracts: str, price: str, leverage: str) -> WhatIfDialog:
    dialog = open_dialog(qtbot, portfolio.book, portfolio.price_map(), account="main")
    dialog.symbol.setCurrentText(BTC)
    click(qtbot, dialog.sides[Side.LONG])
    type_into(qtbot, dialog.edits["leverage"], leverage)
    type_into(qtbot, dialog.edits["contracts"], contracts)
    type_into(qtbot, dialog.edits["price"], price)
    return dialog


def test_the_position_form_refuses_100x_at_6m_notional(qtbot):
    form = PositionForm(demo().book, demo().price_map())
    qtbot.addWidget(form)
    choose(qtbot, form.account, "Binance main")
    retype(qtbot, form.symbol, BTC)
    retype(qtbot, form.contracts, "100")
    retype(qtbot, form.entry_price, "60000")
    retype(qtbot, form.leverage, "100")
    assert form.messages["leverage"].text() == TIER_REFUSAL
    assert not ok_button(form).isEnabled()


def test_what_if_apply_as_real_refuses_100x_at_6m_notional(qtbot):
    dialog = open_trade(qtbot, one_account(10_000_000), "100", "60000", "100")
    assert dialog.messages["leverage"].text() == TIER_REFUSAL
    assert not dialog.apply_real_button.isEnabled() and not dialog.apply_hypothetical_button.isEnabled()
    type_into(qtbot, dialog.edits["leverage"], "50")
    assert dialog.messages["leverage"].text() == ""
    assert dialog.apply_real_button.isEnabled()


def test_a_trade_needing_more_initial_margin_than_is_free_is_refused_as_real_and_flagged_as_hypothetical(qtbot):
    # Free before: 10,000 wallet - 3,000 initial margin of the held 0.5 BTC = 7,000 USDT.
    # 10 BTC @ 60,000 at 10x needs 60,000 USDT of initial margin: 53,000 USDT short.
    dialog = open_trade(qtbot, one_account(10_000), "10", "60000", "10")
    assert dialog.margin is not None and dialog.margin.needed == pytest.approx(60_000)
    assert not dialog.apply_real_button.isEnabled()
    reason = (
        "The exchange would refuse this trade: it needs 60,000.00 USDT of initial margin and the account has "
        "7,000.00 USDT available (53,000.00 USDT short)."
    )
    assert dialog.apply_real_button.toolTip() == f"Apply as real is refused. {reason}"
    assert dialog.apply_hypothetical_button.isEnabled()
    assert reason in dialog.note.text()
    assert row(dialog, "Available balance")[1:] == ["7,000.00 USDT", "0.00 USDT: short by 53,000.00 USDT"]
    type_into(qtbot, dialog.edits["contracts"], "1")  # 6,000 USDT: fits in the 7,000 free
    assert dialog.apply_real_button.isEnabled() and "refuse" not in dialog.note.text()


def test_a_price_far_from_the_mark_asks_before_it_is_applied(qtbot, monkeypatch):
    answers = []

    def answer(*args, **kwargs):
        answers.append(args[2])
        return reply

    monkeypatch.setattr(QMessageBox, "question", answer)
    dialog = open_trade(qtbot, one_account(100_000), "0.1", "70000", "10")  # 16.7% above the 60,000 mark
    assert "The trade price is 16.7% above the mark (more than 10%)" in dialog.note.text()
    reply = QMessageBox.StandardButton.No
    click(qtbot, dialog.apply_real_button)
    assert dialog.result_book is None and dialog.isVisible()
    assert "16.7% above the current mark" in answers[0]
    reply = QMessageBox.StandardButton.Yes
    click(qtbot, dialog.apply_real_button)
    assert dialog.result_kind == "real"
    assert dialog.result_book.positions[-1].entry_price == 70_000


def test_a_price_near_the_mark_is_applied_without_asking(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked for a price near the mark"))
    dialog = open_trade(qtbot, one_account(100_000), "0.1", "64000", "10")  # 6.7% above
    click(qtbot, dialog.apply_real_button)
    assert dialog.result_kind == "real"


@pytest.fixture
def saved_window(qtbot, tmp_path):
    """The saved-book window on the demo book, offline, and its database file."""
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window, database_path(str(tmp_path))
    window.close()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 100_000 + "]" * 100_000, "the JSON is nested too deeply"),
        (
            '{"accounts": [{"name": "a", "exchange": "binanceusdm", "wallet_balance": 1}], '
            '"positions": [], "pric": {}}',
            "'pric' is not a field of a portfolio file; did you mean 'prices'?",
        ),
    ],
)
def test_file_import_in_the_window_says_what_is_wrong_and_changes_nothing(
    qtbot, saved_window, tmp_path, monkeypatch, text, expected
):
    window, db_file = saved_window
    path = tmp_path / "files" / "hostile.json"
    path.parent.mkdir()
    before = saved_text(db_file)
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, message: shown.append(message))
    path.write_text(text, encoding="utf-8")
    window.actions_.import_portfolio(str(path))
    assert len(shown) == 1 and shown[0].startswith("Nothing was imported:")
    assert expected in shown[0]
    assert saved_text(db_file) == before


def test_importing_a_book_no_feed_can_price_says_so_before_it_replaces_the_book(
    qtbot, saved_window, tmp_path, monkeypatch
):
    window, _ = saved_window
    path = tmp_path / "dydx.json"
    path.write_text(
        '{"accounts": [{"name": "perps", "exchange": "dydx", "wallet_balance": 1000, "currency": "USDC"}], '
        '"positions": []}',
        encoding="utf-8",
    )
    asked: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda _p, _t, text: asked.append(text) or QMessageBox.StandardButton.No
    )
    window.actions_.import_portfolio(str(path))
    assert asked == [
        "Replace the whole book with dydx.json (1 accounts, 0 positions)?\n\n"
        "dydx offers no public price method in ccxt: type its prices by hand (Prices dock, or 'prices' in the "
        "portfolio file)"
    ]
