"""Editing the book from the window: what-if trades, the hypothetical toggle, offline prices, the shock
preview and file import, each saved (or not) exactly as the user chose."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop.app import WindowOptions, build_window, demo_portfolio
from desktop.dialogs.whatif_dialog import WhatIfDialog
from desktop.tables.position_columns import SOURCE_COLUMN
from engine.book.portfolio import dumps_portfolio
from engine.margin.model import MarginMode
from engine.margin.risk import evaluate_book
from engine.market.prices import Shock
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path


@pytest.fixture
def saved_window(qtbot, tmp_path):
    """The saved-book window on the demo book, offline (manual prices), with its database."""
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window, database_path(str(tmp_path))
    window.close()


def saved_text(db_file) -> str:
    with BookDatabase.open(db_file) as db:
        return dumps_portfolio(db.load())


def select_position(window, symbol: str, side: str) -> int:
    """Make the position the table's current row; returns its index in the book."""
    book = window.portfolio.book
    index = next(i for i, p in enumerate(book.positions) if p.symbol == symbol and p.side.value == side)
    row = next(i for i, r in enumerate(window.model._rows) if r.position is book.positions[index])
    view_index = window.model.view_index(row, 0)
    window.table.selectionModel().setCurrentIndex(
        view_index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    return index


def with_dialog(qtbot, act) -> None:
    """Run `act(dialog)` on the modal dialog the next action opens."""

    def find():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(20, find)
            return
        act(dialog)

    QTimer.singleShot(20, find)


def answer_message_box(button: QMessageBox.StandardButton) -> None:
    def find():
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, find)
            return
        box.button(button).click()

    QTimer.singleShot(20, find)


def test_cancel_leaves_the_saved_book_byte_identical(qtbot, saved_window):
    window, db_file = saved_window
    before = saved_text(db_file)
    select_position(window, "ETH/USDT:USDT", "long")

    def type_and_cancel(dialog: WhatIfDialog):
        qtbot.keyClicks(dialog.edits["contracts"], "5")
        dialog.cancel_button.click()

    with_dialog(qtbot, type_and_cancel)
    window.actions_.whatif.trigger()
    assert saved_text(db_file) == before
    assert dumps_portfolio(window.portfolio) == before


def test_a_hypothetical_trade_is_saved_flagged_and_the_toggle_takes_it_out_of_every_figure(qtbot, saved_window):
    window, db_file = saved_window
    real_equity = {
        a.account.name: a.equity
        for a in evaluate_book(window.portfolio.book.without_hypothetical(), window.book_host.real_marks()).accounts
    }
    before = len(window.portfolio.book.positions)
    index = select_position(window, "ETH/USDT:USDT", "long")
    assert window.portfolio.book.positions[index].margin_mode is MarginMode.CROSS

    def add_hypothetically(dialog: WhatIfDialog):
        dialog.actions["add"].click()
        qtbot.keyClicks(dialog.edits["contracts"], "6")
        qtbot.waitUntil(dialog.apply_hypothetical_button.isEnabled)
        dialog.apply_hypothetical_button.click()

    with_dialog(qtbot, add_hypothetically)
    window.actions_.whatif.trigger()
    book = window.portfolio.book
    assert len(book.positions) == before + 1
    added = book.positions[-1]
    assert added.hypothetical and added.symbol == "ETH/USDT:USDT" and added.contracts == 6
    with BookDatabase.open(db_file) as db:  # saved as hypothetical
        assert db.load().book.positions[-1] == added
    shown = sum(1 for r in window.model._rows if r.position.hypothetical)
    assert shown == sum(p.hypothetical for p in book.positions)

    window.actions_.hypothetical.trigger()  # exclude every hypothetical position
    assert not any(r.position.hypothetical for r in window.model._rows)
    for a in window.session.frame.shown.accounts:
        assert a.equity == pytest.approx(real_equity[a.account.name], rel=1e-12)
    window.actions_.hypothetical.trigger()
    assert any(r.position is added for r in window.model._rows)


def test_offline_a_typed_price_recomputes_the_book_without_network(qtbot, saved_window):
    window, _ = saved_window
    assert window.sources.offline and not window.sources.feeds
    key = ("binanceusdm", "SOL/USDT:USDT")
    model = window.prices.model
    row = next(r for r in range(model.rowCount()) if model.index(r, 1).data() == "SOL/USDT:USDT")
    view = window.prices.view
    index = model.index(row, 2)
    view.setCurrentIndex(index)
    view.edit(index)
    editor = view.indexWidget(index)
    editor.selectAll()
    qtbot.keyClicks(editor, "150")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.store.quote(key).mark == 150.0)
    assert window.store.quote(key).mark == 150.0
    window.refresh()
    expected = evaluate_book(window.book, {**window.book_host.real_marks(), key: 150.0})
    sol = next(r for r in window.model._rows if r.position.symbol == "SOL/USDT:USDT")
    engine_sol = next(r for r in expected.positions if r.position.symbol == "SOL/USDT:USDT")
    assert sol.mark_price == 150.0
    assert sol.distance_to_liquidation == pytest.approx(engine_sol.distance_to_liquidation, rel=1e-12)


def test_a_minus_ten_percent_shock_moves_every_cross_position_as_the_engine_says_and_saves_nothing(qtbot, saved_window):
    window, db_file = saved_window
    before_saved = saved_text(db_file)
    real = window.book_host.real_marks()
    alerts_before = len(window.alerts)
    window.prices.spin.setFocus()
    window.prices.spin.selectAll()
    qtbot.keyClicks(window.prices.spin, "-10")
    qtbot.keyClick(window.prices.spin, Qt.Key.Key_Return)
    assert window.session.shock == Shock(all_symbols=-0.1)
    expected = evaluate_book(window.book, {k: v * 0.9 for k, v in real.items()})
    cross = [r for r in window.model._rows if r.position.margin_mode is MarginMode.CROSS]
    assert cross
    for r in cross:
        e = next(x for x in expected.positions if x.position is r.position)
        assert r.mark_price == pytest.approx(e.mark_price, rel=1e-12)
        assert r.unrealized_pnl == pytest.approx(e.unrealized_pnl, rel=1e-9, abs=1e-9)
        if e.liquidation_price is None:
            assert r.liquidation_price is None
        else:
            assert math.isclose(r.liquidation_price, e.liquidation_price, rel_tol=1e-9)
    sources = {window.model.row_text(i)[SOURCE_COLUMN] for i in range(window.model.rowCount())}
    assert all(s.startswith("SHOCKED") for s in sources)
    assert saved_text(db_file) == before_saved
    assert window.book_host.real_marks() == real
    assert len(window.alerts) == alerts_before  # a preview raises no alert
    window.prices.reset_button.click()
    assert window.session.shock is None
    assert not any(
        window.model.row_text(i)[SOURCE_COLUMN].startswith("SHOCKED") for i in range(window.model.rowCount())
    )


def test_importing_a_bad_csv_changes_nothing_and_names_every_bad_row(qtbot, saved_window, tmp_path):
    window, db_file = saved_window
    before = saved_text(db_file)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "account,symbol,side,contracts,entry_price,margin_mode,leverage,isolated_margin,hypothetical,note\n"
        "Binance main,ETH/USDT:USDT,long,2,3000,cross,10,,false,\n"
        "Nobody,ETH/USDT:USDT,long,2,3000,cross,10,,false,\n"
        "Binance main,ETH/USDT:USDT,long,-1,3000,cross,10,,false,\n",
        encoding="utf-8",
    )
    answer_message_box(QMessageBox.StandardButton.Ok)
    window.actions_.import_csv_file(str(bad))
    assert "line 3, account" in window.book_host.last_import_error
    assert "line 4, contracts" in window.book_host.last_import_error
    assert saved_text(db_file) == before
    assert dumps_portfolio(window.portfolio) == before


def test_deleting_a_position_asks_then_saves(qtbot, saved_window):
    window, db_file = saved_window
    count = len(window.portfolio.book.positions)
    select_position(window, "DOGE/USDT:USDT", "long")
    answer_message_box(QMessageBox.StandardButton.No)
    window.actions_.delete.trigger()
    assert len(window.portfolio.book.positions) == count
    answer_message_box(QMessageBox.StandardButton.Yes)
    window.actions_.delete.trigger()
    assert len(window.portfolio.book.positions) == count - 1
    with BookDatabase.open(db_file) as db:
        assert not any(p.symbol == "DOGE/USDT:USDT" for p in db.load().book.positions)
    assert window.model.rowCount() == count - 1


def test_going_offline_keeps_the_last_simulated_prices_as_manual_ones(qtbot, tmp_path):
    window = build_window(WindowOptions(demo=True, data_dir=str(tmp_path)))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.store.quote(window.book.price_keys()[0]) is not None)
    window.offline_action.trigger()
    assert window.sources.offline and not window.sources.feeds
    assert all(window.store.quote(k).source.value == "manual" for k in window.book.price_keys())
    answer_message_box(QMessageBox.StandardButton.No)
    window.offline_action.trigger()  # back online, keeping the manual prices
    assert not window.sources.offline and window.sources.feeds
    assert all(window.store.quote(k).source.value == "manual" for k in window.book.price_keys())
    window.close()
    assert all(not f._thread.is_alive() for f in window.sources.feeds)


def test_a_new_position_typed_into_the_form_is_saved_and_shown_with_the_engines_numbers(qtbot, saved_window):
    from tests.desktop.test_position_form import fill

    window, db_file = saved_window
    count = len(window.portfolio.book.positions)

    def type_position(form):
        fill(
            qtbot,
            form,
            {
                "account": "Binance main",
                "symbol": "BNB/USDT:USDT",
                "contracts": "10",
                "entry_price": "600",
                "leverage": "10",
            },
        )
        qtbot.waitUntil(form.ok_button.isEnabled)
        form.ok_button.click()

    window.store.set_manual(("binanceusdm", "BNB/USDT:USDT"), 590.0)  # the user's price for the new symbol
    with_dialog(qtbot, type_position)
    window.actions_.new_position.trigger()
    assert len(window.portfolio.book.positions) == count + 1
    with BookDatabase.open(db_file) as db:
        saved = db.load().book.positions[-1]
    assert (saved.symbol, saved.contracts, saved.entry_price, saved.leverage) == ("BNB/USDT:USDT", 10, 600, 10)
    shown = next(r for r in window.model._rows if r.position.symbol == "BNB/USDT:USDT")
    expected = evaluate_book(window.book, window.book_host.real_marks())
    engine = next(r for r in expected.positions if r.position.symbol == "BNB/USDT:USDT")
    assert shown.mark_price == 590.0
    assert shown.unrealized_pnl == pytest.approx(engine.unrealized_pnl, rel=1e-12) == (590.0 - 600.0) * 10
    if engine.liquidation_price is None:
        assert shown.liquidation_price is None
    else:
        assert shown.liquidation_price == pytest.approx(engine.liquidation_price, rel=1e-12)


def test_a_mark_typed_into_the_positions_table_becomes_a_manual_price_and_bad_text_is_refused(qtbot, saved_window):
    from desktop.tables.position_columns import MARK_COLUMN, SYMBOL_COLUMN

    window, _ = saved_window
    key = ("binanceusdm", "DOGE/USDT:USDT")
    model = window.table.model()
    row = next(r for r in range(model.rowCount()) if model.index(r, SYMBOL_COLUMN).data() == "DOGE/USDT:USDT")
    index = model.index(row, MARK_COLUMN)

    def type_mark(text: str) -> None:
        window.table.setCurrentIndex(index)
        window.table.edit(index)
        editor = window.table.indexWidget(index)
        editor.selectAll()
        qtbot.keyClicks(editor, text)
        qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.table.indexWidget(index) is None)

    before = window.store.quote(key).mark
    type_mark("-3")
    assert window.store.quote(key).mark == before
    assert "greater than 0" in window.statusBar().currentMessage()
    type_mark("0.149")
    assert window.store.quote(key).mark == 0.149
    doge = next(r for r in window.model._rows if r.position.symbol == "DOGE/USDT:USDT")
    assert doge.mark_price == 0.149
