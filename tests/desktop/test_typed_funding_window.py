"""A funding rate typed in the window (Position ▸ Funding rate…): refused in words where it is typed, shown with
source 'typed' in the Funding column, saved with the book, back after a restart, and removable."""

from __future__ import annotations

import pytest

from desktop.app import WindowOptions, build_window, demo_portfolio
from desktop.dialogs.funding_rate_dialog import FundingRateDialog
from engine.book.funding_fields import FileFunding
from engine.funding.rates import FundingRate, RateSource
from engine.storage.database import BookDatabase
from engine.storage.paths import database_path
from tests.desktop.test_book_editing import select_position, with_dialog
from tests.desktop.typing_helpers import retype

ETH = "ETH/USDT:USDT"
KEY = ("binanceusdm", ETH)


def open_window(qtbot, tmp_path):
    window = build_window(WindowOptions(data_dir=str(tmp_path), offline=True))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def data_dir(tmp_path):
    with BookDatabase.open(database_path(str(tmp_path))) as db:
        db.import_portfolio(demo_portfolio())
    return tmp_path


def _cell(window, row: int) -> str:
    from desktop.tables.position_columns import COLUMNS

    column = next(i for i, c in enumerate(COLUMNS) if c.title == "Funding")
    return window.model.view_index(row, column).data()


def eth_funding(window) -> str:
    row = next(
        i for i, r in enumerate(window.model._rows) if r.position.symbol == ETH and r.position.side.value == "long"
    )
    return _cell(window, row)


def test_a_typed_rate_is_checked_as_typed_shown_as_typed_saved_and_removable(qtbot, data_dir):
    window = open_window(qtbot, data_dir)
    assert eth_funding(window) == "none"
    select_position(window, ETH, "long")
    seen = {}

    def type_rate(dialog: FundingRateDialog):
        retype(qtbot, dialog.rate, "150")
        seen["refused"] = (dialog.problem.isVisible(), dialog.problem.text(), dialog.save_button.isEnabled())
        retype(qtbot, dialog.rate, "1e-400")
        seen["underflow"] = (dialog.problem.text(), dialog.save_button.isEnabled())
        retype(qtbot, dialog.rate, "0.02")
        retype(qtbot, dialog.hours, "30")
        seen["hours"] = dialog.problem.text()
        retype(qtbot, dialog.hours, "4")
        seen["ok"] = (dialog.problem.isVisible(), dialog.save_button.isEnabled())
        dialog.save_button.click()

    with_dialog(qtbot, type_rate)
    window.actions_.funding_rate.action.trigger()
    visible, text, enabled = seen["refused"]
    assert visible and not enabled and "between -100% and 100%" in text and ETH in text
    assert "to 24 hours, not 30" in seen["hours"]
    assert "1e-400 is too small to store (it reads as 0)" in seen["underflow"][0] and not seen["underflow"][1]
    assert seen["ok"] == (False, True)
    assert eth_funding(window) == "0.0200%/4h · typed"
    assert "funding rate 0.0200%/4h · typed" in window.statusBar().currentMessage()
    with BookDatabase.open(database_path(str(data_dir)), read_only=True) as db:
        assert db.typed_funding() == {KEY: FileFunding(pytest.approx(0.0002), 4.0)}
    window.close()

    again = open_window(qtbot, data_dir)
    assert eth_funding(again) == "0.0200%/4h · typed"
    select_position(again, ETH, "long")

    def remove(dialog: FundingRateDialog):
        seen["prefilled"] = (dialog.rate.text(), dialog.hours.text(), dialog.in_use.text())
        dialog.remove_button.click()

    with_dialog(qtbot, remove)
    again.actions_.funding_rate.action.trigger()
    assert seen["prefilled"] == ("0.02", "4", "In use: 0.0200%/4h · typed")
    assert eth_funding(again) == "none"
    with BookDatabase.open(database_path(str(data_dir)), read_only=True) as db:
        assert db.typed_funding() == {}
    again.close()


def test_a_fresh_exchange_rate_wins_over_a_typed_one_and_the_status_says_so(qtbot, data_dir):
    window = open_window(qtbot, data_dir)
    now = window.session.clock()
    window.store.funding.publish([FundingRate("binanceusdm", ETH, 0.0001, 8.0, None, now, RateSource.EXCHANGE)])
    line = window.actions_.funding_rate.set_rate(KEY, FileFunding(0.0005, None))
    assert "typed funding rate kept; the exchange's 0.0100%/8h is used while fresh" in line
    assert eth_funding(window) == "0.0100%/8h"
    window.close()


def test_a_typed_minus_zero_is_shown_as_zero(qtbot, data_dir):
    window = open_window(qtbot, data_dir)
    select_position(window, ETH, "long")

    def type_zero(dialog: FundingRateDialog):
        retype(qtbot, dialog.rate, "-0")
        dialog.save_button.click()

    with_dialog(qtbot, type_zero)
    window.actions_.funding_rate.action.trigger()
    assert eth_funding(window).startswith("0.0000%/")  # not '-0.0000%/8h · typed'
    window.close()
