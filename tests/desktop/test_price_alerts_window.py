"""Price alerts in the window (issue 18): the dialog (add, edit, delete, checked as typed), Alerts ▸ Price alerts…,
"Alert me at a price…" on a position row and a prices-dock row, the alerts in the dock, and the rules saved with
the book."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from desktop.app import WindowOptions, build_window, demo_portfolio
from desktop.dialogs.price_alerts_dialog import PriceAlertsDialog
from engine.book.price_alert_rules import Direction, PriceAlert
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path

BTC = ("binanceusdm", "BTC/USDT:USDT")
ETH = ("binanceusdm", "ETH/USDT:USDT")
GHOST = ("kraken", "XBT/USD:USD")
MARKS = {BTC: 92_480.5, ETH: 3_214.3}


def dialog_on(qtbot, qtmodeltester, rules=(), prefill=None) -> PriceAlertsDialog:
    dialog = PriceAlertsDialog(list(rules), [BTC, ETH], MARKS, prefill=prefill)
    qtbot.addWidget(dialog)
    qtmodeltester.check(dialog.model)
    return dialog


def type_price(qtbot, dialog: PriceAlertsDialog, text: str) -> None:
    dialog.price.selectAll()
    dialog.price.del_()
    qtbot.keyClicks(dialog.price, text)


def test_a_bad_price_is_said_beside_the_field_and_nothing_is_added(qtbot, qtmodeltester):
    dialog = dialog_on(qtbot, qtmodeltester, prefill=ETH)
    assert dialog.key() == ETH and dialog.mark.text() == "mark now: 3,214.30 USDT"
    type_price(qtbot, dialog, "-5")
    assert dialog.price_problem.text() == "'price' must be a price greater than 0 (got -5)"
    assert not dialog.add() and dialog.model.rowCount() == 0
    type_price(qtbot, dialog, "3k")
    assert "is not a number" in dialog.price_problem.text()
    assert not dialog.add() and dialog.model.rowCount() == 0


def test_rules_are_added_edited_and_deleted_and_ok_hands_them_over(qtbot, qtmodeltester):
    dialog = dialog_on(qtbot, qtmodeltester)
    type_price(qtbot, dialog, "85,000")  # below the mark now: the direction follows
    assert dialog.price_problem.text() == "" and dialog.chosen_direction() is Direction.BELOW
    qtbot.keyClicks(dialog.note, "add margin")
    assert dialog.add()
    assert dialog.model.rules == [PriceAlert(*BTC, Direction.BELOW, 85_000.0, "add margin")]
    assert dialog.model.index(0, 3).data() == "92,480.50 USDT"
    dialog.table.selectRow(0)
    type_price(qtbot, dialog, "99000")
    assert dialog.chosen_direction() is Direction.BELOW  # an existing rule's direction is kept as chosen
    dialog.direction.setCurrentIndex(dialog.direction.findData("above"))
    assert dialog.save_selected()
    assert dialog.model.rules == [PriceAlert(*BTC, Direction.ABOVE, 99_000.0, "add margin")]
    dialog.symbol.setCurrentIndex(dialog.keys.index(ETH))
    dialog.symbol.activated.emit(dialog.keys.index(ETH))  # as a user's pick: the direction follows the price again
    type_price(qtbot, dialog, "3000")
    dialog.note.clear()
    assert dialog.add() and dialog.model.rowCount() == 2
    dialog.table.selectRow(0)
    dialog.delete_selected()
    assert [r.key for r in dialog.model.rules] == [ETH]
    qtmodeltester.check(dialog.model)
    dialog._accept()
    assert dialog.result_rules == [PriceAlert(*ETH, Direction.BELOW, 3_000.0)]


def test_after_add_the_next_rules_direction_follows_its_price_again(qtbot, qtmodeltester):
    dialog = dialog_on(qtbot, qtmodeltester)
    type_price(qtbot, dialog, "100000")  # above the mark of 92,480.50
    assert dialog.add()
    type_price(qtbot, dialog, "85000")  # below it: the next rule must not inherit 'above'
    assert dialog.add()
    assert [(r.direction, r.price) for r in dialog.model.rules] == [
        (Direction.ABOVE, 100_000.0),
        (Direction.BELOW, 85_000.0),
    ]
    assert not dialog.save_button.isEnabled()  # no row is being edited


def test_a_rule_on_a_symbol_without_a_price_says_so(qtbot, qtmodeltester):
    dialog = dialog_on(qtbot, qtmodeltester, rules=[PriceAlert(*GHOST, Direction.ABOVE, 100_000.0)])
    assert dialog.model.index(0, 3).data() == "no price"
    dialog.table.selectRow(0)
    assert dialog.key() == GHOST and dialog.mark.text() == "mark now: no price"


def saved_window(qtbot, tmp_path):
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        if db.is_empty():
            db.import_portfolio(demo_portfolio())
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    return window


def test_a_rule_already_crossed_alerts_in_the_dock_and_the_rules_come_back_after_a_restart(qtbot, tmp_path):
    window = saved_window(qtbot, tmp_path)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Alerts")
    assert [a.text() for a in menu.actions()] == ["&Price alerts…"]
    rule = PriceAlert(*BTC, Direction.BELOW, 95_000.0)
    assert window.price_alerts.apply([rule])
    (alert,) = [a for a in window.alerts if a.kind == "price"]
    assert alert.line() == "BTC/USDT:USDT on binanceusdm is already below 95,000.00 USDT, mark 92,480.50"
    assert window.alert_list.item(0).text().endswith(alert.line())
    window.refresh()
    assert len([a for a in window.alerts if a.kind == "price"]) == 1  # once
    window.close()

    again = saved_window(qtbot, tmp_path)
    assert again.session.price_alerts.rules == (rule,)
    assert any(
        "is already below 95,000.00 USDT" in again.alert_list.item(i).text() for i in range(again.alert_list.count())
    )
    again.close()


def test_alert_me_at_a_price_opens_the_dialog_on_the_rows_symbol(qtbot, tmp_path, monkeypatch):
    window = saved_window(qtbot, tmp_path)
    opened = []

    def exec_(dialog):
        opened.append(dialog.key())
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(PriceAlertsDialog, "exec", exec_)
    assert window.price_alerts.position_action in window.table.actions()
    window.table.selectRow(0)
    shown = window.book_host.selected_positions()[0]
    p = window.book.positions[shown]
    window.price_alerts.position_action.trigger()
    window.prices_dock.show()
    window.prices_dock.shown.emit()
    view = window.prices.view
    view.selectRow(1)
    assert window.price_alerts.prices_action in view.actions()
    window.price_alerts.prices_action.trigger()
    assert opened == [(window.book.account(p.account).exchange, p.symbol), window.prices.model.keys[1]]
    assert window.session.price_alerts.rules == ()  # cancelled: nothing changed
    window.close()


def test_control_characters_and_bidi_overrides_in_a_note_are_shown_escaped(qtbot, qtmodeltester):
    hostile = PriceAlert(*BTC, Direction.BELOW, 85_000.0, "\x1b[2Jwipe \u202eevil")
    dialog = dialog_on(qtbot, qtmodeltester, rules=[hostile])
    note = dialog.model.index(0, 4).data()
    assert note == "\\x1b[2Jwipe \\u202eevil"  # as `watch` prints it (engine.book.safe_text.printable)
    dialog.table.selectRow(0)
    dialog.save_selected()
    assert dialog.model.rules == [hostile]  # the note itself is kept as typed
